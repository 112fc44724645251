import { isMainThread, workerData } from 'node:worker_threads';
import { createLogger, type Logger } from './log.ts';
import type { ThreadInit } from './protocol.ts';

export function threadInit(level: string): ThreadInit {
  return { logLevel: level };
}

/**
 * The logger of a worker thread, at the level the supervisor passed in `workerData` (LOG_LEVEL is read
 * once, by config.ts in the main thread). Lines carry the thread's name.
 */
export function threadLogger(thread: string, fallbackLevel = 'info'): Logger {
  const data = (isMainThread ? null : workerData) as Partial<ThreadInit> | null;
  const level = typeof data?.logLevel === 'string' ? data.logLevel : fallbackLevel;
  return createLogger(level).child({ thread });
}
