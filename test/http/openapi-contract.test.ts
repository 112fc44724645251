import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { createRuntimeApp } from '../../src/http/app.ts';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import { JSON_TYPE } from '../../src/http/envelope.ts';
import { FreshnessHolder } from '../../src/http/freshness.ts';
import { onUnhandled } from '../../src/http/hardening.ts';
import { HttpMetrics } from '../../src/http/metrics.ts';
import { buildOpenApi } from '../../src/http/openapi.ts';
import { registerOpenApi } from '../../src/http/openapi-route.ts';
import { DATA_HEADERS } from '../../src/http/security.ts';
import { requestError } from '../../src/http/thread.ts';
import type { RareLogger } from '../../src/lazy-log.ts';
import { FixtureFiles, smallDataset } from '../browser/fixtures.ts';
import { contractChecker } from '../helpers/openapi-contract.ts';
import { parseWire, rawRequest, wireExchange, wireResponse } from '../helpers/raw-http.ts';
import { eventually, fake, startInProcess } from '../helpers/sidecar.ts';
import { openStream } from '../helpers/sse.ts';

/**
 * The contract: real answers of a sidecar (real threads, fake collectors fed realistic fixtures) against the
 * document. Every answer's status must be documented for its path and method, its JSON body must validate
 * against the documented schema (ajv, JSON Schema 2020-12) and every snapshot also against the strict Go-client
 * check (expectGoWire), the headers the document promises must be there, and by the end every documented
 * (path, method, status) must have been seen.
 */

const TOKEN = 'contract-token-0123456789';
const ORIGIN = 'http://client.example';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

let contract: Awaited<ReturnType<typeof contractChecker>>;
const check = (method: string, path: string, res: Response, expected?: number, fresh = false) => contract.check(method, path, res, expected, { fresh });
/** the servers whose every source has succeeded once: their answers must carry the freshness header wherever it is documented */
const freshServers = new Set<string>();

async function hit(base: string, path: string, init: RequestInit = {}, expected?: number): Promise<unknown> {
  const res = init.method === 'TRACE' ? await trace(base, path, init.headers as Record<string, string> | undefined)
    : await fetch(base + path, { ...init, redirect: 'manual' });
  return check(init.method ?? 'GET', path, res, expected, freshServers.has(base));
}

/** fetch refuses to send TRACE (a forbidden method in the Fetch standard): node:http sends it, as any client may */
async function trace(base: string, path: string, headers?: Record<string, string>): Promise<Response> {
  const a = await rawRequest(base, path, { method: 'TRACE', headers });
  const flat = Object.entries(a.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v] as [string, string]]));
  return new Response(a.bytes.length === 0 ? null : new Uint8Array(a.bytes), { status: a.status, headers: flat });
}

/** A Request for the app in process; TRACE made as @hono/node-server makes it (a GET whose method reads TRACE). */
function requestOf(path: string, method: string): Request {
  if (method !== 'TRACE') return new Request(`http://localhost${path}`, { method });
  const req = new Request(`http://localhost${path}`);
  Object.defineProperty(req, 'method', { get: () => 'TRACE' });
  return req;
}

/**
 * A request node answers itself, before any route: `request` as written on the wire (headers too large, a
 * malformed line, or one that never ends), its raw answer as a Response for the contract to check like any other.
 */
async function rawExchange(port: number, request: string, end = true): Promise<Response> {
  const { got } = await wireExchange(port, request, { end });
  const answer = parseWire(got);
  if (!answer) throw new Error(`no complete answer to ${JSON.stringify(request.slice(0, 100))}: ${JSON.stringify(got.toString('latin1').slice(0, 200))}`);
  return wireResponse(answer);
}

/**
 * An answer given outside the app (node's parser refused the request, or @hono/node-server could not make a
 * Request of it): documented like any other, with every data answer's headers and the error envelope.
 */
async function checkOutside(method: string, path: string, res: Response, expected: number, fresh = false): Promise<{ message: string }> {
  const what = `${method} ${path} ${expected}`;
  for (const [name, value] of Object.entries(DATA_HEADERS)) expect(res.headers.get(name), `${name} on ${what}`).toBe(value);
  expect(res.headers.get('content-type'), what).toBe(JSON_TYPE);
  const body = await check(method, path, res, expected, fresh);
  if (method !== 'HEAD') expect(body, what).toMatchObject({ success: false, message: expect.any(String), data: null });
  return body as { message: string };
}

const headersTooLarge = (port: number, method: string, path: string) =>
  rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\nConnection: close\r\n\r\n`);
/** an HTTP/1.1 request without the Host header it requires */
const hostless = (port: number, method: string, path: string, version = '1.1') =>
  rawExchange(port, `${method} ${path} HTTP/${version}\r\nConnection: close\r\n\r\n`);
/** an expectation the server does not meet (it meets only 100-continue) */
const unmetExpectation = (port: number, method: string, path: string) =>
  rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n`);
/** a header line with no colon: node's parser refuses it */
const malformed = (port: number, method: string, path: string) =>
  rawExchange(port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\nConnection: close\r\n\r\n`);

const files = new FixtureFiles();
const data = smallDataset();
const app = data.apps[0]!;
const appPath = `/apps/${app.user_id}/${encodeURIComponent(app.source_id)}/${app.app_name}`;
const task = data.tasks[0]!;
const LONG = 'x'.repeat(300);

/** Concrete paths (under a base path) of each documented route: [found, not found, bad parameter]. */
const ROUTES: Array<{ ok: string; missing?: string; bad?: string; etag?: boolean }> = [
  { ok: '/state', bad: '/state?task_status=bogus', etag: true },
  { ok: '/state?user_id=alice&task_status=failed', etag: true },
  { ok: '/sources', bad: '/sources?user_id=alice' },
  { ok: '/apps?limit=2', bad: '/apps?limit=0', etag: true },
  { ok: '/apps?user_id=alice&stuck=false&limit=1000', bad: '/apps?cursor=not-a-cursor', etag: true },
  { ok: '/apps?limit=5&include=chart_repo', bad: '/apps?include=everything', etag: true },
  { ok: '/apps?stage=running&health=healthy&limit=3', bad: '/apps?stage=bogus', etag: true },
  { ok: '/overview', bad: '/overview?user_id=alice', etag: true },
  { ok: appPath, missing: '/apps/nobody/market.olares/none', bad: `/apps/${LONG}/s/a`, etag: true },
  { ok: `${appPath}/history`, missing: '/apps/nobody/market.olares/none/history', bad: `/apps/u/s/${LONG}/history`, etag: true },
  { ok: `/tasks/${task.task_id}`, missing: '/tasks/no-such-task', bad: `/tasks/${LONG}`, etag: true },
  { ok: `/tasks/${task.task_id}/history`, missing: '/tasks/no-such-task/history', bad: `/tasks/${LONG}/history`, etag: true },
  { ok: '/tasks?app_name=firefox&user_id=alice', bad: '/tasks', etag: true },
  { ok: '/tasks?user_id=%20alice%20', bad: `/tasks?app_name=${LONG}`, etag: true },
  { ok: '/users/alice/apps', bad: `/users/${LONG}/apps`, etag: true },
  { ok: '/users/alice/apps?_=1', bad: '/users/alice/apps?stage=running', etag: true },
  { ok: '/users/alice/tasks', bad: `/users/${LONG}/tasks`, etag: true },
  { ok: '/dashboard', etag: true },
  { ok: '/dashboard-app', etag: true },
  { ok: '/assets/dashboard.js', missing: '/assets/nope.js', etag: true },
  { ok: '/assets/dashboard.css', etag: true },
  { ok: '/openapi.json', etag: true },
];
const ROOT = ['/healthz', '/readyz', '/metrics'];
/** the bare host: a redirect to the dashboard */
const HOME = '/';
/** every documented path, concrete */
const EVERY_PATH = [...BASE_PATHS.flatMap((base) => [...ROUTES.map((r) => base + r.ok), `${base}/events`]), ...ROOT, HOME];
const EVERY_METHOD = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE'];

describe('contract: real answers against openapi.json', () => {
  // A: token and CORS set (401, 204 preflights; Hono answers everything); B: neither (the raw fast path,
  // OPTIONS 405); C: collectors that never finish (503 before the first collection, and while the store restarts)
  let a: Awaited<ReturnType<typeof startInProcess>>;
  let b: Awaited<ReturnType<typeof startInProcess>>;
  let c: Awaited<ReturnType<typeof startInProcess>>;

  beforeAll(async () => {
    contract = await contractChecker({ corsOrigin: ORIGIN });
    files.writeAll(data);
    [a, b, c] = await Promise.all([
      startInProcess(files.collectors(), { security: { apiToken: TOKEN, corsOrigins: [ORIGIN] } }),
      startInProcess(files.collectors()),
      startInProcess(['app_flow', 'tasks'].map((s) => fake(s as 'tasks', { mode: 'hang' })), { deadlineMs: 600_000 }),
    ]);
    for (const s of [a, b]) {
      await eventually(async () => {
        const r = await s.get('/readyz');
        expect(r.status).toBe(200);
        // every source has succeeded once: the freshness header is on every answer under the base paths
        expect((await s.get('/api/v2/runtime/sources', { headers: AUTH })).headers.get('x-runtime-fresh-as-of')).not.toBeNull();
      }, 90_000);
      freshServers.add(s.base);
    }
  }, 180_000);

  afterAll(async () => {
    // stop() of a store thread the test killed may wait for its restart: bounded by shutdownTimeoutMs
    await Promise.all([a?.sup.stop(), b?.sup.stop(), c?.sup.stop()]);
  });

  it('every route answers 200 and 304 with documented bodies, under both base paths, and HEAD as GET', async () => {
    for (const base of BASE_PATHS) {
      for (const r of ROUTES) {
        for (const [s, headers] of [[a, AUTH], [b, {}]] as const) {
          const res = await fetch(s.base + base + r.ok, { headers });
          await check('GET', base + r.ok, res, 200, true);
          if (r.etag) {
            const etag = res.headers.get('etag')!;
            await hit(s.base, base + r.ok, { headers: { ...headers, 'If-None-Match': etag } }, 304);
            await hit(s.base, base + r.ok, { method: 'HEAD', headers: { ...headers, 'If-None-Match': etag } }, 304);
          }
          await hit(s.base, base + r.ok, { method: 'HEAD', headers }, 200);
        }
      }
    }
    for (const p of ROOT) {
      for (const [s, headers] of [[a, AUTH], [b, {}]] as const) {
        await hit(s.base, p, { headers }, 200);
        await hit(s.base, p, { method: 'HEAD', headers }, 200);
      }
    }
    // no token needed for the redirect, even where one is set (the dashboard page asks for it)
    for (const s of [a, b]) {
      await hit(s.base, HOME, {}, 302);
      await hit(s.base, HOME, { method: 'HEAD' }, 302);
    }
    // a cross-origin read (CORS set): the answer names the origin and the headers the page may read
    for (const p of ['/api/v2/runtime/state', '/api/v2/runtime/apps?limit=1', '/readyz']) {
      const res = await fetch(a.base + p, { headers: { ...AUTH, Origin: ORIGIN } });
      expect(res.headers.get('access-control-allow-origin'), p).toBe(ORIGIN);
      await check('GET', p, res, 200, true);
    }
    // the compressed variant of the snapshot answers with its own tag
    const br = await fetch(`${b.base}/api/v2/runtime/state`, { headers: { 'Accept-Encoding': 'br' } });
    await check('GET', '/api/v2/runtime/state', br, 200, true);
  }, 120_000);

  it('an answer carrying a key the document does not declare fails the check (the contract is closed)', async () => {
    const path = '/api/v2/runtime/state';
    const real = await fetch(b.base + path);
    const body = await real.json() as { data: { app_states: Record<string, Record<string, unknown>> } };
    // the real answer's headers, with a body of the test's
    const answer = (json: unknown) => new Response(JSON.stringify(json), { status: 200, headers: real.headers });
    await check('GET', path, answer(body), 200);
    // an undeclared key on an app (whose schema joins Go's keys and ours) and on the envelope
    const [key] = Object.keys(body.data.app_states);
    const app = { ...body.data.app_states[key!], surprise: 1 };
    await expect(check('GET', path, answer({ ...body, data: { ...body.data, app_states: { [key!]: app } } }), 200)).rejects.toThrow(/surprise/);
    await expect(check('GET', path, answer({ ...body, surprise: 1 }), 200)).rejects.toThrow(/surprise/);
    // a contract header the documented response does not declare (here Retry-After on a 200)
    const headers = new Headers(real.headers);
    headers.set('Retry-After', '1');
    await expect(check('GET', path, new Response(JSON.stringify(body), { status: 200, headers }), 200)).rejects.toThrow(/retry-after .* not declared/);
  });

  it('a path or query that is not valid percent-encoding answers 400 as documented where the route has no 400 of its own (pages, assets, this document, unlisted paths), freshness header included', async () => {
    for (const base of BASE_PATHS) {
      for (const [s, headers] of [[a, AUTH], [b, {}]] as const) {
        for (const p of ['/dashboard?x=%ZZ', '/dashboard-app?x=%ZZ', '/assets/dashboard.js?x=%ZZ', '/openapi.json?x=%ZZ']) {
          const body = await hit(s.base, base + p, { headers }, 400);
          expect(body).toMatchObject({ message: expect.stringContaining('malformed percent-encoding') });
        }
        for (const p of ['/nonexistent?x=%ZZ', '/state%ZZ']) {
          const res = await fetch(s.base + base + p, { headers, redirect: 'manual' });
          expect(await contract.checkUnlisted('GET', base + p, res, 400)).toMatchObject({ message: expect.stringContaining('malformed percent-encoding') });
        }
      }
    }
  });

  it('the served document is the built one and needs the token like other data', async () => {
    const served = await (await fetch(`${a.base}/api/v2/runtime/openapi.json`, { headers: AUTH })).json();
    expect(served).toEqual(buildOpenApi());
    await hit(a.base, '/app-store/api/v2/runtime/openapi.json', {}, 401);
    // not a data route: no parameters, so another route's is no 400 (docs/api.md); the pages and assets alike
    const withQuery = await hit(a.base, '/api/v2/runtime/openapi.json?user_id=alice', { headers: AUTH }, 200);
    expect(withQuery).toEqual(served);
    await hit(a.base, '/api/v2/runtime/dashboard?stage=running', {}, 200);
    await hit(a.base, '/api/v2/runtime/assets/dashboard.js?user_id=alice', {}, 200);
  });

  it('bad parameters answer 400, missing entities 404, a missing token 401 (and a wrong one), with the envelope', async () => {
    for (const base of BASE_PATHS) {
      for (const r of ROUTES) {
        for (const [s, headers] of [[a, AUTH], [b, {}]] as const) {
          if (r.bad) await hit(s.base, base + r.bad, { headers }, 400);
          if (r.missing) await hit(s.base, base + r.missing, { headers }, 404);
        }
        const open = r.ok.startsWith('/dashboard') || r.ok.startsWith('/assets');
        if (open) {
          // no token needed where one is set, whatever the asset's name: one that does not exist is a 404, not a 401
          await hit(a.base, base + r.ok, {}, 200);
          if (r.missing) {
            await hit(a.base, base + r.missing, {}, 404);
            await hit(a.base, base + r.missing, { method: 'HEAD' }, 404);
          }
        } else {
          await hit(a.base, base + r.ok, {}, 401);
          await hit(a.base, base + r.ok, { method: 'HEAD' }, 401);
          await hit(a.base, base + r.ok, { headers: { Authorization: 'Bearer wrong' } }, 401);
        }
      }
      await hit(a.base, `${base}/events`, {}, 401);
      await hit(a.base, `${base}/events`, { method: 'HEAD' }, 401);
      for (const [s, headers] of [[a, AUTH], [b, {}]] as const) {
        // the stream's own parameters are validated as the filters are
        for (const bad of ['stuck=maybe', 'timeline=yes', 'view=everything', 'view=summary&user_id=alice', 'view=summary&timeline=true']) {
          await hit(s.base, `${base}/events?${bad}`, { headers }, 400);
          await hit(s.base, `${base}/events?${bad}`, { method: 'HEAD', headers }, 400);
        }
        await hit(s.base, `${base}/state?task_type=bogus`, { method: 'HEAD', headers }, 400);
      }
    }
    await hit(a.base, '/metrics', {}, 401);
    await hit(a.base, '/metrics', { method: 'HEAD' }, 401);
    for (const r of ROUTES) {
      for (const base of BASE_PATHS) {
        if (r.bad) await hit(b.base, base + r.bad, { method: 'HEAD' }, 400);
        if (r.missing) await hit(b.base, base + r.missing, { method: 'HEAD' }, 404);
      }
    }
  }, 120_000);

  it('every other method answers 405 (TRACE and CONNECT too), OPTIONS a 204 preflight with CORS set and 405 without, long URLs 414, an unmet Expect 417, large headers 431, malformed requests 400', async () => {
    for (const path of EVERY_PATH) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'TRACE']) {
        await hit(a.base, path, { method, headers: AUTH }, 405);
        await hit(b.base, path, { method }, 405);
      }
      await hit(a.base, path, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' } }, 204);
      await hit(b.base, path, { method: 'OPTIONS' }, 405);
      const long = `${path}${path.includes('?') ? '&' : '?'}pad=${'p'.repeat(9000)}`;
      for (const method of EVERY_METHOD) {
        await hit(b.base, long, { method }, 414);
        await checkOutside(method, path, await headersTooLarge(b.sup.port, method, path), 431);
        const unmet = await checkOutside(method, path, await unmetExpectation(b.sup.port, method, path), 417);
        if (method !== 'HEAD') expect(unmet).toMatchObject({ message: expect.stringMatching(/^expectation not supported: Expect: 200-ok/) });
        const refused = await checkOutside(method, path, await malformed(b.sup.port, method, path), 400);
        if (method !== 'HEAD') expect(refused).toMatchObject({ message: expect.stringMatching(/^malformed HTTP request: /) });
      }
    }
    // CONNECT (no OpenAPI operation: answered outside the app) gets the 405 every other method gets, Allow included
    const allow = (contract.doc.paths['/api/v2/runtime/state']!.post!.responses['405']!.headers!.Allow as { schema: { const: string } }).schema.const;
    for (const [request, what] of [
      ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n', 'authority form'],
      ['CONNECT /api/v2/runtime/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'a path'],
    ] as const) {
      const res = await rawExchange(b.sup.port, request);
      expect(res.status, what).toBe(405);
      expect(res.headers.get('allow'), what).toBe(allow);
      for (const [name, value] of Object.entries(DATA_HEADERS)) expect(res.headers.get(name), `${name} on CONNECT ${what}`).toBe(value);
      expect(await res.json(), what).toEqual({ success: false, message: `method CONNECT not allowed: use ${allow}`, data: null });
    }
    // no Host: HTTP/1.1 requires one (400 in the envelope); HTTP/1.0 (an old health check) is answered
    const noHost = await checkOutside('GET', '/readyz', await hostless(b.sup.port, 'GET', '/readyz'), 400);
    expect(noHost).toMatchObject({ message: 'malformed HTTP request: missing Host header (HTTP/1.1 requires one)' });
    // two Host headers: refused before the route, so even where the sources are fresh no freshness header (as documented)
    for (const path of BASE_PATHS.map((base) => `${base}/state`)) {
      const twice = await rawExchange(b.sup.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.2\r\nConnection: close\r\n\r\n`);
      expect(twice.headers.get('x-runtime-fresh-as-of')).toBeNull();
      expect(await checkOutside('GET', path, twice, 400, true)).toMatchObject({ message: 'malformed HTTP request: Host header given more than once' });
    }
    const old = await hostless(b.sup.port, 'GET', '/readyz', '1.0');
    expect(old.status).toBe(200);
    // a URL past what node reads before the headers end: 431, and the message says the URL counts
    const huge = await rawExchange(b.sup.port, `GET /api/v2/runtime/state?pad=${'p'.repeat(17 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    expect((await checkOutside('GET', '/api/v2/runtime/state', huge, 431)).message).toMatch(/request line and headers too large .*URL at most 8 KiB/);
    // node parses these, @hono/node-server cannot make a Request of them: 400 from its error handler (ours)
    for (const [request, why] of [
      ['GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', /Invalid URL/],
      ['GET /readyz\\x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', /Backslash in request path/],
      ['GET /readyz HTTP/1.1\r\nHost: [bad\r\n\r\n', /Invalid URL/],
    ] as const) {
      const refused = await checkOutside('GET', '/readyz', await rawExchange(b.sup.port, request), 400);
      expect(refused.message, request).toMatch(/^malformed HTTP request: /);
      expect(refused.message, request).toMatch(why);
    }
    // and anything else that handler is given: a 500 in the same envelope, with the same headers
    expect(await checkOutside('GET', '/api/v2/runtime/state', requestError(new Error('anything')), 500)).toMatchObject({ message: 'internal error' });
  }, 120_000);

  it('a path the document does not list answers as its description says: GET and HEAD 404 (401 first without the token where one is set, except under …/assets/), OPTIONS the 204 preflight with CORS set and 405 without, every other method 405 with Allow', async () => {
    const send = (base: string, path: string, method: string, headers: Record<string, string> = {}) =>
      (method === 'TRACE' ? trace(base, path, headers) : fetch(base + path, { method, headers, redirect: 'manual' }));
    const unlisted = ['/nonexistent', '/favicon.ico', '/healthz/', '/healthz/more', ...BASE_PATHS.flatMap((base) => [`${base}/nonexistent`, `${base}/state/more`, `${base}/assets/nope/deeper`])];
    for (const path of unlisted) {
      const open = path.includes('/assets/');
      for (const method of EVERY_METHOD) {
        const what = `${method} ${path}`;
        if (method === 'GET' || method === 'HEAD') {
          const body = await contract.checkUnlisted(method, path, await send(b.base, path, method), 404);
          if (method === 'GET') expect(body, what).toEqual({ success: false, message: `not found: GET ${path}`, data: null });
          await contract.checkUnlisted(method, path, await send(a.base, path, method), open ? 404 : 401);
          await contract.checkUnlisted(method, path, await send(a.base, path, method, AUTH), 404);
        } else if (method === 'OPTIONS') {
          await contract.checkUnlisted(method, path, await send(a.base, path, method, { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' }), 204);
          await contract.checkUnlisted(method, path, await send(b.base, path, method), 405);
        } else {
          // read-only whatever the path: 405 before the token is asked for, and before a route is looked for
          const body = await contract.checkUnlisted(method, path, await send(b.base, path, method), 405);
          expect(body, what).toMatchObject({ message: `method ${method} not allowed: use GET, HEAD` });
          await contract.checkUnlisted(method, path, await send(a.base, path, method), 405);
          await contract.checkUnlisted(method, path, await send(a.base, path, method, AUTH), 405);
        }
        // what any request may get before a route is looked for: a target too long, headers too large, a malformed request
        await contract.checkUnlisted(method, path, await send(b.base, `${path}?pad=${'p'.repeat(9000)}`, method), 414);
        await contract.checkUnlisted(method, path, await headersTooLarge(b.sup.port, method, path), 431);
        await contract.checkUnlisted(method, path, await malformed(b.sup.port, method, path), 400);
      }
    }
  }, 60_000);

  it('before the first collection /state, /events, /sources and /readyz answer 503 with Retry-After; the store restarting answers 503', async () => {
    for (const base of BASE_PATHS) {
      for (const p of ['/state', '/events', '/state?user_id=alice']) {
        await hit(c.base, base + p, {}, 503);
        await hit(c.base, base + p, { method: 'HEAD' }, 503);
      }
    }
    // …/sources answers 503 only until the store's first freshness message, which it sends when it attaches:
    // the app is asked directly before any arrives
    const early = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false, freshness: new FreshnessHolder() });
    for (const base of BASE_PATHS) {
      for (const method of ['GET', 'HEAD']) await check(method, `${base}/sources`, await early.request(`${base}/sources`, { method }), 503);
    }
    await hit(c.base, '/readyz', {}, 503);
    await hit(c.base, '/readyz', { method: 'HEAD' }, 503);
    // the store thread dies: queries in flight (and new ones) answer 503 until it is back
    await c.sup.threads().store.terminate();
    const asks = BASE_PATHS.flatMap((base) => [
      '/apps?user_id=u503', '/apps/u503/s/a', '/apps/u503/s/a/history', '/tasks/t503', '/tasks/t503/history', '/tasks?user_id=u503',
      '/users/u503/apps', '/users/u503/tasks', '/overview',
    ].flatMap((p) => [['GET', base + p], ['HEAD', `${base + p}${p.includes('?') ? '&' : '?'}head=1`]] as const));
    await Promise.all(asks.map(([method, path]) => hit(c.base, path, { method }, 503)));
  }, 120_000);

  it('the change stream sends snapshot, change and freshness events whose data validate against the documented schemas', async () => {
    for (const base of BASE_PATHS) {
      for (const query of ['', '?user_id=alice', '?timeline=true', '?view=summary']) {
        const stream = await openStream(`${a.base}${base}/events${query}`, AUTH);
        try {
          await check('GET', `${base}/events`, stream.res, 200, true);
          await stream.next((e) => e.event === 'snapshot');
          await stream.next((e) => e.event === 'freshness');
          // something changes: alice's failed app recovers, a task completes
          const next = smallDataset();
          next.apps[1] = { ...next.apps[1]!, stage: 'running', health: 'healthy', stage_detail: `recovered ${base}${query}` };
          next.tasks[0] = { ...next.tasks[0]!, status: 'completed', completed_at: new Date().toISOString(), result: `${base}${query}` };
          files.writeAll(next);
          await stream.next((e) => e.event === 'change');
        } finally {
          await stream.close();
        }
        for (const e of stream.events) contract.checkEvent(e);
      }
    }
    // HEAD: the stream's headers, no stream
    for (const base of BASE_PATHS) {
      const head = await fetch(`${a.base}${base}/events`, { method: 'HEAD', headers: AUTH, signal: AbortSignal.timeout(10_000) });
      await check('HEAD', `${base}/events`, head, 200, true);
      expect(head.headers.get('content-type')).toMatch(/^text\/event-stream/);
    }
  }, 120_000);

  it('a request whose headers do not arrive within 10 s answers 408, for any method and path', async () => {
    // all at once: each waits out the headers timeout (10 s, checked every 2 s)
    const slow = EVERY_PATH.flatMap((path) => EVERY_METHOD.map(async (method) => {
      const res = await rawExchange(b.sup.port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, false);
      return { method, path, res };
    }));
    for (const { method, path, res } of await Promise.all(slow)) {
      const body = await checkOutside(method, path, res, 408);
      if (method !== 'HEAD') expect(body).toMatchObject({ message: 'request not received in time' });
    }
  }, 60_000);

  it('an unhandled error answers 500 with the envelope: dependencies that throw, a document that fails to build, a fault in a middleware', async () => {
    const logged: string[] = [];
    const log = { error: (o: { err: string }) => { logged.push(o.err); }, warn: () => undefined } as unknown as RareLogger;
    const boom = (): never => { throw new Error('dependency failed'); };
    // the store's side throws (current version, queries, the ping of /readyz) and so does the freshness the
    // store pushes (read by …/sources and by the middleware that puts the header on every answer)
    const freshness = Object.defineProperty(new FreshnessHolder(), 'current', { get: boom });
    const broken = createRuntimeApp({ current: boom, queries: boom, storeAlive: async () => boom(), freshness }, { log });
    for (const path of [...BASE_PATHS.flatMap((base) => [...ROUTES.map((r) => base + r.ok), `${base}/events`]), '/readyz']) {
      for (const method of ['GET', 'HEAD']) {
        const body = await check(method, path, await broken.request(path, { method }), 500);
        if (method === 'GET') expect(body).toEqual({ success: false, message: 'internal error', data: null });
      }
    }
    expect(logged).toContain('dependency failed');
    // the change stream with no node response to write to (the app run without @hono/node-server, as app.request
    // runs it; the sidecar's thread always has one): a fault of the caller, the same logged 500
    const noNode = createRuntimeApp({ current: () => ({ version: 1 }) as never, queries: () => null, storeAlive: async () => true, stream: {} as never }, { log });
    for (const base of BASE_PATHS) {
      const body = await check('GET', `${base}/events`, await noNode.request(`${base}/events`), 500);
      expect(body).toEqual({ success: false, message: 'internal error', data: null });
    }
    expect(logged).toContain('the change stream needs the node server: no node response to write to');
    // the document's build fails (answered 500), and the next request builds it again
    let builds = 0;
    const api = new Hono();
    registerOpenApi(api, {
      warmAfterMs: null,
      build: async () => {
        if (++builds === 1) throw new Error('build failed');
        return (await import('../../src/http/openapi.ts')).openApiDocument();
      },
    });
    const app = new Hono();
    for (const base of BASE_PATHS) app.route(base, api);
    app.onError(onUnhandled(log));
    await check('GET', '/api/v2/runtime/openapi.json', await app.request('/api/v2/runtime/openapi.json'), 500);
    await check('GET', '/app-store/api/v2/runtime/openapi.json', await app.request('/app-store/api/v2/runtime/openapi.json'), 200);
    expect(builds).toBe(2);
    // a fault anywhere before the route (here the request metrics' middleware): every method of every path
    const metrics = new HttpMetrics();
    metrics.middleware = () => async () => { throw new Error('middleware fault'); };
    const faulty = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false }, { log, metrics });
    for (const path of EVERY_PATH) {
      for (const method of EVERY_METHOD) await check(method, path, await faulty.request(requestOf(path, method)), 500);
    }
  });

  it('every documented status of every path and method was reached (runs last)', () => {
    const documented = contract.documented();
    expect(documented.length).toBeGreaterThan(300);
    expect(documented.filter((d) => !contract.seen.has(d)), 'documented but never answered').toEqual([]);
  });
});
