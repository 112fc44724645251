import { afterEach, describe, expect, it } from 'vitest';
import { startHarness } from './store-harness.ts';

/**
 * Node's HTTP parser calls the HTTP thread's request listener: an exception out of it would end the thread from
 * inside the parser, which can abort the whole process (HttpThread.drop). A bug there answers its request 500.
 */
describe('a request whose listener throws', () => {
  let h: Awaited<ReturnType<typeof startHarness>> | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('answers 500 in the envelope, and the thread goes on serving', async () => {
    h = await startHarness(['tasks']);
    // the listener's first read of the thread's state throws, once: a bug on the way to an answer
    let broken = true;
    Object.defineProperty(h.http, 'closing', {
      configurable: true,
      get() {
        if (!broken) return false;
        broken = false;
        throw new Error('boom');
      },
      // (close sets it)
      set(value: boolean) {
        Object.defineProperty(this, 'closing', { value, writable: true });
      },
    });
    const failed = await h.send('/api/v2/runtime/state');
    expect(failed.status).toBe(500);
    expect(failed.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(failed.body)).toEqual({ success: false, message: 'internal error', data: null });
    expect((await h.send('/healthz')).status).toBe(200);
  });
});
