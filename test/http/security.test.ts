import { describe, expect, it } from 'vitest';
import { createRuntimeApp, type AsyncQueries, type CurrentVersion } from '../../src/http/app.ts';
import type { HttpSecurityOptions } from '../../src/http/hardening.ts';

const TOKEN = 'tok-0123456789abcdef-secret';
const body = new TextEncoder().encode(JSON.stringify({ success: true, message: 'ok', data: { summary: {} } }));
const current: CurrentVersion = { epoch: 'e1', version: 3, content: 'c3', ready: true, body, sizeHint: body.byteLength, etag: 'W/"c3"' };

function appWith(security: HttpSecurityOptions = {}) {
  const queries = {
    task: async (id: string) => ({ version: 3, content: 'c3', json: id === 't1' ? '{"task_id":"t1"}' : null }),
    metrics: async () => '# HELP market_runtime_store_version v\n# TYPE market_runtime_store_version gauge\nmarket_runtime_store_version 3\n',
    ping: async () => ({ epoch: 'e1', version: 3, ready: true }),
  } as unknown as AsyncQueries;
  return createRuntimeApp({ current: () => current, queries: () => queries, storeAlive: async () => true }, security);
}

const bearer = (t: string) => ({ headers: { Authorization: `Bearer ${t}` } });

describe('without RUNTIME_API_TOKEN', () => {
  const app = appWith();
  it('serves the API, probes and metrics without a token', async () => {
    for (const path of ['/api/v2/runtime/state', '/app-store/api/v2/runtime/state', '/healthz', '/readyz', '/metrics']) {
      expect((await app.request(path)).status, path).toBe(200);
    }
  });
});

describe('with RUNTIME_API_TOKEN', () => {
  const app = appWith({ apiToken: TOKEN });

  it('loads the dashboard pages and assets without a token (they hold no data), but not their data', async () => {
    for (const path of ['/api/v2/runtime/dashboard', '/app-store/api/v2/runtime/dashboard-app', '/api/v2/runtime/assets/dom.js']) {
      expect((await app.request(path)).status, path).toBe(200);
    }
    expect((await app.request('/api/v2/runtime/state')).status).toBe(401);
    expect((await app.request('/api/v2/runtime/assets/../state')).status).toBe(401);
  });

  it('answers 401 in the envelope with WWW-Authenticate when the token is missing', async () => {
    const res = await app.request('/api/v2/runtime/state');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="market-runtime"/);
    expect(await res.json()).toEqual({ success: false, message: expect.stringMatching(/Bearer/), data: null });
  });

  it('answers 401 to a wrong token, a token of another length, and other schemes', async () => {
    for (const init of [bearer(TOKEN + 'x'), bearer(TOKEN.slice(0, -1) + 'X'), bearer('short'),
      { headers: { Authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } }, { headers: { Authorization: TOKEN } }]) {
      const res = await app.request('/api/v2/runtime/state', init);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain(TOKEN);
      expect(JSON.parse(text)).toMatchObject({ success: false, data: null });
    }
    expect((await app.request('/api/v2/runtime/state', bearer(TOKEN + 'x'))).headers.get('www-authenticate')).toContain('invalid_token');
  });

  it('lets the right token through, whatever the case of the scheme, on every API path', async () => {
    expect((await app.request('/api/v2/runtime/state', bearer(TOKEN))).status).toBe(200);
    expect((await app.request('/app-store/api/v2/runtime/state', { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await app.request('/api/v2/runtime/tasks/t1', bearer(TOKEN))).status).toBe(200);
  });

  it('protects unknown paths too (no probing what exists), and 404s them with the token', async () => {
    expect((await app.request('/nope')).status).toBe(401);
    const res = await app.request('/nope', bearer(TOKEN));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ success: false, data: null });
  });

  it('keeps /healthz and /readyz open', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
  });

  it('protects /metrics by default, and not when METRICS_REQUIRE_TOKEN=false', async () => {
    expect((await app.request('/metrics')).status).toBe(401);
    expect((await app.request('/metrics', bearer(TOKEN))).status).toBe(200);
    const open = appWith({ apiToken: TOKEN, metricsRequireToken: false });
    expect((await open.request('/metrics')).status).toBe(200);
    expect((await open.request('/api/v2/runtime/state')).status).toBe(401);
  });
});

describe('hardening', () => {
  const app = appWith();

  it('puts the security headers on every response: 200, 404, 405, 414, probes, metrics', async () => {
    const responses = [
      await app.request('/api/v2/runtime/state'), await app.request('/nope'), await app.request('/healthz'),
      await app.request('/metrics'), await app.request('/api/v2/runtime/state', { method: 'POST' }),
      await app.request(`/api/v2/runtime/state?user_id=${'x'.repeat(9000)}`), await appWith({ apiToken: TOKEN }).request('/metrics'),
    ];
    for (const res of responses) {
      expect(res.headers.get('x-content-type-options'), String(res.status)).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('answers 405 with Allow, in the envelope, to every method but GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const res = await app.request('/api/v2/runtime/state', { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect(await res.json()).toMatchObject({ success: false, message: expect.stringContaining(method), data: null });
    }
    const head = await app.request('/api/v2/runtime/state', { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('answers 404 in the envelope for paths that do not exist', async () => {
    const res = await app.request('/api/v2/runtime/nothing-here');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ success: false, message: 'not found: GET /api/v2/runtime/nothing-here', data: null });
  });

  it('answers 414 in the envelope past 8 KiB of URL, and serves just below it', async () => {
    const long = await app.request(`/api/v2/runtime/state?user_id=${'x'.repeat(8200)}`);
    expect(long.status).toBe(414);
    expect(await long.json()).toMatchObject({ success: false, data: null });
    const path = '/api/v2/runtime/state?pad=';
    expect((await app.request(path + 'y'.repeat(8192 - path.length))).status).not.toBe(414);
  });

  it('CORS stays off unless configured; configured, it allows only the listed origins', async () => {
    const off = await app.request('/api/v2/runtime/state', { headers: { Origin: 'https://evil.example' } });
    expect(off.headers.get('access-control-allow-origin')).toBeNull();
    const cors = appWith({ corsOrigins: ['https://market.example.com'], apiToken: TOKEN });
    const pre = await cors.request('/api/v2/runtime/state', {
      method: 'OPTIONS',
      headers: { Origin: 'https://market.example.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization, last-event-id' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://market.example.com');
    // a fetch-based stream client sends its token and, when it reconnects, the last event id it saw
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/))
      .toEqual(expect.arrayContaining(['authorization', 'last-event-id']));
    const get = await cors.request('/api/v2/runtime/state', { headers: { Origin: 'https://market.example.com', Authorization: `Bearer ${TOKEN}` } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe('https://market.example.com');
    // a page on that origin may read the tag, the retry hint and the freshness time
    expect(get.headers.get('access-control-expose-headers')?.toLowerCase().split(/,\s*/))
      .toEqual(expect.arrayContaining(['etag', 'retry-after', 'x-runtime-fresh-as-of']));
    const other = await cors.request('/api/v2/runtime/state', { headers: { Origin: 'https://evil.example', Authorization: `Bearer ${TOKEN}` } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await cors.request('/api/v2/runtime/state', { method: 'DELETE', headers: { Origin: 'https://market.example.com' } })).status).toBe(405);
  });

  it('answers an unhandled error with a generic 500 envelope', async () => {
    const broken = createRuntimeApp({ current: () => current, queries: () => null, storeAlive: async () => { throw new Error('postgres://u:pw@h/db exploded'); } },
      { log: { error: () => undefined } as never });
    const res = await broken.request('/readyz');
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ success: false, message: 'internal error', data: null });
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it("a fault after a route made its answer: the 500 carries none of that answer's tag, cache policy, length or page CSP", async () => {
    // the freshness middleware runs after the page's route and throws
    const freshness = { headerPair: () => { throw new Error('freshness fault'); } } as never;
    const broken = createRuntimeApp({ current: () => current, queries: () => null, storeAlive: async () => true, freshness }, { log: { error: () => undefined } as never });
    const page = await appWith().request('/api/v2/runtime/dashboard');
    expect(page.headers.get('etag')).not.toBeNull();
    const res = await broken.request('/api/v2/runtime/dashboard');
    expect(res.status).toBe(500);
    for (const name of ['etag', 'cache-control', 'content-length', 'last-modified']) expect(res.headers.get(name), name).toBeNull();
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(await res.json()).toEqual({ success: false, message: 'internal error', data: null });
  });
});
