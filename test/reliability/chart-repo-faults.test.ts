/**
 * Issue 7: the whole sidecar (real collectors, real threads) against a Chart Repo that breaks in every way we
 * know. Each time: the other domains keep updating, chart_repo keeps its last good data, the source and the
 * chart_repo component say what is wrong and how stale the view is, and it recovers by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startInProcess } from '../helpers/sidecar.ts';
import { DB_SETUP_TIMEOUT_MS, startTestDb, type TestDb } from '../helpers/pg.ts';
import { insertTasks, insertUserApps } from '../helpers/market-fixtures.ts';
import { envelope, startFakeChartRepo, type FakeChartRepo, type Mode } from '../sources/fake-chart-repo.ts';
import { sources, startRealSidecar, state, stopAll, type Snapshot } from './helpers.ts';

const USERS = ['alice', 'bob'];
const good = (user: string, ...names: string[]): Mode => ({
  kind: 'json',
  body: envelope({
    system: { hostname: 'chart-repo-1', version: '1.0' },
    apps: names.map((n) => ({ app_id: n, app_name: n, user_id: user, source_id: 'market', state: 'completed' })),
    tasks: { hydrator: { queue_length: 1, worker_count: 2, tasks: [{ task_id: `${user}-h` }] } },
  }),
});

let db: TestDb;
let repo: FakeChartRepo;
let repoPort = 0;
let sc: Awaited<ReturnType<typeof startInProcess>>;
let taskSeq = 0;

const chartApps = (s: Snapshot) => (s.chart_repo?.apps ?? []).map((a) => `${a.user_id}/${a.app_name}`).sort();

function setGood(extra: string): void {
  repo.set(good('alice', 'wiki', `alice-${extra}`), 'alice', 'market');
  repo.set(good('bob', 'blog', `bob-${extra}`), 'bob', 'market');
}

beforeAll(async () => {
  db = await startTestDb();
  await insertUserApps(db.sql, USERS.map((u) => ({
    user_id: u, source_id: 'market', app_name: u === 'alice' ? 'wiki' : 'blog', state: { state: 'running' },
  })));
  await insertTasks(db.sql, [{ task_id: 'seed', type: 1, status: 2, app_name: 'wiki', user_account: 'alice', created_at: new Date() }]);
  repo = await startFakeChartRepo();
  repoPort = Number(repo.host.split(':')[1]);
  setGood('start');
  sc = await startRealSidecar(db.url, repo.host, { chartRepoTimeoutMs: 500 }, { intervalMs: 300, deadlineMs: 4000 },
    async (s) => expect(chartApps(await state(s.base))).toEqual(['alice/alice-start', 'alice/wiki', 'bob/blog', 'bob/bob-start']));
}, DB_SETUP_TIMEOUT_MS);

afterAll(() => stopAll(sc, repo, db));

const faults: Array<[string, Mode | 'refuse', RegExp]> = [
  ['a refused connection', 'refuse', /connection refused/],
  ['a hang past the timeout', { kind: 'hang' }, /timeout after 500 ms/],
  ['an HTTP 500', { kind: 'raw', status: 500, body: 'internal error' }, /HTTP 500/],
  ['a non-JSON body', { kind: 'raw', body: '<html><body>maintenance</body></html>', contentType: 'text/html' }, /not JSON/],
  ['valid JSON of the wrong shape', { kind: 'json', body: { ok: true, items: [1, 2, 3] } }, /not the envelope/],
  // 32 MiB cap: cut off past it, or by the timeout when loopback is slower than the cap
  ['a 100 MB body', { kind: 'huge', bytes: 100 * 1024 * 1024 }, /body too large|timeout after 500 ms/],
  ['a body trickling one byte per second', { kind: 'trickle' }, /timeout after 500 ms/],
];

describe('Chart Repo faults, whole sidecar', () => {
  it.each(faults)('under %s: keeps the last good view, says so, other domains update, then recovers', async (name, fault, error) => {
    const tag = name.replace(/\W+/g, '-');
    setGood(tag);
    const before = await eventually(async () => {
      const s = await state(sc.base);
      expect(chartApps(s)).toContain(`alice/alice-${tag}`);
      expect(s.sources.chart_repo.ok).toBe(true);
      return s;
    });
    const goodView = chartApps(before);
    const faultAt = new Date().toISOString();

    if (fault === 'refuse') await repo.close();
    else for (const u of USERS) repo.set(fault, u, 'market');

    // another domain keeps moving while the Chart Repo is broken
    const taskId = `during-${++taskSeq}`;
    await insertTasks(db.sql, [{ task_id: taskId, type: 1, status: 1, app_name: 'wiki', user_account: 'alice', created_at: new Date() }]);

    const broken = await eventually(async () => {
      const s = await state(sc.base);
      expect(s.sources.chart_repo.ok).toBe(false);
      expect(s.sources.chart_repo.last_error).toMatch(error);
      expect((await sources(sc.base)).chart_repo!.consecutive_failures).toBeGreaterThanOrEqual(2);
      expect(s.tasks[taskId]?.status).toBe('pending');
      return s;
    });
    // the last good data, whole
    expect(chartApps(broken)).toEqual(goodView);
    expect(broken.chart_repo?.last_update).toBe(before.chart_repo?.last_update);
    // the error and the staleness, in the source's freshness and in the component
    const src = (await sources(sc.base)).chart_repo!;
    expect(src.last_success! <= faultAt || src.last_success! < src.last_attempt!).toBe(true);
    expect(src.counters).toMatchObject({ failed_pairs: 2, stale_pairs: 2 });
    expect(src.counters!.stale_ms).toBeGreaterThan(0);
    const comp = broken.components.chart_repo;
    expect(comp).toMatchObject({ healthy: false, status: 'error' });
    expect(comp.message).toMatch(/^2\/2 requests failed: /);
    expect(comp.message).toContain('alice/market');
    expect(comp.message).toMatch(error);
    expect(comp.metrics).toMatchObject({ pairs: 2, stale_pairs: 2 });
    expect(String(comp.metrics!.stale_since) <= faultAt).toBe(true);
    expect(broken.components.collector_chart_repo).toMatchObject({ healthy: false, status: 'error' });
    // the other collectors are fine
    for (const s of ['tasks', 'app_flow', 'components'] as const) expect(broken.sources[s].ok).toBe(true);

    // back: new content shows, the component and the source are healthy again, no restart was needed
    if (fault === 'refuse') repo = await startFakeChartRepo(repoPort);
    setGood(`${tag}-back`);
    const back = await eventually(async () => {
      const s = await state(sc.base);
      expect(chartApps(s)).toContain(`alice/alice-${tag}-back`);
      expect(s.sources.chart_repo).toEqual({ ok: true, last_error: null });
      expect((await sources(sc.base)).chart_repo).toMatchObject({ ok: true, consecutive_failures: 0, last_error: null });
      return s;
    });
    expect(back.components.chart_repo).toMatchObject({ healthy: true, status: 'running' });
    expect(back.components.chart_repo.metrics?.stale_pairs).toBeUndefined();
    const backFresh = (await sources(sc.base)).chart_repo!;
    expect(backFresh.counters).toMatchObject({ stale_pairs: 0, failed_pairs: 0 });
    expect(backFresh.counters?.restarts ?? 0).toBe(0);
  });
});
