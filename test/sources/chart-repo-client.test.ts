import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { ChartRepoError, createChartRepoAgent, fetchChartRepoBody, parseChartRepoJson } from '../../src/sources/chart-repo-client.ts';
import type { ChartRepoRequest } from '../../src/sources/chart-repo-client.ts';
import { closedPort, envelope, startFakeChartRepo } from './fake-chart-repo.ts';
import type { FakeChartRepo } from './fake-chart-repo.ts';

let repo: FakeChartRepo;
beforeAll(async () => { repo = await startFakeChartRepo(); });
afterAll(async () => { await repo.close(); });

/** A generous timeout: only the tests about timeouts set a tight one (a loaded 2-core CI machine is slow). */
function get(user: string, extra: Partial<ChartRepoRequest> = {}) {
  return fetchChartRepoBody({ host: repo.host, user, source: 'market', timeoutMs: LIVENESS_MS, ...extra });
}

/** an answer's body parsed as the collector parses it */
const json = (answer: { body: Buffer }) => parseChartRepoJson(answer.body.toString('utf8'));

async function failure(p: Promise<unknown>): Promise<ChartRepoError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(ChartRepoError);
  return e as ChartRepoError;
}

describe('chart repo client', () => {
  it('answers the body of a good answer, with its size and latency', async () => {
    const body = envelope({ apps: [{ app_id: 'a1' }] });
    repo.set({ kind: 'json', body }, 'good', 'market');
    const res = await get('good');
    expect(res.body.toString('utf8')).toBe(JSON.stringify(body));
    expect(json(res)).toEqual(body);
    expect(res.bytes).toBe(JSON.stringify(body).length);
    expect(res.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('asks the status endpoint for one user and source, with apps, images and tasks', async () => {
    repo.set({ kind: 'json', body: envelope({}) }, 'al ice', 'market&1');
    await fetchChartRepoBody({ host: repo.host, user: 'al ice', source: 'market&1', timeoutMs: 5000 });
    const url = new URL(repo.urls.at(-1)!, 'http://x');
    expect(url.pathname).toBe('/chart-repo/api/v2/status');
    expect(Object.fromEntries(url.searchParams)).toEqual({ user: 'al ice', source: 'market&1', include: 'apps,images,tasks' });
  });

  it('returns JSON of the wrong shape unjudged (the normalizer decides)', async () => {
    repo.set({ kind: 'json', body: [1, 2, 3] }, 'shape', 'market');
    expect(json(await get('shape'))).toEqual([1, 2, 3]);
  });

  it.each([
    ['malformed JSON', '{"success": tru', 'not JSON: "{\\"success\\": tru"'],
    ['non-JSON text', '<html>busy</html>', 'not JSON: "<html>busy</html>"'],
  ])('fails on %s (when the body is parsed)', async (_name, body, message) => {
    repo.set({ kind: 'raw', body }, 'bad', 'market');
    const answer = await get('bad');
    expect(answer.body.toString('utf8')).toBe(body);
    const e = await failure(Promise.resolve().then(() => json(answer)));
    expect(e.kind).toBe('not_json');
    expect(e.message).toBe(message);
  });

  it('fails on HTTP 500 without reading the error body', async () => {
    repo.set({ kind: 'raw', status: 500, body: 'boom' }, 'err', 'market');
    const e = await failure(get('err'));
    expect(e.kind).toBe('http');
    expect(e.message).toBe('HTTP 500 Internal Server Error');
  });

  it('fails at the timeout when the server never answers', async () => {
    repo.set({ kind: 'hang' }, 'hang', 'market');
    const t0 = Date.now();
    const e = await failure(get('hang', { timeoutMs: 300 }));
    expect(e.message).toBe('timeout after 300 ms');
    // the message says the timer fired; the time only has to be short of "never" (a loaded machine is slow)
    expect(Date.now() - t0).toBeLessThan(LIVENESS_MS);
  });

  it('counts the body in the timeout: a body trickling one byte a second fails', async () => {
    repo.set({ kind: 'trickle' }, 'slow', 'market');
    const t0 = Date.now();
    const e = await failure(get('slow', { timeoutMs: 1500 }));
    expect(e.kind).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(LIVENESS_MS);
  });

  it('stops reading a 100 MB body (chunked, no length declared) at the 32 MiB cap', async () => {
    repo.set({ kind: 'huge', bytes: 100 * 1024 * 1024 }, 'huge', 'market');
    const before = repo.hugeBytesGenerated();
    const e = await failure(get('huge'));
    expect(e.kind).toBe('too_large');
    expect(e.message).toBe(`body too large: over ${32 * 1024 * 1024} bytes`);
    // what the server produced is the cap plus what sat in socket buffers, far from 100 MB
    expect(repo.hugeBytesGenerated() - before).toBeLessThan(48 * 1024 * 1024);
  });

  it('takes a smaller cap as an option', async () => {
    repo.set({ kind: 'huge', bytes: 100 * 1024 * 1024 }, 'huge', 'market');
    const before = repo.hugeBytesGenerated();
    const e = await failure(get('huge', { maxBodyBytes: 64 * 1024 }));
    expect(e.message).toBe('body too large: over 65536 bytes');
    expect(repo.hugeBytesGenerated() - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('fails clearly on a refused connection', async () => {
    const e = await failure(fetchChartRepoBody({ host: await closedPort(), user: 'u', source: 's', timeoutMs: 1000 }));
    expect(e.kind).toBe('refused');
    expect(e.message).toBe('connection refused');
  });

  it('still answers after the server dropped its idle keep-alive connections', async () => {
    repo.set({ kind: 'json', body: envelope({}) }, 'keep', 'alive');
    const ask = () => fetchChartRepoBody({ host: repo.host, user: 'keep', source: 'alive', timeoutMs: 1000 });
    for (let i = 0; i < 5; i++) {
      await ask();
      repo.dropConnections();
      expect(json(await ask())).toEqual(envelope({}));
    }
  });

  it('sends requests in sequence over one kept-alive connection', async () => {
    repo.set({ kind: 'json', body: envelope({}) }, 'seq', 'market');
    const agent = createChartRepoAgent(4);
    const before = repo.connections();
    for (let i = 0; i < 5; i++) await get('seq', { agent });
    expect(repo.connections() - before).toBe(1);
    agent.destroy();
  });

  it('sends the request again, once, when the server closed the kept-alive connection as it came', async () => {
    repo.set({ kind: 'first_only', body: envelope({ apps: [] }) }, 'race', 'market');
    const agent = createChartRepoAgent(1);
    await get('race', { agent });
    const before = repo.requests.length;
    expect(json(await get('race', { agent }))).toEqual(envelope({ apps: [] }));
    // the one the server closed the connection on, then the retry on a new connection
    expect(repo.requests.slice(before)).toEqual(['race/market', 'race/market']);
    agent.destroy();
  });

  it('does not send again when a new connection closes without an answer', async () => {
    repo.set({ kind: 'hangup' }, 'hangup', 'market');
    const agent = createChartRepoAgent(1);
    const before = repo.requests.length;
    const e = await failure(get('hangup', { agent }));
    expect(e.kind).toBe('network');
    expect(e.message).toBe('network error: connection closed by the server');
    expect(repo.requests.length - before).toBe(1);
    agent.destroy();
  });

  it('fails when the connection closes partway through the body', async () => {
    repo.set({ kind: 'cut' }, 'cut', 'market');
    const e = await failure(get('cut'));
    expect(e.kind).toBe('network');
    expect(e.message).toBe('network error: connection closed by the server');
  });

  it('fails at the timeout when the body stalls after the headers', async () => {
    repo.set({ kind: 'stall' }, 'stall', 'market');
    const e = await failure(get('stall', { timeoutMs: 300 }));
    expect(e.message).toBe('timeout after 300 ms');
  });

  it('fails before reading a body whose declared length is over the cap', async () => {
    repo.set({ kind: 'raw', body: 'x'.repeat(100), headers: { 'content-length': '100' } }, 'long', 'market');
    const e = await failure(get('long', { maxBodyBytes: 50 }));
    expect(e.kind).toBe('too_large');
    expect(e.message).toBe('body too large: 100 bytes declared, cap 50');
  });

  it('does not follow a redirect', async () => {
    const elsewhere = '/chart-repo/api/v2/status?user=moved&source=market&include=apps,images,tasks';
    repo.set({ kind: 'raw', status: 301, body: '', headers: { location: elsewhere } }, 'redirect', 'market');
    repo.set({ kind: 'json', body: envelope({}) }, 'moved', 'market');
    const e = await failure(get('redirect'));
    expect(e.kind).toBe('http');
    expect(e.message).toBe('HTTP 301 Moved Permanently');
    // the redirect itself was asked for (a list with no request at all would hold no 'moved' either)
    expect(repo.requests).toContain('redirect/market');
    expect(repo.requests).not.toContain('moved/market');
  });

  it("honours the caller's abort signal", async () => {
    repo.set({ kind: 'hang' }, 'hang', 'market');
    const ctl = new AbortController();
    const pending = get('hang', { timeoutMs: 5000, signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    const e = await failure(pending);
    expect(e.kind).toBe('aborted');
  });

  it('does not start when the signal is already aborted', async () => {
    const e = await failure(get('good', { signal: AbortSignal.abort() }));
    expect(e.kind).toBe('aborted');
  });
});
