import { lazyThreadLogger, type RareLogger } from './lazy-log.ts';

/**
 * Process warnings (MaxListenersExceededWarning, deprecations …) as JSON log lines. Node prints them as plain
 * text to stderr, from every thread, and the main thread's handler does not see a worker's: each thread sets
 * this up first, the main thread with its logger, a worker with one that loads pino on its first line.
 */
export function logWarningsAsJson(thread: string | RareLogger): void {
  const log = typeof thread === 'string' ? lazyThreadLogger(thread) : thread;
  process.removeAllListeners('warning');
  process.on('warning', (w) => log.warn({ warning: w.message, kind: w.name }, 'process warning'));
}
