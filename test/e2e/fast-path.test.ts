import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fake, startInProcess } from '../helpers/sidecar.ts';

/** The unfiltered /state is answered before Hono; it must answer exactly as the Hono routes would. */
const TOKEN = 'fast-path-token-0123456789';

function raw(base: string, method: string, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    request(`${base}${path}`, { method, headers }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject).end();
  });
}

describe('the fast /state path', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([fake('tasks', { mode: 'passes', count: 20 })], { intervalMs: 60_000, security: { apiToken: TOKEN } });
    await eventually(async () => expect((await sc.get('/readyz')).status).toBe(200));
  });
  afterAll(() => sc.sup.stop());
  const auth = { Authorization: `Bearer ${TOKEN}` };

  it('serves the snapshot with the data headers, and 304 to its own tag', async () => {
    const ok = await raw(sc.base, 'GET', '/api/v2/runtime/state', auth);
    expect(ok.status).toBe(200);
    expect(ok.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'", 'cache-control': 'no-cache', vary: 'Accept-Encoding',
    });
    expect(Number(ok.headers['content-length'])).toBe(Buffer.byteLength(ok.body));
    expect(JSON.parse(ok.body).data.summary.total_tasks).toBe(20);
    const again = await raw(sc.base, 'GET', '/app-store/api/v2/runtime/state', { ...auth, 'If-None-Match': String(ok.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers HEAD with the headers and no body', async () => {
    const head = await raw(sc.base, 'HEAD', '/api/v2/runtime/state', auth);
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expect(head.body).toBe('');
  });

  it('leaves a missing or wrong token to the API: 401 in the envelope', async () => {
    for (const headers of [{}, { Authorization: 'Bearer nope-nope-nope-nope' }] as Record<string, string>[]) {
      const res = await raw(sc.base, 'GET', '/api/v2/runtime/state', headers);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).success).toBe(false);
    }
  });

  it('counts its answers in /metrics under the route pattern', async () => {
    const text = await (await sc.get('/metrics', { headers: auth })).text();
    expect(text).toMatch(/market_runtime_http_requests_total\{method="GET",route="\/api\/v2\/runtime\/state",status="200"\} [1-9]/);
    expect(text).toMatch(/market_runtime_http_requests_total\{method="GET",route="\/api\/v2\/runtime\/state",status="304"\} [1-9]/);
  });
});
