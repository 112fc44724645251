import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import type { RuntimeSnapshot } from '../../src/model/index.ts';
import { startDemoSidecar, type Sidecar } from '../helpers/demo-sidecar.ts';
import { contractChecker, METHODS } from '../helpers/openapi-contract.ts';
import { parseWire, rawRequest, wireExchange, wireResponse } from '../helpers/raw-http.ts';
import { eventually, LIVENESS_MS } from '../helpers/sidecar.ts';
import { openStream } from '../helpers/sse.ts';

/**
 * The contract on the whole sidecar running the embedded demo market (real collectors on PGlite, the simulated
 * Chart Repo, a workload moving apps and tasks): what real collectors produce validates against openapi.json.
 */
const TOKEN = 'demo-contract-token-0123456789';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

/**
 * What the demo market cannot be made to answer in this suite (the fixture contract test, openapi-contract.test.ts,
 * reaches them): 204 (needs CORS_ORIGINS, which takes the raw path out), 408 (a request left unfinished for 10 s),
 * 500 (a fault) and 503 (before the first collection, or a store restarting).
 */
const NOT_ON_THE_DEMO = new Set(['204', '408', '500', '503']);

describe('contract on the demo market', () => {
  let sidecar: Sidecar;
  let root = '';
  let contract: Awaited<ReturnType<typeof contractChecker>>;

  beforeAll(async () => {
    contract = await contractChecker();
    ({ sidecar, root } = await startDemoSidecar({ RUNTIME_API_TOKEN: TOKEN }));
    await eventually(async () => {
      const r = await fetch(`${root}/readyz`);
      if (r.status !== 200) throw new Error(`not ready: ${r.status}`);
      // every source has succeeded once: the freshness header is on every answer that documents it from here on
      if (!(await fetch(`${root}/api/v2/runtime/sources`, { headers: AUTH })).headers.has('x-runtime-fresh-as-of')) throw new Error('not fresh yet');
    }, 90_000, 250);
  }, 150_000);

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('every data route answers a body that validates against the document', { timeout: 4 * LIVENESS_MS }, async () => {
    for (const base of BASE_PATHS) {
      const get = async (path: string) => contract.check('GET', base + path, await fetch(root + base + path, { headers: AUTH }), 200);
      // the demo's workload installs and uninstalls apps as it goes: an app or task read from /state may be gone
      // a moment later, so the lookups of one app and one task are asked again of a fresh /state until they answer
      await eventually(async () => {
        const state = (await get('/state')) as { data: RuntimeSnapshot };
        expect(Object.keys(state.data.app_states).length).toBeGreaterThan(0);
        expect(state.data.chart_repo, 'the demo has a Chart Repo').toBeDefined();
        const app = Object.values(state.data.app_states)[0]!;
        const task = Object.values(state.data.tasks)[0]!;
        expect(task, 'the demo has tasks').toBeDefined();
        const appPath = `/apps/${encodeURIComponent(app.user_id)}/${encodeURIComponent(app.source_id)}/${encodeURIComponent(app.app_name)}`;
        for (const path of [
          `/state?user_id=${encodeURIComponent(app.user_id)}`, '/state?stuck=true', '/state?task_status=running', '/sources',
          appPath, `${appPath}/history`, `/tasks/${encodeURIComponent(task.task_id)}`, `/tasks/${encodeURIComponent(task.task_id)}/history`,
          `/tasks?app_name=${encodeURIComponent(task.app_name)}`, `/users/${encodeURIComponent(app.user_id)}/apps`,
          `/users/${encodeURIComponent(app.user_id)}/tasks`, '/openapi.json', '/apps?limit=5',
        ]) await get(path);
      }, LIVENESS_MS, 100);
      // the dashboards' own reads: a page of apps, the overview beside it, a page with its Chart Repo items
      const page = (await get('/apps')) as { data: { items: unknown[]; total: number; chart_repo?: unknown } };
      expect(page.data.items.length, 'the demo has apps on the first page').toBeGreaterThan(0);
      expect(page.data.chart_repo, 'no Chart Repo items unless asked').toBeUndefined();
      const overview = (await get('/overview')) as { data: { chart_repo_counts: { apps: object } } };
      expect(Object.keys(overview.data.chart_repo_counts.apps).length, 'the demo\'s Chart Repo apps are counted').toBeGreaterThan(0);
      const withChart = (await get('/apps?include=chart_repo')) as { data: { chart_repo?: { apps: unknown[] } } };
      expect(withChart.data.chart_repo, 'include=chart_repo adds the page\'s Chart Repo items').toBeDefined();
    }
    for (const p of ['/healthz', '/readyz']) await contract.check('GET', p, await fetch(root + p), 200);
  });

  it('the change stream on a moving market: snapshot, change and freshness events validate', { timeout: 60_000 }, async () => {
    const stream = await openStream(`${root}/api/v2/runtime/events?timeline=true`, AUTH);
    try {
      await contract.check('GET', '/api/v2/runtime/events', stream.res, 200);
      await stream.next((e) => e.event === 'snapshot', 20_000);
      await stream.next((e) => e.event === 'freshness', 20_000);
      await stream.next((e) => e.event === 'change', 45_000);
    } finally {
      await stream.close();
    }
    for (const e of stream.events) contract.checkEvent(e);
  });

  it('the summary stream (?view=summary) on a moving market: its snapshot and change events validate', { timeout: 60_000 }, async () => {
    for (const base of BASE_PATHS) {
      const stream = await openStream(`${root}${base}/events?view=summary`, AUTH);
      try {
        await contract.check('GET', `${base}/events`, stream.res, 200);
        const first = await stream.next((e) => e.event === 'snapshot', 20_000);
        expect(Object.keys(JSON.parse(first.data)).sort(), 'a version without its state').toEqual(['summary', 'timestamp', 'version']);
        await stream.next((e) => e.event === 'change', 45_000);
      } finally {
        await stream.close();
      }
      for (const e of stream.events) contract.checkEvent(e);
    }
  });

  it('every documented path and method answers each status it documents on the demo market (but 204, 408, 500, 503), bodies and headers as documented', { timeout: 240_000 }, async () => {
    const port = sidecar.supervisor.port;
    // fresh: every source has succeeded, so the freshness header is on every answer that documents it (but on
    // those answered before the request reaches the API, which cannot carry it: `outside`)
    const check = (method: string, path: string, res: Response, expected: number, outside = false) => contract.check(method, path, res, expected, { fresh: !outside });
    const send = async (method: string, path: string, headers: Record<string, string> = {}): Promise<Response> => {
      if (method !== 'TRACE') return fetch(root + path, { method, headers, redirect: 'manual', signal: AbortSignal.timeout(LIVENESS_MS) });
      // fetch refuses to send TRACE (a forbidden method in the Fetch standard): node:http sends it, as any client may
      const a = await rawRequest(root, path, { method, headers });
      const flat = Object.entries(a.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v] as [string, string]]));
      return new Response(a.bytes.length === 0 ? null : new Uint8Array(a.bytes), { status: a.status, headers: flat });
    };
    const wire = async (request: string) => {
      const answer = parseWire((await wireExchange(port, request)).got);
      if (!answer) throw new Error(`no answer to ${JSON.stringify(request.slice(0, 80))}`);
      return wireResponse(answer);
    };
    /** a stream's GET is its head: the body never ends (check reads none of it), so the request is cut after */
    const stream = async (path: string, headers: Record<string, string>, expected: number) => {
      const ctrl = new AbortController();
      try {
        await check('GET', path, await fetch(root + path, { headers, signal: ctrl.signal }), expected);
      } finally {
        ctrl.abort();
      }
    };
    /** the concrete path of a template, for entities the demo has now (it moves: asked again on every call) */
    const concrete = async (template: string) => {
      const state = (await (await fetch(`${root}/api/v2/runtime/state`, { headers: AUTH })).json()) as { data: RuntimeSnapshot };
      const app = Object.values(state.data.app_states)[0]!;
      const task = Object.values(state.data.tasks)[0]!;
      return template.replace('{user_id}/{source_id}/{app_name}', [app.user_id, app.source_id, app.app_name].map(encodeURIComponent).join('/'))
        .replace('{user_id}', encodeURIComponent(app.user_id)).replace('{task_id}', encodeURIComponent(task.task_id)).replace('{file}', 'dashboard.js')
        // …/tasks asks for an app or a user
        + (template.endsWith('/tasks') && !template.includes('{') ? `?user_id=${encodeURIComponent(task.user_id ?? app.user_id)}` : '');
    };
    for (const [template, item] of Object.entries(contract.doc.paths)) {
      const get = item.get!.responses;
      const open = (item.get as { security?: unknown[] }).security?.length === 0;
      const okStatus = get['302'] ? 302 : 200;
      const isStream = template.endsWith('/events');
      // 200 (302 for /), HEAD as GET, and 304 for what has an ETag: the demo moves, so an entity may be gone and
      // a tag may be passed by the time it is sent back; asked again until the pair holds
      await eventually(async () => {
        const path = await concrete(template);
        if (isStream) {
          await stream(path, AUTH, 200);
          await check('HEAD', path, await send('HEAD', path, AUTH), 200);
          return;
        }
        const res = await send('GET', path, AUTH);
        const etag = res.headers.get('etag');
        await check('GET', path, res, okStatus);
        await check('HEAD', path, await send('HEAD', path, AUTH), okStatus);
        if (get['304']) {
          expect(etag, `${path} has an ETag`).not.toBeNull();
          await check('GET', path, await send('GET', path, { ...AUTH, 'If-None-Match': etag! }), 304);
          await check('HEAD', path, await send('HEAD', path, { ...AUTH, 'If-None-Match': etag! }), 304);
        }
      }, LIVENESS_MS, 50);
      const path = await concrete(template);
      // the route's own 400: a value it refuses, or another route's parameter (task_type is /state's and /events')
      if (contract.documented().includes(`get ${template} 400 own`)) {
        const bad = `${path}${path.includes('?') ? '&' : '?'}task_type=bogus`;
        if (isStream) await stream(bad, AUTH, 400);
        else await check('GET', bad, await send('GET', bad, AUTH), 400);
        await check('HEAD', bad, await send('HEAD', bad, AUTH), 400);
      }
      // a query that is not valid percent-encoding: a 400 under the base paths, whatever the route (the root's ignore it)
      if (template.includes('/api/v2/runtime/')) {
        const malformed = `${path}${path.includes('?') ? '&' : '?'}x=%ZZ`;
        if (isStream) await stream(malformed, AUTH, 400);
        else await check('GET', malformed, await send('GET', malformed, AUTH), 400);
        await check('HEAD', malformed, await send('HEAD', malformed, AUTH), 400);
      }
      if (get['404']) {
        const missing = template.endsWith('{file}') ? template.replace('{file}', 'nope.js') : template.replace(/\{[a-z_]+\}/g, 'no-such-entity');
        await check('GET', missing, await send('GET', missing, AUTH), 404);
        await check('HEAD', missing, await send('HEAD', missing, AUTH), 404);
      }
      if (!open && get['401']) {
        for (const headers of [{}, { Authorization: 'Bearer not-the-token-0123456789' }] as Record<string, string>[]) {
          if (isStream) await stream(path, headers, 401);
          else await check('GET', path, await send('GET', path, headers), 401);
          await check('HEAD', path, await send('HEAD', path, headers), 401);
        }
      }
      for (const method of METHODS.map((m) => m.toUpperCase())) {
        if (method !== 'GET' && method !== 'HEAD') await check(method, path, await send(method, path, AUTH), 405);
        await check(method, path, await send(method, `${path}?pad=${'p'.repeat(9000)}`, AUTH), 414);
        const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n`;
        await check(method, path, await wire(`${head}X-Big: ${'a'.repeat(20 * 1024)}\r\nConnection: close\r\n\r\n`), 431, true);
        await check(method, path, await wire(`${head}Expect: 200-ok\r\nConnection: close\r\n\r\n`), 417, true);
        await check(method, path, await wire(`${head}no colon here\r\nConnection: close\r\n\r\n`), 400, true);
      }
    }
    const missed = contract.documented().filter((d) => !NOT_ON_THE_DEMO.has(d.split(' ')[2]!) && !contract.seen.has(d));
    expect(missed, 'documented but not reached on the demo market').toEqual([]);
  });
});
