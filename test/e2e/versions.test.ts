/**
 * Issue 17: a version is a change a reader can see. The real collectors (PostgreSQL: embedded locally, the real
 * server in CI; a Chart Repo whose uptime, resource usage, last_check and running durations move on every request) pass many
 * times over a market where nothing changes: the ETag, the bytes and the change stream stay quiet while the
 * freshness header, …/sources and the stream's freshness events move. Then each kind of real change shows
 * within a pass or two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRESH_AS_OF } from '../../src/http/freshness.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { useIfPresent } from '../helpers/services.ts';
import { eventually, restartStore, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { DB_SETUP_TIMEOUT_MS, startTestDb, type TestDb } from '../helpers/pg.ts';
import { insertCatalog, insertSources, insertTasks, insertUserApps } from '../helpers/market-fixtures.ts';
import { expectGoWireEvents } from '../helpers/go-wire.ts';
import { parseProm, sum } from '../helpers/prom.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { openStream } from '../helpers/sse.ts';
import { envelope, startFakeChartRepo, type FakeChartRepo } from '../sources/fake-chart-repo.ts';
import { API, realSpecs, sleep, sources, startRealSidecar, state, stopAll } from '../reliability/helpers.ts';

// (passes that take longer than the interval three times in a row are content: the source's `slow` warning, as it
// should be. At 250 ms a machine at load 10 made them so, and the quiet market minted a version; 1 s it keeps up with)
const INTERVAL_MS = 1000;
const started = Date.now();
/** what the Chart Repo says: only its time-passing values move from one request to the next */
let chartState = 'processing';
/** the Chart Repo's own times of its items: they move only when the item does */
const T = new Date(started - 60_000).toISOString();
const chartBody = () => envelope({
  system: { hostname: 'chart-repo-1', version: '1.0', uptime: Math.floor((Date.now() - started) / 1000) + 100,
    resource_usage: { memory_mb: 100 + ((Date.now() - started) % 97), goroutines: Date.now() % 13 } },
  apps: [{
    app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: chartState,
    // a running app's duration grows with every request (time passing); a finished one's stays
    processing: { task_id: 'h1', duration: chartState === 'completed' ? 5e9 : (Date.now() - started) * 1e6 },
  }, {
    // an app mid-step, with its step's and its own times, and a retry count of 0 (Go keeps zeros here)
    app_id: 'blog', app_name: 'blog', user_id: 'alice', source_id: 'market', state: 'downloading',
    current_step: { name: 'download', index: 1, total: 3, status: 'running', started_at: T, updated_at: T, retry_count: 0 },
    timestamps: { created_at: T, last_updated_at: T },
    processing: { task_id: 'h2', duration: (Date.now() - started) * 1e6 },
  }],
  images: [
    { image_name: 'docker.io/wiki:1', app_name: 'wiki', status: 'fully_downloaded' },
    {
      image_name: 'docker.io/blog:2', app_name: 'blog', status: 'downloading', total_size: 1000, downloaded_size: 425,
      download_progress: 42.5, layer_count: 4, downloaded_layers: 2, nodes: [{ node_name: 'n1', progress: 42.5, total_size: 1000 }],
    },
  ],
  tasks: {
    hydrator: {
      queue_length: 0, active_tasks: 1, completed_tasks: 3, failed_tasks: 0, worker_count: 2,
      tasks: [{
        task_id: 'h2', user_id: 'alice', source_id: 'market', app_id: 'blog', app_name: 'blog', status: 'running',
        step_name: 'render', total_steps: 3, retry_count: 0, created_at: T, updated_at: T,
      }],
    },
    image_analyzer: { is_running: true, health_status: 'healthy', last_check: new Date().toISOString(), queue_length: 0 },
  },
});

let db: TestDb;
let repo: FakeChartRepo;
let sc: Awaited<ReturnType<typeof startInProcess>>;

const get = (query = '', headers: Record<string, string> = {}) => fetch(`${sc.base}${API}/state${query}`, { headers });
const ENCODINGS = ['gzip', 'br'] as const;
/** /state compressed as sent (fetch would decompress it and hide the encoding) */
const compressed = (encoding: string) => rawRequest(sc.base, `${API}/state`, { headers: { 'Accept-Encoding': encoding } });
/** the snapshot bodies compressed so far, by encoding (one job per version and encoding) */
const compressions = async (encoding: string) =>
  sum(parseProm(await (await fetch(`${sc.base}/metrics`)).text()), 'market_runtime_http_compressions_total', { encoding });
/** NATS too where a server is given (required in CI: MARKET_NATS_URL); a quiet subject must mint nothing either */
const NATS_URL = useIfPresent('nats', 'versions: the NATS collector') ? process.env.MARKET_NATS_URL : undefined;
const COLLECTORS = ['tasks', 'app_flow', 'components', 'chart_repo', ...(NATS_URL ? ['nats'] as const : [])] as const;
/** the real collectors' options, the same for every sidecar of this file */
const OPTIONS = { chartRepoTimeoutMs: 10_000, ...(NATS_URL ? { natsUrl: NATS_URL, natsSubject: `versions.${process.pid}.*` } : {}) };

/** The number of passes each collector finished, as …/sources' last_attempt moves. */
async function countPasses(minPasses: number, during: () => Promise<void>): Promise<void> {
  const seen = new Map<string, Set<string>>(COLLECTORS.map((c) => [c, new Set()]));
  const enough = () => [...seen.values()].every((s) => s.size >= minPasses);
  const deadline = Date.now() + 60_000;
  while (!enough()) {
    if (Date.now() > deadline) throw new Error(`fewer than ${minPasses} passes in 60 s: ${[...seen].map(([k, v]) => `${k}=${v.size}`)}`);
    const fresh = await sources(sc.base);
    for (const c of COLLECTORS) {
      const at = fresh[c]?.last_attempt;
      if (at) seen.get(c)!.add(at);
    }
    await during();
  }
}

/** Resolves the moment a run of `source`'s collector ends (watched at every turn of the event loop). */
async function runEnds(source: string): Promise<void> {
  const end = Date.now() + LIVENESS_MS;
  const turn = () => new Promise((r) => setImmediate(r));
  while (!sc.sup.collectorRunning(source)) {
    if (Date.now() > end) throw new Error(`no run of ${source} started`);
    await turn();
  }
  while (sc.sup.collectorRunning(source)) await turn();
}

beforeAll(async () => {
  db = await startTestDb();
  await insertSources(db.sql, [{ source_id: 'market' }]);
  await insertCatalog(db.sql, [{ source_id: 'market', app_id: 'wiki', updated_at: new Date() }]);
  await insertUserApps(db.sql, [
    { user_id: 'alice', source_id: 'market', app_name: 'wiki', state: { state: 'running', status_entrances: '[{"name":"wiki","state":"running"}]' } },
    { user_id: 'bob', source_id: 'market', app_name: 'blog', state: { state: 'installing', progress: '40' } },
  ]);
  await insertTasks(db.sql, [
    { task_id: 'done', type: 1, status: 3, app_name: 'wiki', user_account: 'alice', created_at: new Date(Date.now() - 60_000), completed_at: new Date() },
    { task_id: 'waiting', type: 1, status: 1, app_name: 'blog', user_account: 'bob', created_at: new Date() },
  ]);
  repo = await startFakeChartRepo();
  repo.set({ kind: 'dynamic', body: chartBody });
  // generous request timeout and deadline: on a loaded machine a timed-out request is a real (health) change
  sc = await startRealSidecar(db.url, repo.host, OPTIONS,
    { intervalMs: INTERVAL_MS, deadlineMs: 20_000 },
    async (s) => expect((await state(s.base)).chart_repo?.apps?.[0]?.app_name).toBe('wiki'), 60_000);
}, DB_SETUP_TIMEOUT_MS);

afterAll(() => stopAll(sc, repo, db));

describe('a market where nothing changes', () => {
  it('over 10 passes of every collector: one ETag, the same bytes, only 304s, no change event; freshness moves', async () => {
    // settle: the first passes after start may still bring content (e.g. a component's first full view); the
    // market is quiet once two passes of every collector changed nothing
    let first = await get();
    await eventually(async () => {
      await countPasses(2, async () => { await new Promise((r) => setTimeout(r, INTERVAL_MS)); });
      const again = await get();
      const same = again.headers.get('etag') === first.headers.get('etag');
      first = again;
      expect(same).toBe(true);
    }, 60_000, 0);
    const etag = first.headers.get('etag')!;
    const bytes = await first.text();
    // the compressed variants of this version, made once now: quiet passes must keep them
    const zipped = new Map<string, { etag: string; bytes: Buffer; jobs: number }>();
    for (const encoding of ENCODINGS) {
      const res = await compressed(encoding);
      expect(res.headers['content-encoding']).toBe(encoding);
      zipped.set(encoding, { etag: String(res.headers.etag), bytes: res.bytes, jobs: await compressions(encoding) });
      expect(zipped.get(encoding)!.jobs).toBeGreaterThan(0);
    }
    const stream = await openStream(`${sc.base}${API}/events`);
    await stream.next((e) => e.event === 'snapshot');

    const freshTimes = new Set<string>();
    let polls = 0;
    let notModified = 0;
    await countPasses(10, async () => {
      const res = await get('', { 'If-None-Match': etag });
      polls += 1;
      if (res.status === 304) notModified += 1;
      await res.arrayBuffer();
      const fresh = res.headers.get(FRESH_AS_OF);
      if (fresh) freshTimes.add(fresh);
      await new Promise((r) => setTimeout(r, INTERVAL_MS / 2));
    });

    expect(notModified).toBe(polls);
    const now = await get();
    expect(now.headers.get('etag')).toBe(etag);
    expect(await now.text()).toBe(bytes);
    // the same compressed bodies under the same ETags, and no compression job since
    for (const encoding of ENCODINGS) {
      const before = zipped.get(encoding)!;
      const res = await compressed(encoding);
      expect(res.status, encoding).toBe(200);
      expect(String(res.headers.etag), encoding).toBe(before.etag);
      expect(res.bytes.equals(before.bytes), encoding).toBe(true);
      expect(await compressions(encoding), encoding).toBe(before.jobs);
    }
    // the client that only got 304s still saw how fresh its copy is
    expect(freshTimes.size).toBeGreaterThan(3);
    expect(stream.events.filter((e) => e.event === 'change')).toEqual([]);
    const freshnessEvents = stream.events.filter((e) => e.event === 'freshness');
    expect(freshnessEvents.length).toBeGreaterThan(2);
    expect(Object.keys(JSON.parse(freshnessEvents.at(-1)!.data).sources)).toEqual(expect.arrayContaining([...COLLECTORS]));
    expectGoWireEvents(stream.events);
    await stream.close();

    // the versioned body holds no freshness: each source's health only
    const snap = JSON.parse(bytes).data;
    for (const c of COLLECTORS) expect(snap.sources[c]).toEqual({ ok: true, last_error: null });
    expect(snap.chart_repo.system.uptime).toBeUndefined();
    expect(snap.chart_repo.system.resource_usage).toBeUndefined();
    const fresh = await sources(sc.base);
    expect(fresh.chart_repo!.counters!.chart_repo_uptime).toBeGreaterThanOrEqual(100);
    expect(fresh.chart_repo!.counters!.chart_repo_resource_usage_memory_mb).toBeGreaterThanOrEqual(100);
  }, 120_000);

  it('a collector thread that dies between runs (each one, Chart Repo included) mints no version: its successor says what the store holds', async () => {
    const first = await get();
    const etag = first.headers.get('etag')!;
    const stream = await openStream(`${sc.base}${API}/events`);
    await stream.next((e) => e.event === 'snapshot');
    /** each collector's failed runs so far, as the store counted them */
    const failedRuns = async () => {
      const m = parseProm(await (await fetch(`${sc.base}/metrics`)).text());
      return new Map(COLLECTORS.map((c) => [c, sum(m, 'market_runtime_collection_passes_total', { source: c, result: 'error' })]));
    };
    const failedBefore = await failedRuns();
    for (const c of COLLECTORS) {
      const restarts = () => sc.sup.threadRestarts()[`collector_${c}`] ?? 0;
      const before = restarts();
      // between two runs, right as one ends (the next is an interval away): a run cut short is a failed run,
      // which a reader sees (the collector's component says so)
      await runEnds(c);
      expect(sc.sup.kill(`collector_${c}`)).toBe(true);
      await eventually(async () => expect(restarts()).toBeGreaterThan(before), LIVENESS_MS);
    }
    // every successor's first passes (full ones: the store is told everything again) change nothing
    await countPasses(3, async () => { await new Promise((r) => setTimeout(r, INTERVAL_MS)); });
    const changes = stream.events.filter((e) => e.event === 'change').map((e) => JSON.parse(e.data) as Record<string, unknown>);
    // the stream heard everything up to now: one that ended early would hide versions minted after it
    expect(stream.ended).toBe(false);
    await stream.close();
    const failedAfter = await failedRuns();
    // under load the next run can start as the thread dies: that run fails, and says so in its collector's
    // component (one version), then the next good run says it recovered (one more). So a collector's component
    // may move only if a run of it failed, twice per failed run at most. Nothing else may move: no entity, no
    // Chart Repo block, no empty version
    const moved = new Map<string, object[]>();
    for (const ch of changes) {
      expect(Object.keys(ch).filter((k) => !['version', 'timestamp', 'upserts', 'removed', 'sources', 'summary'].includes(k))).toEqual([]);
      expect(Object.keys(ch.upserts as object)).toEqual(['components']);
      const components = (ch.upserts as { components: Record<string, object> }).components;
      expect(Object.keys(components).length).toBeGreaterThan(0);
      for (const [name, component] of Object.entries(components)) {
        expect(COLLECTORS.map((c) => `collector_${c}`)).toContain(name);
        moved.set(name, [...moved.get(name) ?? [], component]);
      }
      expect(ch.removed).toEqual({});
    }
    for (const c of COLLECTORS) {
      const failed = failedAfter.get(c)! - failedBefore.get(c)!;
      const seen = moved.get(`collector_${c}`) ?? [];
      expect(seen.length, `collector_${c}: ${failed} failed runs, component changes ${JSON.stringify(seen)}`).toBeLessThanOrEqual(2 * failed);
    }
    if (changes.length === 0) expect((await get('', { 'If-None-Match': etag })).status).toBe(304);
    // whatever the components said, the market's view is the one before the kills
    const view = (body: { app_states: unknown; tasks: unknown; chart_repo: unknown }) => ({ app_states: body.app_states, tasks: body.tasks, chart_repo: body.chart_repo });
    expect(view((await (await get()).json()).data)).toEqual(view((await first.json()).data));
  }, 4 * LIVENESS_MS);

  it('a filtered query and a partial query answer 304 on a quiet market too', async () => {
    for (const path of ['/state?user_id=alice', '/users/bob/apps', '/tasks/waiting']) {
      const first = await fetch(`${sc.base}${API}${path}`);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      await countPasses(2, async () => {
        const res = await fetch(`${sc.base}${API}${path}`, { headers: { 'If-None-Match': etag } });
        expect(res.status, path).toBe(304);
        await new Promise((r) => setTimeout(r, INTERVAL_MS));
      });
    }
  }, 4 * LIVENESS_MS);
});

describe('one content, one ETag: on another replica and after a store restart', () => {
  const PATHS = ['/state', '/state?user_id=alice', '/users/bob/apps', '/tasks/waiting'];
  const tagOf = async (base: string, path: string) => {
    const res = await fetch(`${base}${API}${path}`);
    await res.arrayBuffer();
    expect(res.status, path).toBe(200);
    return res.headers.get('etag')!;
  };

  it('a second sidecar on the same market gives the same ETags, and answers 304 to the first one\'s', async () => {
    // a render fails just before the second replica starts: what each says of the hydrator must not depend on
    // what it saw before (it is judged from the rows), or the replicas' tags differ
    await db.sql`UPDATE user_applications SET render_status = 'failed', render_consecutive_failures = 1, updated_at = now() WHERE app_name = 'blog'`;
    await eventually(async () => expect((await state(sc.base)).components.hydrator.healthy).toBe(false), LIVENESS_MS);
    const other = await startInProcess(realSpecs(db.url, repo.host, OPTIONS), { intervalMs: INTERVAL_MS, deadlineMs: 20_000 });
    try {
      await untilReady(other.base, 60_000);
      for (const path of PATHS) {
        // (each replica polls on its own clock: wait until both have passed over the same market)
        const tag = await eventually(async () => {
          const [mine, theirs] = [await tagOf(sc.base, path), await tagOf(other.base, path)];
          expect(theirs, path).toBe(mine);
          return mine;
        }, LIVENESS_MS);
        expect(tag).toMatch(/^W\/"[\w.-]+"$/);
        expect((await fetch(`${other.base}${API}${path}`, { headers: { 'If-None-Match': tag } })).status, path).toBe(304);
      }
      // the bodies may differ only in when each replica saw things
      const [a, b] = [await state(sc.base), await state(other.base)];
      expect(Object.keys(b.app_states).sort()).toEqual(Object.keys(a.app_states).sort());
      expect(b.summary).toEqual(a.summary);
    } finally {
      await other.sup.stop();
    }
  }, 4 * LIVENESS_MS);

  it('a restarted store gives the ETags of before: a poller keeps its 304s', async () => {
    const before = new Map<string, string>();
    for (const path of PATHS) before.set(path, await tagOf(sc.base, path));
    await restartStore(sc);
    for (const path of PATHS) {
      await eventually(async () => {
        expect((await fetch(`${sc.base}${API}${path}`, { headers: { 'If-None-Match': before.get(path)! } })).status, path).toBe(304);
      }, LIVENESS_MS);
    }
  }, 4 * LIVENESS_MS);
});

describe('every real change still shows within a pass', () => {
  /** The passes of one collector the store has applied so far (market_runtime_collection_passes_total, any result). */
  async function passesOf(source: (typeof COLLECTORS)[number]): Promise<number> {
    const text = await (await fetch(`${sc.base}/metrics`, { signal: AbortSignal.timeout(LIVENESS_MS) })).text();
    return parseProm(text).samples
      .filter((x) => x.name === 'market_runtime_collection_passes_total' && x.labels.source === source)
      .reduce((sum, x) => sum + x.value, 0);
  }

  /**
   * Makes a change, then counts the passes of the collector that reads it until a version shows it: at most two
   * (the pass under way when the change was written, which may have read before it, and the next one), however
   * long those passes take on a loaded machine. The count is read before each look at /state, so a pass ending
   * between the two is not counted: the count is never more than the real one. Then a change event.
   */
  async function shows(
    source: (typeof COLLECTORS)[number], change: () => Promise<void>, check: (data: any) => void, checkEvent?: (data: any) => void,
  ) {
    const before = await get();
    const etag = before.headers.get('etag');
    await before.arrayBuffer();
    const stream = await openStream(`${sc.base}${API}/events`);
    await stream.next((e) => e.event === 'snapshot');
    await change();
    const written = await passesOf(source);
    const end = Date.now() + LIVENESS_MS;
    let passes: number;
    for (;;) {
      const counted = await passesOf(source);
      const res = await get();
      if (res.headers.get('etag') !== etag) {
        const data = (await res.json()).data;
        try {
          check(data);
          passes = counted - written;
          break;
        } catch (err) {
          // (a version of something else: this change is still to come)
          if (Date.now() > end) throw err;
        }
      } else {
        await res.arrayBuffer();
        if (Date.now() > end) throw new Error(`no version shows the change ${LIVENESS_MS} ms after it (${counted - written} ${source} passes)`);
      }
      await sleep(INTERVAL_MS / 5);
    }
    expect(passes, `${source} passes between the change and the version that shows it`).toBeLessThanOrEqual(2);
    const event = await stream.next((e) => e.event === 'change', LIVENESS_MS);
    checkEvent?.(JSON.parse(event.data));
    expectGoWireEvents(stream.events);
    await stream.close();
  }

  it('a task row', () => shows('tasks',
    async () => { await db.sql`UPDATE task_records SET status = 2, started_at = now() WHERE task_id = 'waiting'`; },
    (d) => expect(d.tasks.waiting.status).toBe('running'),
  ));

  it('an app state row and its health', () => shows('app_flow',
    async () => {
      await db.sql`UPDATE user_application_states SET status_entrances = '[{"name":"wiki","state":"crashed"}]'::jsonb, updated_at = now()
        WHERE user_application_id = (SELECT id FROM user_applications WHERE app_name = 'wiki')`;
    },
    (d) => expect(d.app_states['alice:market:wiki'].health).toBe('unhealthy'),
  ));

  it('a new user app row (user_applications with its state row)', () => shows('app_flow',
    async () => {
      await db.sql.begin((tx) => insertUserApps(tx as unknown as typeof db.sql, [
        { user_id: 'carol', source_id: 'market', app_name: 'notes', state: { state: 'running', status_entrances: '[{"name":"notes","state":"running"}]' } },
      ]));
    },
    (d) => expect(d.app_states['carol:market:notes']).toMatchObject({ stage: 'running', health: 'healthy' }),
  ));

  it('a market source switched off (market_sources.is_active)', () => shows('components',
    async () => { await db.sql`UPDATE market_sources SET is_active = false WHERE source_id = 'market'`; },
    (d) => expect(d.components.syncer.metrics.sources.market.is_active).toBe(false),
  ));

  it('a catalog row (applications)', () => shows('components',
    async () => { await insertCatalog(db.sql, [{ source_id: 'market', app_id: 'blog', updated_at: new Date() }]); },
    (d) => expect(d.components.syncer.metrics.sources.market.apps).toBe(2),
  ));

  it('Chart Repo content, sent on the stream as the one item that changed', () => shows('chart_repo',
    async () => { chartState = 'completed'; },
    (d) => expect(d.chart_repo.apps.find((a: { app_name: string }) => a.app_name === 'wiki').state).toBe('completed'),
    (e) => {
      expect(Object.keys(e.chart_repo.upserts.apps)).toEqual(['alice:market:wiki']);
      expect(e.chart_repo.upserts.apps['alice:market:wiki'].state).toBe('completed');
      expect(e.chart_repo.upserts.images ?? {}).toEqual({});
      expect(e.chart_repo.removed ?? {}).toEqual({});
    },
  ));

  it('a source going down mints one version, its error text changing another, coming back a third', async () => {
    await shows('chart_repo',
      async () => repo.set({ kind: 'raw', status: 500, body: 'internal error' }),
      (d) => expect(d.sources.chart_repo).toMatchObject({ ok: false, last_error: expect.stringMatching(/HTTP 500/) }),
    );
    // failing again and again with the same error: no new version
    const etag = (await get()).headers.get('etag')!;
    const failuresBefore = (await sources(sc.base)).chart_repo!.consecutive_failures;
    await eventually(async () => expect((await sources(sc.base)).chart_repo!.consecutive_failures).toBeGreaterThan(failuresBefore + 2), LIVENESS_MS);
    expect((await get('', { 'If-None-Match': etag })).status).toBe(304);
    await shows('chart_repo',
      async () => repo.set({ kind: 'raw', body: '<html>maintenance</html>', contentType: 'text/html' }),
      (d) => expect(d.sources.chart_repo.last_error).toMatch(/not JSON/),
    );
    await shows('chart_repo',
      async () => repo.set({ kind: 'dynamic', body: chartBody }),
      (d) => expect(d.sources.chart_repo).toEqual({ ok: true, last_error: null }),
    );
  }, 4 * LIVENESS_MS);
});
