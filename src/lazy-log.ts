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
    // a logger that cannot load must not take the thread down with an unhandled rejection: a hand-made line instead
    logger.then((l) => l[level](obj, msg), (err: Error) => fallbackLine(level, { thread, ...obj, logger_error: err.message }, msg));
  }) as RareLogger[typeof level];
  return { error: line('error'), warn: line('warn') };
}

const LEVELS = { error: 50, warn: 40 } as const;

/**
 * One log line as pino writes it (level number, time, fields, msg), for where no logger is at hand: nothing
 * but JSON lines reaches stdout, even then.
 */
export function fallbackLine(level: keyof typeof LEVELS, fields: object, msg?: string): void {
  let line: string;
  try {
    line = JSON.stringify({ level: LEVELS[level], time: Date.now(), ...fields, msg });
  } catch {
    line = JSON.stringify({ level: LEVELS[level], time: Date.now(), msg });
  }
  process.stdout.write(`${line}\n`);
}
