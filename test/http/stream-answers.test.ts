/**
 * What a new change-stream client is answered, through the HTTP thread's real code and a real store actor:
 * with CORS configured, the stream's own head carries the CORS headers and the stream runs (Hono's CORS
 * middleware once made @hono/node-server write the head again: an ERR_HTTP_HEADERS_SENT stack on stderr and
 * a cut stream); a store that does not answer gets the client a 503 it can retry, never a 200 then nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORE_UNAVAILABLE } from '../../src/http/rebuilding.ts';
import { eventually } from '../helpers/sidecar.ts';
import { openStream } from '../helpers/sse.ts';
import { app, startHarness } from './store-harness.ts';
import { API } from '../reliability/helpers.ts';
import { capturePrinted } from '../helpers/printed.ts';

const ORIGIN = 'https://market.example.com';

describe.each([
  ['one listed origin', [ORIGIN], ORIGIN],
  ['any origin', ['*'], '*'],
])('the change stream with CORS (%s)', (_what, corsOrigins, allowed) => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  const capture = capturePrinted();
  const printed = capture.printed;
  beforeAll(async () => {
    capture.start();
    h = await startHarness(['app_flow'], { security: { corsOrigins } });
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    await h.settled(true);
  });
  afterAll(async () => {
    capture.stop();
    await h?.close();
  });

  it('sends the CORS headers on its head, then its snapshot and every change, and prints nothing', async () => {
    for (const target of [`${API}/events`, `${API}/events?user_id=alice`, `${API}/events?view=summary`]) {
      const stream = await openStream(`http://127.0.0.1:${h.port}${target}`, { Origin: ORIGIN });
      expect(stream.res.status, target).toBe(200);
      expect(stream.res.headers.get('access-control-allow-origin'), target).toBe(allowed);
      expect(stream.res.headers.get('access-control-expose-headers'), target).toContain('ETag');
      // a cache between must not give one origin's stream head to another (as every other answer, HEAD included)
      expect(stream.res.headers.get('vary'), target).toBe(allowed === '*' ? null : 'Origin');
      expect(stream.res.headers.get('content-type'), target).toMatch(/^text\/event-stream/);
      await stream.next((e) => e.event === 'snapshot');
      h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki'), app('alice', 'market', `blog-${target.length}`)] }]);
      const change = await stream.next((e) => e.event === 'change');
      expect(change.data, target).toContain('"version"');
      expect(stream.ended, target).toBe(false);
      await stream.close();
    }
    const head = await h.send(`${API}/events`, 'HEAD', { Origin: ORIGIN });
    expect(head.status).toBe(200);
    expect(head.headers['access-control-allow-origin']).toBe(allowed);
    expect(head.headers.vary).toBe(allowed === '*' ? undefined : 'Origin');
    expect(printed.join('')).toBe('');
  });
});

describe('a new stream client while the store does not answer', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow'], { security: { corsOrigins: [ORIGIN] } });
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    await h.settled(true);
  });
  afterAll(() => h?.close());

  it('gets 503 with Retry-After in the envelope (CORS headers kept), not a 200 and then nothing', async () => {
    const actor = h.store as unknown as { answer: (...a: unknown[]) => unknown };
    const answer = actor.answer;
    // the store hangs: its query answers never come (the HTTP thread gives up after its call deadline)
    actor.answer = () => new Promise(() => {});
    try {
      const res = await fetch(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`, { headers: { Origin: ORIGIN } });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(await res.json()).toEqual({ success: false, message: STORE_UNAVAILABLE, data: null });
      expect(h.http.stream.size).toBe(0);
    } finally {
      actor.answer = answer;
    }
    // the store was silent through a whole deadline: queries are answered 503 at once, without waiting for
    // it, until it is heard again (the ping the next request sends); then the stream runs again
    // (the store answers again by now: a 503 here says the HTTP thread did not ask it, not that it waited)
    const again = await fetch(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`);
    expect(again.status).toBe(503);
    await again.body?.cancel();
    // (a client retries its 503s: within the liveness bound the store is heard again)
    const stream = await eventually(async () => {
      const s = await openStream(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`);
      if (s.res.status !== 200) {
        await s.close();
        throw new Error(`stream answered ${s.res.status}`);
      }
      return s;
    });
    await stream.next((e) => e.event === 'snapshot');
    await stream.close();
  });

  it('HEAD on a filtered stream answers as its GET would: 503 while the store is silent, 200 once it is heard', async () => {
    const actor = h.store as unknown as { answer: (...a: unknown[]) => unknown; ping: () => unknown };
    const { answer, ping } = actor;
    // the store hangs, pings too: it stays silent once a call has waited out its deadline
    actor.answer = () => new Promise(() => {});
    actor.ping = () => new Promise(() => {});
    try {
      const get = await fetch(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`);
      expect(get.status).toBe(503);
      await get.body?.cancel();
      const head = await fetch(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`, { method: 'HEAD' });
      expect(head.status).toBe(503);
      expect(Number(head.headers.get('retry-after'))).toBeGreaterThan(0);
      // the unfiltered stream's snapshot is the version's body, not a question to the store
      expect((await fetch(`http://127.0.0.1:${h.port}${API}/events`, { method: 'HEAD' })).status).toBe(200);
    } finally {
      actor.answer = answer;
      actor.ping = ping;
    }
    await eventually(async () => {
      expect((await fetch(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`, { method: 'HEAD' })).status).toBe(200);
    });
  });

  it('HEAD answers as its GET would when the client limit is reached: 503 with Retry-After, then 200 once there is room', async () => {
    const stream = h.http.stream;
    const full = stream.full;
    stream.full = () => true;
    try {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`http://127.0.0.1:${h.port}${API}/events`, { method });
        expect(res.status, method).toBe(503);
        expect(res.headers.get('retry-after'), method).toBe('5');
        await res.body?.cancel();
      }
    } finally {
      stream.full = full;
    }
    expect((await fetch(`http://127.0.0.1:${h.port}${API}/events`, { method: 'HEAD' })).status).toBe(200);
  });
});
