import type { Logger } from './log.ts';

/** The lines a thread that rarely logs writes. */
export type RareLogger = Pick<Logger, 'error' | 'warn'>;

/**
 * A thread's logger that loads pino on its first line: a thread that logs only on rare paths (the HTTP
 * thread's unhandled errors, a collector that cannot lower its priority) does not carry ~2 MiB of logger
 * from its start. Lines keep their order (one chain).
 */
export function lazyThreadLogger(thread: string): RareLogger {
  let logger: Promise<Logger> | undefined;
  const line = (level: 'error' | 'warn') => ((obj: object, msg?: string) => {
    logger ??= import('./log-thread.ts').then(({ threadLogger }) => threadLogger(thread));
    // a logger that cannot load must not take the thread down with an unhandled rejection: stderr instead
    logger.then((l) => l[level](obj, msg), (err: Error) => console.error(`${thread}: ${msg ?? ''} (logger unavailable: ${err.message})`));
  }) as RareLogger[typeof level];
  return { error: line('error'), warn: line('warn') };
}
