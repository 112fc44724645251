import { describe, expect, it, vi } from 'vitest';
import { Hono } from 'hono';
import { fallbackLine } from '../../src/lazy-log.ts';
import { onUnhandled } from '../../src/http/hardening.ts';

/** What was written to stdout while `run` ran, line by line. */
function stdoutOf(run: () => unknown): string[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return written.join('').split('\n').filter((l) => l !== '');
}

describe('a line written where no logger is at hand', () => {
  it('is one JSON line as pino writes it, even for fields JSON cannot hold', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const lines = stdoutOf(() => {
      fallbackLine('warn', { thread: 'http', n: 2 }, 'plain');
      fallbackLine('error', { thread: 'http', circular }, 'odd fields');
    });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { level: 40, time: expect.any(Number), thread: 'http', n: 2, msg: 'plain' },
      { level: 50, time: expect.any(Number), msg: 'odd fields' },
    ]);
  });

  it('an unhandled error in an app with no logger answers 500 and logs JSON, never plain text', async () => {
    const app = new Hono();
    app.onError(onUnhandled(undefined));
    app.get('/boom', () => { throw new Error('boom'); });
    let res!: Response;
    const lines = stdoutOf(() => { res = app.request('/boom') as Response; });
    expect(res.status).toBe(500);
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ level: 50, time: expect.any(Number), err: 'boom', path: '/boom', msg: 'http: unhandled error' }]);
  });
});
