/**
 * Issue 7: hostile data from the sources, through the real collectors: markup in strings (valid data, kept
 * verbatim: escaping is the pages' job), 1 MB names, deep and huge JSON in metadata, numbers where strings
 * belong. Each is bounded or rejected at the valibot boundary and counted, and /state, filtered and partial
 * queries and the change stream still answer valid, bounded JSON.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileItems } from '../../src/demo/market.ts';
import { expectGoWire } from '../helpers/go-wire.ts';
import { eventually, startInProcess } from '../helpers/sidecar.ts';
import { DB_SETUP_TIMEOUT_MS, startTestDb, type TestDb } from '../helpers/pg.ts';
import { insertTasks, insertUserApps } from '../helpers/market-fixtures.ts';
import { openStream } from '../helpers/sse.ts';
import { envelope, startFakeChartRepo, type FakeChartRepo } from '../sources/fake-chart-repo.ts';
import { API, startRealSidecar, stopAll, view, type View as Snapshot } from './helpers.ts';

const MARKUP = '<script>window.__pwned=1</script>"\'&<img src=x onerror=alert(1)>';
const MB = 'n'.repeat(1024 * 1024);
/** user_applications indexes app_name: the market itself could not hold 1 MB there, so past the bound only */
const LONG = 'l'.repeat(3000);
const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
const deepArray = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const now = () => new Date();

let db: TestDb;
let repo: FakeChartRepo;
let sc: Awaited<ReturnType<typeof startInProcess>>;

/** Every string in a JSON value, bounded; returns the longest. */
function longestString(x: unknown, depth = 0): number {
  expect(depth).toBeLessThan(64);
  if (typeof x === 'string') return x.length;
  if (Array.isArray(x)) return x.reduce((m: number, v) => Math.max(m, longestString(v, depth + 1)), 0);
  if (x && typeof x === 'object') return Object.entries(x).reduce((m, [k, v]) => Math.max(m, k.length, longestString(v, depth + 1)), 0);
  return 0;
}

beforeAll(async () => {
  db = await startTestDb();
  await insertTasks(db.sql, [
    { task_id: 'ok-task', type: 1, status: 2, app_name: 'wiki', user_account: 'alice', created_at: now() },
    { task_id: 'markup', type: 1, status: 1, app_name: MARKUP, user_account: 'alice', created_at: now(), error_msg: MARKUP, metadata: JSON.stringify({ note: MARKUP }) },
    { task_id: 'mb-name', type: 1, status: 1, app_name: MB, user_account: 'alice', created_at: now() },
    { task_id: 'mb-error', type: 1, status: 4, app_name: 'wiki', user_account: 'alice', created_at: now(), completed_at: now(), error_msg: MB },
    { task_id: 'deep-meta', type: 1, status: 1, app_name: 'wiki', user_account: 'alice', created_at: now(), metadata: deep(20_000) },
    { task_id: 'deep-array-meta', type: 1, status: 1, app_name: 'wiki', user_account: 'alice', created_at: now(), metadata: deepArray(50_000) },
    { task_id: 'huge-meta', type: 1, status: 1, app_name: 'wiki', user_account: 'alice', created_at: now(), metadata: JSON.stringify({ blob: 'b'.repeat(2 * 1024 * 1024) }) },
    { task_id: 'wrong-meta', type: 1, status: 1, app_name: 'wiki', user_account: 'alice', created_at: now(), metadata: '[1,2,3]' },
    { task_id: 'not-json-meta', type: 1, status: 1, app_name: 'wiki', user_account: 'alice', created_at: now(), metadata: '{"a":' },
  ]);
  await insertUserApps(db.sql, [
    { user_id: 'alice', source_id: 'market', app_name: 'wiki', state: { state: 'running', status_entrances: JSON.stringify([{ name: 'main', state: 'running' }]) } },
    { user_id: 'alice', source_id: 'market', app_name: MARKUP, state: { state: 'installing', message: MARKUP, reason: MARKUP } },
    { user_id: 'alice', source_id: 'market', app_name: LONG, state: { state: 'running' } },
    // numbers where strings belong, and deep JSON, inside the JSONB entrances
    { user_id: 'alice', source_id: 'market', app_name: 'odd-entrances', state: { state: 'running', status_entrances: JSON.stringify([{ name: 42, state: { x: 1 } }, { name: 'ok', state: 'running', reason: 7 }]) } },
    { user_id: 'alice', source_id: 'market', app_name: 'deep-entrances', state: { state: 'running', status_entrances: `[${deep(5000)}]` } },
  ]);
  repo = await startFakeChartRepo();
  const h = hostileItems('alice', 'market');
  repo.set({ kind: 'json', body: envelope({
    system: { hostname: 12345, version: { nested: true }, uptime: 'long', components: JSON.parse(deep(3000)) },
    apps: [
      { app_id: 'good', app_name: 'good', user_id: 'alice', source_id: 'market', state: 'completed' },
      ...h.apps!,
      { app_id: 'mb', app_name: MB, user_id: 'alice', source_id: 'market', state: 'pending' },
      { app_id: 'deep', app_name: 'deep', user_id: 'alice', source_id: 'market', state: 'failed', error: JSON.parse(deep(3000)) },
      { app_id: 7, app_name: 8, user_id: 9, source_id: 10, state: 11 },
    ],
    images: [...h.images!, { image_name: 'img', status: 'fully_downloaded', total_size: '12', nodes: 'many' }],
    tasks: { hydrator: { queue_length: '3', worker_count: 2, tasks: [...h.hydratorTasks!, { task_id: MB }] }, image_analyzer: 'broken' },
  }) }, 'alice', 'market');
  sc = await startRealSidecar(db.url, repo.host, { chartRepoTimeoutMs: 2000 }, { intervalMs: 400, deadlineMs: 8000 });
}, DB_SETUP_TIMEOUT_MS);

afterAll(() => stopAll(sc, repo, db));

describe('hostile data from the sources', () => {
  let snap: Snapshot;
  let raw = '';

  it('is bounded or dropped, and counted; every collector stays healthy', async () => {
    snap = await eventually(async () => {
      const s = await view(sc.base);
      for (const src of ['tasks', 'app_flow', 'components', 'chart_repo'] as const) expect(s.sources[src]?.ok, src).toBe(true);
      expect(s.tasks['ok-task']).toBeDefined();
      expect(s.chart_repo?.apps?.length).toBeGreaterThan(0);
      return s;
    });
    // tasks: the 1 MB name is dropped and counted; the markup is valid data and kept verbatim
    expect(snap.tasks['mb-name']).toBeUndefined();
    expect(snap.tasks.markup).toMatchObject({ app_name: MARKUP, status: 'pending' });
    expect(snap.sources.tasks.counters?.dropped).toBeGreaterThanOrEqual(1);
    // metadata that is deep, huge, not an object or not JSON is left out; the task stays
    for (const id of ['deep-meta', 'deep-array-meta', 'huge-meta', 'wrong-meta', 'not-json-meta']) {
      expect(snap.tasks[id], id).toBeDefined();
      expect(snap.tasks[id]!.metadata, id).toBeUndefined();
    }
    expect(snap.tasks.markup.metadata).toEqual({ note: MARKUP });
    // a 1 MB error message is cut to the text bound, not carried whole
    expect(snap.tasks['mb-error']?.error_msg).toHaveLength(8192);
    // apps: the 1 MB name dropped and counted; the markup app kept; odd entrances do not break the app
    const appNames = Object.values(snap.app_states).map((a) => a.app_name);
    expect(appNames).toContain(MARKUP);
    expect(appNames).toContain('wiki');
    expect(appNames).not.toContain(LONG);
    expect(snap.sources.app_flow.counters?.dropped).toBeGreaterThanOrEqual(1);
    // chart repo: misfits left out one by one and counted, the good ones kept
    const chart = snap.chart_repo!.apps!.map((a) => a.app_name);
    expect(chart).toContain('good');
    expect(chart).not.toContain(MB);
    // an over-long name is clipped, its app kept (Go keeps any string), and counted
    expect(chart).toContain(`${'n'.repeat(255)}…`);
    expect(snap.sources.chart_repo.counters?.clipped_values).toBeGreaterThanOrEqual(3);
    // a field of the wrong type is left out, its app kept; an app whose name is not a string is dropped
    expect(snap.chart_repo!.apps!.find((a) => a.app_name === 'wrong-types')).toMatchObject({ app_id: '', state: 'exploded' });
    expect(snap.chart_repo!.apps!.map((a) => (a as { app_id?: string }).app_id)).not.toContain('no-name');
    expect(snap.sources.chart_repo.counters?.dropped_items).toBeGreaterThanOrEqual(6);
    expect(snap.components.chart_repo.metrics?.dropped_items).toBeGreaterThanOrEqual(6);
  });

  it('/state stays valid and bounded JSON', async () => {
    const res = await fetch(`${sc.base}${API}/state`);
    raw = await res.text();
    const body = JSON.parse(raw) as { success: boolean; data: Snapshot };
    expect(body.success).toBe(true);
    expect(raw.length).toBeLessThan(512 * 1024);
    expect(longestString(body.data)).toBeLessThanOrEqual(8192);
    // and a Go client of the market still decodes it: hostile rows and payloads never break its types
    expectGoWire(body.data);
  });

  it('filtered and partial queries on hostile values answer valid JSON', async () => {
    const enc = encodeURIComponent(MARKUP);
    const filtered = await fetch(`${sc.base}${API}/state?app_name=${enc}&user_id=alice`);
    expect(filtered.status).toBe(200);
    const f = JSON.parse(await filtered.text()) as { data: Snapshot };
    expectGoWire(f.data);
    expect(Object.keys(f.data.tasks)).toEqual(['markup']);
    expect(Object.values(f.data.app_states).map((a) => a.app_name)).toEqual([MARKUP]);
    const byApp = await fetch(`${sc.base}${API}/tasks?app_name=${enc}`);
    expect(JSON.parse(await byApp.text()).data).toHaveLength(1);
    const one = await fetch(`${sc.base}${API}/apps/alice/market/${enc}`);
    expect(one.status).toBe(200);
    expect(JSON.parse(await one.text()).data.app_name).toBe(MARKUP);
    const userApps = await fetch(`${sc.base}${API}/users/alice/apps`);
    expect(JSON.parse(await userApps.text()).data.length).toBeGreaterThanOrEqual(3);
    // a 1 MB name asked for is refused by the bound, not looked up
    const mb = await fetch(`${sc.base}${API}/tasks/${'x'.repeat(300)}`);
    expect(mb.status).toBe(400);
  });

  it('the change stream carries valid JSON events, and the pages still load', async () => {
    const stream = await openStream(`${sc.base}${API}/events`);
    try {
      // a change: one more hostile task, seen on the stream
      await insertTasks(db.sql, [{ task_id: 'late-markup', type: 2, status: 1, app_name: MARKUP, user_account: 'bob', created_at: now() }]);
      await eventually(async () => {
        expect(stream.events.some((e) => e.data.includes('late-markup'))).toBe(true);
      });
      for (const e of stream.events) expect(() => JSON.parse(e.data), e.event).not.toThrow();
    } finally {
      stream.close();
    }
    for (const page of ['dashboard', 'dashboard-app']) {
      const res = await fetch(`${sc.base}${API}/${page}`);
      expect(res.status, page).toBe(200);
      await res.text();
    }
  });
});
