/**
 * Issue 18: no caller waits forever on another thread. The store thread is killed while a collector run is
 * failing, while a pass waits for the store's acknowledgement, and while queries are in flight: every
 * collector runs again and /readyz is back to 200 within a generous liveness bound (30 s). Restarts of every
 * thread kind are counted in the supervisor and exported; a run past its deadline is told to stop and its
 * thread replaced only when it does not; a thread past its heap limit is replaced alone.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';
import { eventually, fake, killStore, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { app, task } from '../helpers/store-fixtures.ts';
import { API, view } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'mr-deadlines-'));
const failing = join(dir, 'failing.json');
writeFileSync(failing, JSON.stringify({ throw: 'market database unreachable' }));
/** the components fake's runs that handed their pass over so far */
const componentsDone = join(dir, 'components-done');
const passesHanded = () => (existsSync(componentsDone) ? Number(readFileSync(componentsDone, 'utf8')) : 0);

type Sidecar = Awaited<ReturnType<typeof startInProcess>>;

/** /readyz 200 and a run of every collector recorded by the store after `since`, within the liveness bound. */
async function everyCollectorRanAgain(sc: Sidecar, sources: string[], since: number): Promise<void> {
  await eventually(async () => {
    expect((await fetch(`${sc.base}/readyz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
    const s = await view(sc.base);
    for (const source of sources) {
      const at = Date.parse(s.sources[source]?.last_attempt ?? '');
      expect(at, `${source}: ${JSON.stringify(s.sources[source])}`).toBeGreaterThan(since);
    }
  }, LIVENESS_MS, 200);
}

async function restartsMetric(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^market_runtime_thread_restarts_total\{thread="([^"]+)"\} (\d+)$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

describe('the store thread dying while others wait on it', () => {
  let sc: Sidecar;
  const sources = ['tasks', 'app_flow', 'components'];
  beforeAll(async () => {
    sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 20 }),
      // a run that fails after a while: it ends while the store is dead
      fake('app_flow', { mode: 'file', file: failing, delayMs: 1500 }),
      // a slow healthy run: its pass is posted to a store that is gone and waits for an acknowledgement
      fake('components', { mode: 'passes', count: 3, delayMs: 1500, doneFile: componentsDone }),
    ], { intervalMs: 200, deadlineMs: 20_000 });
    await untilReady(sc.base);
  }, 60_000);
  afterAll(() => sc?.sup.stop());

  it('while a collector run is failing and its thread dies too: the outcome is not waited for forever', async () => {
    // the failing collector has failed before and is in the middle of its next run (1.5 s of delay, then it fails)
    await eventually(async () => expect((await view(sc.base)).sources.app_flow?.ok).toBe(false), LIVENESS_MS);
    await eventually(async () => expect(sc.sup.collectorRunning('app_flow')).toBe(true), LIVENESS_MS, 20);
    const killedAt = Date.now();
    const before = sc.sup.storeRestarts;
    sc.sup.kill('store');
    // its thread dies while the store is gone: the supervisor reports that outcome to a dead store
    sc.sup.kill('collector_app_flow');
    await everyCollectorRanAgain(sc, sources, killedAt);
    expect(sc.sup.storeRestarts).toBe(before + 1);
    const s = await view(sc.base);
    expect(s.sources.app_flow).toMatchObject({ ok: false, last_error: 'market database unreachable' });
    expect(s.sources.app_flow.counters?.restarts).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('while a pass waits for its acknowledgement: the run ends and the next one feeds the new store', async () => {
    // the store hangs (under the watchdog's limit), so a pass handed to it meanwhile waits for its acknowledgement
    const handed = passesHanded();
    expect(sc.sup.hang('store', 15_000)).toBe(true);
    await eventually(async () => expect(passesHanded()).toBeGreaterThan(handed), LIVENESS_MS, 20);
    // the run is still in flight: its pass is on the hung store's port, unacknowledged
    expect(sc.sup.collectorRunning('components')).toBe(true);
    const killedAt = Date.now();
    await killStore(sc);
    await everyCollectorRanAgain(sc, sources, killedAt);
    const s = await view(sc.base);
    expect(Object.keys(s.components).filter((k) => !k.startsWith('collector_'))).toHaveLength(0);
    expect(s.sources.components.ok).toBe(true);
    // 20 from tasks, 3 from the components fake (it lists tasks too)
    expect(Object.keys(s.tasks)).toHaveLength(23);
  }, 60_000);

  it('while queries are in flight: each gets an answer (200 or 503), then filtered queries work again', async () => {
    const asking = Array.from({ length: 40 }, (_, i) =>
      fetch(`${sc.base}${API}/state?user_id=user${i % 7}&task_status=running`, { signal: AbortSignal.timeout(LIVENESS_MS) })
        .then((r) => r.status));
    const killedAt = Date.now();
    const restarts = sc.sup.storeRestarts;
    expect(sc.sup.kill('store')).toBe(true);
    const more = Array.from({ length: 40 }, (_, i) =>
      fetch(`${sc.base}${API}/tasks?user_id=user${i % 7}`, { signal: AbortSignal.timeout(LIVENESS_MS) }).then((r) => r.status));
    const statuses = await Promise.all([...asking, ...more]);
    for (const st of statuses) expect([200, 503]).toContain(st);
    // the store really died meanwhile: 200s alone would say nothing
    await eventually(async () => expect(sc.sup.storeRestarts).toBe(restarts + 1), LIVENESS_MS, 20);
    await everyCollectorRanAgain(sc, sources, killedAt);
    expect((await fetch(`${sc.base}${API}/state?user_id=user1`)).status).toBe(200);
  }, 60_000);

  it('counts every restart in the supervisor and exports them in /metrics, whichever thread died', async () => {
    const before = sc.sup.threadRestarts();
    // the compression thread starts on the first compressed answer; make sure it exists, then kill it (a kill
    // of none is no kill: false)
    await (await fetch(`${sc.base}${API}/state`, { headers: { 'accept-encoding': 'gzip' } })).arrayBuffer();
    expect(await sc.sup.kill('compress')).toBe(true);
    // the HTTP thread reports its compression thread's replacement: let it, before it dies itself
    await eventually(async () => expect(sc.sup.threadRestarts().compress).toBeGreaterThanOrEqual(before.compress + 1), LIVENESS_MS);
    sc.sup.kill('http');
    await eventually(async () => expect((await fetch(`${sc.base}/readyz`, { signal: AbortSignal.timeout(2000) })).status).toBe(200), LIVENESS_MS);
    await eventually(async () => {
      const m = await restartsMetric(sc.base);
      // exactly the supervisor's counts, every thread kind present
      expect(m).toEqual(sc.sup.threadRestarts());
      expect(m.http).toBe(before.http + 1);
      expect(m.compress).toBeGreaterThanOrEqual(before.compress + 1);
      expect(m.store).toBe(before.store);
      expect(m.collector_tasks).toBe(0);
    }, LIVENESS_MS);
  }, 60_000);
});

/** GET …/sources: the `threads` block (every thread's restarts, from the supervisor). */
async function threadsShown(base: string): Promise<Record<string, { restarts: number; last_restart_at: string | null; last_restart_reason: string | null }>> {
  const res = await fetch(`${base}${API}/sources`, { signal: AbortSignal.timeout(LIVENESS_MS) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { threads: never } }).data.threads;
}

describe('every thread\'s restarts in …/sources (unversioned)', () => {
  let sc: Sidecar;
  const quietTasks = join(dir, 'quiet-tasks.json');
  const quietApps = join(dir, 'quiet-apps.json');
  // a market where nothing changes, its /state large enough to be compressed (the compression thread starts)
  writeFileSync(quietTasks, JSON.stringify([{ op: 'replace', domain: 'tasks', items: Array.from({ length: 30 }, (_, i) => task(`t${i}`, `app${i}`, 'alice')) }]));
  writeFileSync(quietApps, JSON.stringify([{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]));
  beforeAll(async () => {
    sc = await startInProcess([
      fake('tasks', { mode: 'file', file: quietTasks }),
      fake('app_flow', { mode: 'file', file: quietApps }),
    ], { intervalMs: 200, deadlineMs: 20_000 });
    await untilReady(sc.base);
  }, 60_000);
  afterAll(() => sc?.sup.stop());

  it('shows the store, HTTP, compression and collector restarts with when and why; the version does not move', async () => {
    const names = ['store', 'http', 'compress', 'collector_tasks', 'collector_app_flow'];
    const shown = await threadsShown(sc.base);
    expect(Object.keys(shown).sort()).toEqual([...names].sort());
    for (const n of names) expect(shown[n], n).toEqual({ restarts: 0, last_restart_at: null, last_restart_reason: null });
    const first = await fetch(`${sc.base}${API}/state`);
    const etag = first.headers.get('etag');
    expect(JSON.parse(await first.text()).data).not.toHaveProperty('threads');

    const killedAt = Date.now();
    sc.sup.kill('store');
    await eventually(async () => {
      expect((await fetch(`${sc.base}/readyz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
      expect((await threadsShown(sc.base)).store).toMatchObject({ restarts: 1, last_restart_reason: 'killed (chaos control)' });
    }, LIVENESS_MS);
    // the compression thread starts with the first compressed answer
    await (await fetch(`${sc.base}${API}/state`, { headers: { 'accept-encoding': 'gzip' } })).arrayBuffer();
    sc.sup.kill('compress');
    await eventually(async () => expect((await threadsShown(sc.base)).compress)
      .toMatchObject({ restarts: 1, last_restart_reason: 'killed (chaos control)' }), LIVENESS_MS);
    sc.sup.kill('http');
    await eventually(async () => {
      expect((await fetch(`${sc.base}/readyz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
      // the new HTTP thread shows what happened before it (the supervisor's counts survive it)
      const after = await threadsShown(sc.base);
      expect(after.http).toMatchObject({ restarts: 1, last_restart_reason: 'killed (chaos control)' });
      expect(after.store.restarts).toBe(1);
      expect(after.compress.restarts).toBe(1);
    }, LIVENESS_MS);
    // restarts are not content: the same ETag, 304 to it
    const again = await fetch(`${sc.base}${API}/state`, { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);

    sc.sup.kill('collector_app_flow');
    await eventually(async () => {
      const after = await threadsShown(sc.base);
      expect(after.collector_app_flow).toMatchObject({ restarts: 1, last_restart_reason: 'killed (chaos control)' });
      expect(after.collector_tasks.restarts).toBe(0);
      for (const n of ['store', 'http', 'compress', 'collector_app_flow']) {
        expect(Date.parse(after[n].last_restart_at!), n).toBeGreaterThanOrEqual(killedAt);
      }
      // the same counts as /metrics
      const m = await restartsMetric(sc.base);
      expect(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v.restarts]))).toEqual(m);
    }, LIVENESS_MS);
  }, 4 * LIVENESS_MS);
});

describe('collector runs past their deadline', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 5 }),
      fake('components', { mode: 'hang' }),
      fake('chart_repo', { mode: 'stop-at-deadline' }),
      // slow to start (longer than the 2 s grace): the grace of a run that stops on time counts from the run, not
      // from the thread's start. The start itself must stay within deadline + grace (5 s), with room for a
      // busy machine's thread start (a 1 s deadline left 0.5 s, and CI once took longer)
      fake('app_flow', { mode: 'stop-at-deadline', startDelayMs: 2500 }),
    ], { intervalMs: 200, deadlineMs: 3000 });
  }, 60_000);
  afterAll(() => sc?.sup.stop());

  it('are told to stop at the deadline; only a thread that does not stop is replaced (and counted)', async () => {
    await eventually(async () => {
      const s = await view(sc.base);
      expect(s.sources.components?.last_error).toBe(
        'deadline of 3000 ms exceeded and the run did not stop within 2000 ms; thread replaced');
      expect(s.sources.components.counters?.restarts).toBeGreaterThanOrEqual(1);
      expect(s.sources.chart_repo?.last_error).toBe('stopped at the deadline');
      expect(s.sources.chart_repo.consecutive_failures).toBeGreaterThanOrEqual(2);
      expect(s.sources.app_flow?.last_error).toBe('stopped at the deadline');
      expect(s.sources.app_flow.consecutive_failures).toBeGreaterThanOrEqual(2);
    }, LIVENESS_MS);
    // …/sources says why the thread was replaced
    expect((await threadsShown(sc.base)).collector_components.last_restart_reason).toBe(
      'deadline of 3000 ms exceeded and the run did not stop within 2000 ms; thread replaced');
    const r = sc.sup.threadRestarts();
    expect(r.collector_chart_repo).toBe(0);
    expect(r.collector_app_flow).toBe(0);
    expect(r.collector_tasks).toBe(0);
    expect((await view(sc.base)).sources.tasks.ok).toBe(true);
  }, 90_000);
});

describe('a thread past its heap limit', () => {
  let sc: Sidecar;
  beforeAll(async () => {
    sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 5 }),
      fake('components', { mode: 'leak' }),
    // a long deadline: on a busy machine the leak must reach the heap limit before the run is cut
    // the default limits within a 256 MiB process (MEMORY_LIMIT_MB=256): a collector's heap stops at 64 MiB
    ], { intervalMs: 200, deadlineMs: 120_000, memoryLimitBytes: 256 * 2 ** 20 });
  }, 60_000);
  afterAll(() => sc?.sup.stop());

  it('is replaced alone and counted (ERR_WORKER_OUT_OF_MEMORY is a restart like any death)', async () => {
    await eventually(async () => {
      const s = await view(sc.base);
      expect(s.sources.components?.last_error).toMatch(/collector thread died: .*memory limit/);
      expect(s.sources.components.counters?.restarts).toBeGreaterThanOrEqual(1);
      expect((await restartsMetric(sc.base)).collector_components).toBeGreaterThanOrEqual(1);
      expect((await threadsShown(sc.base)).collector_components.last_restart_reason).toMatch(/ERR_WORKER_OUT_OF_MEMORY|memory limit/);
    }, 2 * LIVENESS_MS);
    // the rest of the process is untouched
    expect(sc.sup.storeRestarts).toBe(0);
    expect(sc.sup.httpRestarts).toBe(0);
    expect((await view(sc.base)).sources.tasks.ok).toBe(true);
  }, 90_000);
});

describe('a graceful stop while the HTTP thread is down', () => {
  it('does not wait for an answer from the dead thread: it stops long before half its budget', async () => {
    // a budget far past the liveness bound: a stop that waits on the dead thread's close (half the budget)
    // cannot end within the bound, one that knows the thread is gone ends in moments
    const sup = new Supervisor({
      port: 0, host: '127.0.0.1', collectIntervalMs: 200, collectDeadlineMs: 5000,
      shutdownTimeoutMs: 4 * LIVENESS_MS,
      collectors: [fake('tasks', { mode: 'passes', count: 5 })],
      log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    });
    await sup.start();
    const http = sup.threads().http;
    // the HTTP thread dies; the stop comes before its restart (0.5 s later)
    await http.terminate();
    const stopped = sup.stop().then(() => 'stopped');
    const late = new Promise((r) => setTimeout(r, LIVENESS_MS, 'still stopping')).then((x) => x);
    expect(await Promise.race([stopped, late])).toBe('stopped');
  }, 3 * LIVENESS_MS);
});
