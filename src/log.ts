import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout. Secrets never reach here: callers pass redacted values. */
export function createLogger(level: string, name = 'market-runtime'): Logger {
  return pino({
    name,
    level,
    base: { pid: process.pid },
    redact: { paths: ['databaseUrl', 'apiToken', 'token', 'password', '*.password'], censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export type { Logger };
