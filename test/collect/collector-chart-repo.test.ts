import * as v from 'valibot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { eventually } from '../helpers/sidecar.ts';
import { createCollector } from '../../src/collect/collectors/chart-repo.ts';
import type { ChartRepoCollectorOptions } from '../../src/collect/collectors/chart-repo.ts';
import type { CollectResult, Collector } from '../../src/collect/collector.ts';
import { ChartRepoStatus as ChartRepoStatusSchema } from '../../src/model/index.ts';
import type { ChartRepoStatus, ComponentStatus } from '../../src/model/index.ts';
import { startEmbeddedPostgres } from '../../src/demo/embedded-postgres.ts';
import type { EmbeddedPostgres } from '../../src/demo/embedded-postgres.ts';
import { closedPort, envelope, startFakeChartRepo } from '../sources/fake-chart-repo.ts';
import type { FakeChartRepo, Mode } from '../sources/fake-chart-repo.ts';
import { ChartRepoView, type HeldChartRepo } from '../../src/store/chart-repo-view.ts';
import { renderHeld } from '../helpers/chart-repo-held.ts';
import { MIN_INTERVAL_COUNTER, type StoreStep } from '../../src/protocol.ts';

const ALICE = { user: 'alice', source: 'market' };
const BOB = { user: 'bob', source: 'market' };
const T0 = Date.parse('2025-01-01T00:00:00Z');

const appsOf = (user: string, ...names: string[]) => envelope({
  system: { hostname: `cr-${user}` },
  apps: names.map((n) => ({ app_id: n, app_name: n, user_id: user, source_id: 'market', state: 'completed' })),
  tasks: { hydrator: { queue_length: 1, tasks: [{ task_id: `${user}-t` }] } },
});
const good = (user: string, ...names: string[]): Mode => ({ kind: 'json', body: appsOf(user, ...names) });

let repo: FakeChartRepo;
const open: Collector[] = [];
let clock = T0;

/** A request timeout the tests about timeouts set; the others wait as long as a loaded machine may need. */
const SHORT_TIMEOUT_MS = 2000;

async function collector(opts: Partial<ChartRepoCollectorOptions> = {}): Promise<Collector> {
  const c = await createCollector({
    chartRepoHost: repo.host, chartRepoTimeoutMs: LIVENESS_MS, pairs: [ALICE, BOB], maxBodyBytes: 1024 * 1024, ...opts,
  });
  open.push(c);
  return c;
}

/** what a store holds from each collector's passes (the collector sends only the pairs that changed) */
const stores = new WeakMap<Collector, ChartRepoView>();
/** the steps each run sent ahead of its pass */
const sentAhead = new WeakMap<CollectResult, StoreStep[]>();
/** the view held after each run */
const held = new WeakMap<CollectResult, HeldChartRepo>();

async function run(c: Collector, signal = AbortSignal.timeout(LIVENESS_MS)): Promise<CollectResult> {
  clock += 5000;
  const store = stores.get(c) ?? new ChartRepoView();
  stores.set(c, store);
  const ahead: StoreStep[] = [];
  // (parts sent ahead reach the store during the pass, as the collector runtime sends them)
  const sendAhead = async (step: Extract<StoreStep, { op: 'chart_repo_parts' }>) => { ahead.push(step); store.stage(step.pairs); };
  const r = await c.collect({ signal, now: () => new Date(clock), full: !store.held, sendAhead });
  sentAhead.set(r, ahead);
  for (const step of r.steps) {
    if (step.op === 'chart_repo_pairs') expect(store.setPairs(step).reread).toEqual([]);
  }
  if (store.held) held.set(r, store.held);
  return r;
}

function view(r: CollectResult): ChartRepoStatus {
  const h = held.get(r);
  if (!h) throw new Error('no chart_repo view');
  return JSON.parse(renderHeld(h)) as ChartRepoStatus;
}
const pairSteps = (r: CollectResult) => r.steps.filter((s) => s.op === 'chart_repo_pairs');
/** the users whose own part went with a pass (the others are named by content: the store holds them) */
const parts = (r: CollectResult) => pairSteps(r).flatMap((s) => s.op === 'chart_repo_pairs' ? s.pairs.filter((p) => p.part).map((p) => p.user) : []);
function component(r: CollectResult): ComponentStatus {
  const step = r.steps.find((s) => s.op === 'upsert' && s.domain === 'components');
  if (step?.op !== 'upsert' || step.domain !== 'components') throw new Error('no component step');
  return step.items[0];
}
const appNames = (r: CollectResult) => view(r).apps?.map((a) => `${a.user_id}/${a.app_name}`);

beforeAll(async () => { repo = await startFakeChartRepo(); });
afterEach(async () => { await Promise.all(open.splice(0).map((c) => c.close?.())); });
afterAll(async () => { await repo.close(); });

describe('chart repo collector', () => {
  it('merges one answer per pair into the view and a running chart_repo component', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog', 'chat'), 'bob', 'market');
    const r = await run(await collector());
    expect(appNames(r)).toEqual(['alice/wiki', 'bob/blog', 'bob/chat']);
    expect(view(r).system).toEqual({ hostname: 'cr-alice' });
    expect(view(r).tasks?.hydrator).toMatchObject({ queue_length: 2, tasks: [{ task_id: 'alice-t' }, { task_id: 'bob-t' }] });
    expect(view(r).last_update).toBe(new Date(clock).toISOString());
    expect(component(r)).toMatchObject({ name: 'chart_repo', healthy: true, status: 'running' });
    expect(r.counters).toMatchObject({ pairs: 2, failed_pairs: 0, dropped_items: 0 });
    expect(r.counters!.bytes).toBeGreaterThan(0);
    expect(r.warning).toBeUndefined();
  });

  it('takes each of the Chart Repo\'s own blocks from the first answer that holds it, and none once no answer does', async () => {
    // alice's answer (the first pair) holds neither block; bob's holds both: Go keeps bob's
    repo.set({ kind: 'json', body: envelope({ apps: [{ app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: 'completed' }] }) }, 'alice', 'market');
    repo.set({ kind: 'json', body: envelope({ system: { hostname: 'cr-bob' }, tasks: { image_analyzer: { is_running: true, queue_length: 3 } } }) }, 'bob', 'market');
    const c = await collector();
    const both = await run(c);
    expect(view(both).system).toEqual({ hostname: 'cr-bob' });
    expect(view(both).tasks?.image_analyzer).toMatchObject({ is_running: true, queue_length: 3 });

    // alice's now holds the analyzer only: the analyzer is hers, the system still bob's
    repo.set({ kind: 'json', body: envelope({ tasks: { image_analyzer: { is_running: false, queue_length: 1 } } }) }, 'alice', 'market');
    const mixed = await run(c);
    expect(view(mixed).system).toEqual({ hostname: 'cr-bob' });
    expect(view(mixed).tasks?.image_analyzer).toMatchObject({ is_running: false, queue_length: 1 });

    // answers that hold neither: the blocks leave the view (the last ones are kept only when no pair answered)
    repo.set({ kind: 'json', body: envelope({}) }, 'bob', 'market');
    repo.set({ kind: 'json', body: envelope({}) }, 'alice', 'market');
    const none = await run(c);
    expect(view(none).system).toBeUndefined();
    expect(view(none).tasks?.image_analyzer).toBeUndefined();
  });

  it('leaves out and counts bad fields and items of a partial answer, keeping the rest', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set({ kind: 'json', body: envelope({ apps: [
      { app_id: 'blog', app_name: 'blog', user_id: 'bob', source_id: 'market', state: 'failed' },
      { app_id: 'chat', app_name: 'chat', user_id: 'bob', source_id: 'market', state: 42 },
      { app_id: 'x', app_name: 42, user_id: 'bob', source_id: 'market', state: 'failed' },
    ] }) }, 'bob', 'market');
    const r = await run(await collector());
    // chat's state (a number) is left out; the app named 42 cannot be told apart and is dropped
    expect(appNames(r)).toEqual(['alice/wiki', 'bob/blog', 'bob/chat']);
    expect(r.counters).toMatchObject({ dropped_items: 2, failed_pairs: 0 });
    expect(component(r)).toMatchObject({ status: 'running', message: '2 invalid items or fields left out' });
  });

  it('counts what the view leaves out the same whichever pairs fail: a Chart Repo failing at random mints no version by it', async () => {
    const CAROL = { user: 'carol', source: 'market' };
    const withBadItem: Mode = { kind: 'json', body: envelope({ apps: [
      { app_id: 'blog', app_name: 'blog', user_id: 'bob', source_id: 'market', state: 'failed', timestamps: 42 },
    ] }) };
    const fail: Mode = { kind: 'raw', status: 500, body: 'oops' };
    const c = await collector({ pairs: [ALICE, BOB, CAROL] });
    const components: Omit<ComponentStatus, 'last_check'>[] = [];
    for (const failing of ['alice', 'bob', 'alice', 'bob']) {
      repo.set(failing === 'alice' ? fail : good('alice', 'wiki'), 'alice', 'market');
      repo.set(failing === 'bob' ? fail : withBadItem, 'bob', 'market');
      repo.set(good('carol', 'notes'), 'carol', 'market');
      const r = await run(c);
      // (the pass's own counter counts the answers it read: bob's bad field only when bob answered)
      expect(r.counters?.dropped_items).toBe(failing === 'bob' ? 0 : 1);
      const { last_check: _, ...content } = component(r);
      components.push(content);
    }
    expect(components[0]).toMatchObject({ status: 'degraded', metrics: { dropped_items: 1 } });
    for (const c of components) expect(c).toEqual(components[0]);
  });

  const faults: Array<[string, Mode, string]> = [
    ['500', { kind: 'raw', status: 500, body: 'oops' }, 'HTTP 500 Internal Server Error'],
    ['non-JSON', { kind: 'raw', body: '<html>maintenance</html>' }, 'not JSON'],
    ['malformed JSON', { kind: 'raw', body: '{"success":true,' }, 'not JSON'],
    ['valid JSON of the wrong shape', { kind: 'json', body: { ok: true, items: [] } }, 'not the envelope'],
    ['a hang past the timeout', { kind: 'hang' }, `timeout after ${SHORT_TIMEOUT_MS} ms`],
    ['a body trickling a byte a second', { kind: 'trickle' }, `timeout after ${SHORT_TIMEOUT_MS} ms`],
    ['a 100 MB body', { kind: 'huge', bytes: 100 * 1024 * 1024 }, 'body too large'],
    // (answers that read as no items would empty the pair while the source said ok: failed like the rest)
    ['apps as an object', { kind: 'json', body: envelope({ apps: { a: 1 } }) }, 'data.apps is not a list'],
    ['apps as a string', { kind: 'json', body: envelope({ apps: 'lots' }) }, 'data.apps is not a list'],
    ['images as an object', { kind: 'json', body: envelope({ apps: [], images: { a: 1 } }) }, 'data.images is not a list'],
    ['hydrator tasks as a string', { kind: 'json', body: envelope({ apps: [], tasks: { hydrator: { tasks: 'lots' } } }) }, 'data.tasks.hydrator.tasks is not a list'],
  ];

  it.each(faults)('keeps the last good answer of a pair failing with %s, then recovers', async (_name, fault, error) => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const c = await collector(String(error).startsWith('timeout') ? { chartRepoTimeoutMs: SHORT_TIMEOUT_MS } : {});
    await run(c);

    repo.set(good('alice', 'wiki', 'notes'), 'alice', 'market');
    repo.set(fault, 'bob', 'market');
    const bad = await run(c);
    expect(appNames(bad)).toEqual(['alice/wiki', 'alice/notes', 'bob/blog']);
    expect(component(bad)).toMatchObject({ healthy: true, status: 'degraded' });
    expect(component(bad).message).toContain(`some requests failed: ${error}`);
    expect(bad.warning).toContain(`some requests failed: ${error}`);
    expect(bad.warning).not.toContain('bob/market');
    // which pair failed goes to the log only (PassOutcome.warning_detail)
    expect(bad.warningDetail).toEqual([expect.stringContaining(`bob/market: ${error}`)]);
    expect(bad.counters).toMatchObject({ pairs: 2, failed_pairs: 1 });

    repo.set(good('bob', 'blog', 'chat'), 'bob', 'market');
    const back = await run(c);
    expect(appNames(back)).toEqual(['alice/wiki', 'alice/notes', 'bob/blog', 'bob/chat']);
    // degraded, as it read, until 3 clean passes in a row (a pass that is clean by chance changes nothing)
    expect({ ...component(back), last_check: 0 }).toEqual({ ...component(bad), last_check: 0 });
    expect(back.warning).toBe(bad.warning);
    await run(c);
    const recovered = await run(c);
    expect(component(recovered)).toMatchObject({ healthy: true, status: 'running' });
    expect(component(recovered).message).toBeUndefined();
    expect(recovered.warning).toBeUndefined();
  });

  const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  /**
   * alice's answer with `system` and `analyzer` members written into its blocks as text: values JSON.stringify
   * cannot write (too deep), as the Chart Repo would send them
   */
  const aliceWith = (system: string, analyzer = ''): Mode => ({
    kind: 'raw', contentType: 'application/json', body: JSON.stringify(envelope({
      system: { hostname: 'cr-alice' },
      apps: [{ app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: 'completed' }],
      tasks: { image_analyzer: { is_running: true } },
    })).replace('"hostname":"cr-alice"', `"hostname":"cr-alice",${system}`).replace('"is_running":true', `"is_running":true${analyzer && `,${analyzer}`}`),
  });
  const hostileBlocks: Array<[string, string, { analyzer?: string; system?: object; dropped: number; uptime?: number }]> = [
    ['a list 200,000 deep beside the uptime', `"uptime":7,"deep":${nested(200_000)}`, { system: { hostname: 'cr-alice' }, dropped: 1, uptime: 7 }],
    ['components 200,000 deep beside the uptime', `"uptime":7,"components":{"db":${nested(200_000)}}`, { system: { hostname: 'cr-alice' }, dropped: 1, uptime: 7 }],
    ['a list 200,000 deep and no measurement', `"deep":${nested(200_000)}`, { system: { hostname: 'cr-alice' }, dropped: 1 }],
    // (past what keying the blocks can take: they are bad blocks, counted, never the whole pass)
    ['a last_check of 15 million escapes', '"uptime":7', { analyzer: `"last_check":"${'\\"'.repeat(15_000_000)}"`, dropped: 1, uptime: 7 }],
  ];

  it.each(hostileBlocks)('applies every pair when the Chart Repo\'s own blocks are hostile: %s', async (_name, system, want) => {
    repo.set(aliceWith(system, want.analyzer), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const c = await collector({ maxBodyBytes: 64 * 1024 * 1024 });
    for (const r of [await run(c), await run(c)]) {
      expect(appNames(r)).toEqual(['alice/wiki', 'bob/blog']);
      expect(view(r).system).toEqual(want.system);
      expect(component(r)).toMatchObject({ healthy: true, status: 'running', metrics: { pairs: 2, dropped_items: want.dropped } });
      expect(r.counters).toMatchObject({ failed_pairs: 0, dropped_items: want.dropped });
      expect(r.counters?.chart_repo_uptime).toBe(want.uptime);
      expect(r.failed).toBeUndefined();
    }
  });

  it('fails the run when every pair fails and nothing was ever good', async () => {
    repo.set({ kind: 'raw', status: 503, body: '' });
    repo.set({ kind: 'raw', status: 503, body: '' }, 'alice', 'market');
    repo.set({ kind: 'raw', status: 503, body: '' }, 'bob', 'market');
    await expect(run(await collector())).rejects.toThrow(`chart repo: every request to ${repo.host} failed, nothing known yet: HTTP 503`);
  });

  it('keeps serving the last good view while the Chart Repo refuses connections, and recovers when it is back', async () => {
    const own = await startFakeChartRepo();
    own.set(good('alice', 'wiki'), 'alice', 'market');
    own.set(good('bob', 'blog'), 'bob', 'market');
    const c = await collector({ chartRepoHost: own.host });
    const first = await run(c);
    const port = Number(own.host.split(':')[1]);
    await own.close();

    const down = await run(c);
    expect(appNames(down)).toEqual(['alice/wiki', 'bob/blog']);
    expect(view(down).last_update).toBe(view(first).last_update);
    expect(component(down)).toMatchObject({ healthy: false, status: 'error' });
    expect(component(down).message).toBe(
      '2/2 requests failed: connection refused (2 pairs: alice/market, bob/market)');
    expect(down.warning).toContain('connection refused');

    const again = await startFakeChartRepo(port);
    try {
      again.set(good('alice', 'wiki', 'notes'), 'alice', 'market');
      again.set(good('bob', 'blog'), 'bob', 'market');
      const back = await run(c);
      expect(appNames(back)).toEqual(['alice/wiki', 'alice/notes', 'bob/blog']);
      expect(component(back)).toMatchObject({ healthy: true, status: 'running' });
    } finally {
      await again.close();
    }
  });

  it('moves last_update only when the content changes', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const c = await collector();
    const a = await run(c);
    const b = await run(c);
    expect(view(b).last_update).toBe(view(a).last_update);
    repo.set(good('bob', 'blog', 'chat'), 'bob', 'market');
    const d = await run(c);
    expect(view(d).last_update).toBe(new Date(clock).toISOString());
    expect(component(d).last_check).toBe(new Date(clock).toISOString());
  });

  it('says it read in bulk (its thread and the store collect the garbage at once) only when most answers were parsed', async () => {
    const users = ['ann', 'ben', 'cat', 'dan'];
    for (const u of users) repo.set(good(u, 'wiki'), u, 'market');
    const c = await collector({ pairs: users.map((user) => ({ user, source: 'market' })) });
    expect((await run(c)).bulk).toBe(true);
    expect((await run(c)).bulk).toBeUndefined();
    // a quarter of the answers moved: an ordinary pass
    repo.set(good('ann', 'wiki', 'blog'), 'ann', 'market');
    const some = await run(c);
    expect(some.counters).toMatchObject({ pairs: 4, unchanged_pairs: 3 });
    expect(some.bulk).toBeUndefined();
    // most of them moved: a wave, as much garbage as a full read
    for (const u of users.slice(1)) repo.set(good(u, 'wiki', 'chat'), u, 'market');
    const wave = await run(c);
    expect(wave.counters).toMatchObject({ pairs: 4, unchanged_pairs: 1 });
    expect(wave.bulk).toBe(true);
  });

  it('parses only the answers whose content moved: the others are what they said before, and a quiet pass is the same view', async () => {
    let uptime = 100;
    const moving = (user: string, ...names: string[]): Mode => ({ kind: 'dynamic', body: () => envelope({
      system: { hostname: `cr-${user}`, uptime: (uptime += 7), resource_usage: { memory_mb: uptime % 50, gc: { pause_ms: uptime } } },
      apps: names.map((n) => ({ app_id: n, app_name: n, user_id: user, source_id: 'market', state: 'completed' })),
      tasks: { image_analyzer: { is_running: true, last_check: new Date(uptime * 1000).toISOString() } },
    }) });
    repo.set(moving('alice', 'wiki'), 'alice', 'market');
    repo.set(moving('bob', 'blog'), 'bob', 'market');
    const c = await collector();
    const first = await run(c);
    expect(first.counters).toMatchObject({ pairs: 2, unchanged_pairs: 0 });
    const quiet = await run(c);
    expect(quiet.counters).toMatchObject({ pairs: 2, unchanged_pairs: 2 });
    expect(held.get(quiet)).toBe(held.get(first));
    expect(pairSteps(quiet)).toEqual([]);
    // the uptime and the resource usage still move, as counters, and are not in the view
    expect(Number(quiet.counters!.chart_repo_uptime)).toBeGreaterThan(Number(first.counters!.chart_repo_uptime));
    expect(quiet.counters!.chart_repo_resource_usage_gc_pause_ms).toBeGreaterThan(Number(first.counters!.chart_repo_resource_usage_gc_pause_ms));
    expect(quiet.counters!.chart_repo_resource_usage_memory_mb).toEqual(expect.any(Number));
    expect(view(quiet).system).toEqual({ hostname: 'cr-alice' });
    repo.set(moving('bob', 'blog', 'chat'), 'bob', 'market');
    const changed = await run(c);
    expect(changed.counters).toMatchObject({ pairs: 2, unchanged_pairs: 1 });
    expect(appNames(changed)).toEqual(['alice/wiki', 'bob/blog', 'bob/chat']);
    // each item says when it last changed: only the new one has this pass's time
    const times = Object.fromEntries(view(changed).apps!.map((a) => [a.app_name, a.last_update]));
    const before = Object.fromEntries(view(first).apps!.map((a) => [a.app_name, a.last_update]));
    expect(times.wiki).toBe(before.wiki);
    expect(times.blog).toBe(before.blog);
    expect(times.chat).toBe(new Date(clock).toISOString());
    expect(times.chat).not.toBe(before.blog);
  });

  it('an app whose task only ran longer stays as it was (last_update and duration held); one that moved to its next step gets the pass time', async () => {
    let duration = 1e9;
    let step = 'render';
    const app = (name: string, more: object) => ({ app_id: name, app_name: name, user_id: 'alice', source_id: 'market', state: 'processing', ...more });
    repo.set({ kind: 'dynamic', body: () => envelope({
      apps: [
        app('wiki', { processing: { task_id: 'h1', duration: (duration += 1e9) } }),
        app('blog', { current_step: { name: step, index: 1, total: 3, status: 'running' } }),
      ],
    }) }, 'alice', 'market');
    repo.set(good('bob', 'chat'), 'bob', 'market');
    const c = await collector();
    const first = await run(c);
    step = 'package';
    const second = await run(c);
    const item = (r: CollectResult, name: string) => view(r).apps!.find((a) => a.app_name === name)!;
    expect(second.counters).toMatchObject({ unchanged_pairs: 1 });
    // its answer changed (blog's step), so it was parsed again: wiki, whose running task only ran longer, is the
    // item it was, its duration held at its last change (the time it has run: duration + now - last_update)
    expect(item(second, 'wiki')).toEqual(item(first, 'wiki'));
    expect(item(second, 'blog').last_update).toBe(new Date(clock).toISOString());
    expect(item(second, 'blog').last_update).not.toBe(item(first, 'blog').last_update);
  });

  it('reads the Chart Repo\'s own blocks from the first pair that answered: when only they move, no pair is parsed again', async () => {
    let queue = 0;
    const busy = (user: string, ...names: string[]): Mode => ({ kind: 'dynamic', body: () => envelope({
      system: { hostname: 'cr', resource_usage: { memory_mb: 200 + queue } },
      apps: names.map((n) => ({ app_id: n, app_name: n, user_id: user, source_id: 'market', state: 'completed' })),
      tasks: { image_analyzer: { is_running: true, queue_length: (queue += 1) } },
    }) });
    repo.set(busy('alice', 'wiki'), 'alice', 'market');
    repo.set(busy('bob', 'blog'), 'bob', 'market');
    const c = await collector();
    const first = await run(c);
    const second = await run(c);
    // the queue moved (content: a new view), the apps did not (no parse)
    expect(second.counters).toMatchObject({ pairs: 2, unchanged_pairs: 2 });
    expect(view(second).tasks!.image_analyzer!.queue_length).toBeGreaterThan(view(first).tasks!.image_analyzer!.queue_length!);
    expect(second.counters!.chart_repo_resource_usage_memory_mb).toBe(200 + view(second).tasks!.image_analyzer!.queue_length! - 1);
    expect(view(second).system).toEqual({ hostname: 'cr' });
    expect(appNames(second)).toEqual(['alice/wiki', 'bob/blog']);
    expect(view(second).apps![0]!.last_update).toBe(view(first).apps![0]!.last_update);
    // the first pair failing: the blocks come from the next that answered, this pass's
    repo.set({ kind: 'raw', body: 'down', status: 500 }, 'alice', 'market');
    const third = await run(c);
    expect(third.counters).toMatchObject({ pairs: 2, failed_pairs: 1 });
    expect(view(third).tasks!.image_analyzer!.queue_length).toBe(queue);
    expect(appNames(third)).toEqual(['alice/wiki', 'bob/blog']);
  });

  it('asks for passes spaced so that at most maxRequestsPerSecond requests go per second on average', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    expect((await run(await collector({ maxRequestsPerSecond: 4 }))).counters?.[MIN_INTERVAL_COUNTER]).toBe(500);
    expect((await run(await collector())).counters?.[MIN_INTERVAL_COUNTER]).toBeUndefined();
  });

  it('sends the store only the pairs whose own part changed; everything again when the store is new or asks', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const c = await collector();
    expect(parts(await run(c))).toEqual(['alice', 'bob']);
    // nothing moved: no view at all crosses to the store
    expect(pairSteps(await run(c))).toEqual([]);
    repo.set(good('bob', 'blog', 'chat'), 'bob', 'market');
    const changed = await run(c);
    expect(parts(changed)).toEqual(['bob']);
    expect(appNames(changed)).toEqual(['alice/wiki', 'bob/blog', 'bob/chat']);
    // a new store: every part again
    clock += 5000;
    const full = await c.collect({ signal: AbortSignal.timeout(LIVENESS_MS), now: () => new Date(clock), full: true });
    expect(parts(full)).toEqual(['alice', 'bob']);
    // the store asks for one pair again
    clock += 5000;
    const again = await c.collect({ signal: AbortSignal.timeout(LIVENESS_MS), now: () => new Date(clock), full: false, reread: ['alice\u0000market'] });
    expect(parts(again)).toEqual(['alice']);
  });

  it('sends a changed pair as changes to the part the store holds: only the items that moved are rendered and cross', async () => {
    repo.set(good('alice', 'wiki', 'blog', 'chat'), 'alice', 'market');
    repo.set(good('bob', 'maps'), 'bob', 'market');
    const c = await collector();
    const first = await run(c);
    const sentParts = (r: CollectResult) => pairSteps(r).flatMap((s) => (s.op === 'chart_repo_pairs' ? s.pairs.filter((p) => p.part) : []));
    expect(sentParts(first).every((p) => p.base === undefined && p.part!.apps.every((a) => typeof a === 'object'))).toBe(true);
    // blog fails; wiki and chat say what they said: their places in the part held, not their JSON
    repo.set({ kind: 'json', body: envelope({
      system: { hostname: 'cr-alice' },
      apps: [['wiki', 'completed'], ['blog', 'failed'], ['chat', 'completed']].map(([n, state]) => ({ app_id: n, app_name: n, user_id: 'alice', source_id: 'market', state })),
      tasks: { hydrator: { queue_length: 1, tasks: [{ task_id: 'alice-t' }] } },
    }) }, 'alice', 'market');
    const changed = await run(c);
    const [alice] = sentParts(changed);
    expect(alice!.user).toBe('alice');
    expect(alice!.base).toBe(sentParts(first).find((p) => p.user === 'alice')!.content);
    expect(alice!.part!.apps.map((a) => (typeof a === 'number' ? a : JSON.parse(a.json).state))).toEqual([0, 'failed', 2]);
    expect(alice!.part!.hydrator!.tasks).toEqual([0]);
    // the store put it together: the view is the answer's, every other item as it was
    expect(view(changed).apps!.map((a) => `${a.app_name}:${a.state}`)).toEqual(['wiki:completed', 'blog:failed', 'chat:completed', 'maps:completed']);
    expect(view(changed).apps![0]).toEqual(view(first).apps![0]);
    // a store that cannot take the changes (it holds other content) asks for the pair, which then goes whole
    const other = new ChartRepoView();
    clock += 5000;
    repo.set(good('alice', 'wiki', 'blog'), 'alice', 'market');
    const r = await c.collect({ signal: AbortSignal.timeout(LIVENESS_MS), now: () => new Date(clock), full: false });
    const step = pairSteps(r)[0]!;
    expect(step.op === 'chart_repo_pairs' && step.pairs.find((p) => p.user === 'alice')!.base).toBeDefined();
    expect(other.setPairs(step as Extract<StoreStep, { op: 'chart_repo_pairs' }>).reread).toEqual(['alice\u0000market', 'bob\u0000market']);
    clock += 5000;
    const again = await c.collect({ signal: AbortSignal.timeout(LIVENESS_MS), now: () => new Date(clock), full: false, reread: ['alice\u0000market'] });
    const whole = pairSteps(again).flatMap((s) => (s.op === 'chart_repo_pairs' ? s.pairs.filter((p) => p.part) : []));
    expect(whole.map((p) => [p.user, p.base])).toEqual([['alice', undefined]]);
  });

  it('sends the parts of a large pass ahead, a message each time they add up, and the view is the same as sent in one', async () => {
    repo.set(good('alice', 'wiki', 'blog'), 'alice', 'market');
    repo.set(good('bob', 'chat'), 'bob', 'market');
    const whole = await run(await collector());
    expect(sentAhead.get(whole)).toEqual([]);
    const c = await collector({ partsAheadChars: 1 });
    const r = await run(c);
    // each part is over the size: one message each, and the pass names them by content only
    expect(sentAhead.get(r)!.map((s) => s.op === 'chart_repo_parts' && s.pairs.map((p) => p.user))).toEqual([['alice'], ['bob']]);
    const named = pairSteps(r).flatMap((s) => (s.op === 'chart_repo_pairs' ? s.pairs : []));
    expect(named.map((p) => p.user).sort()).toEqual(['alice', 'bob']);
    expect(named.every((p) => p.part === undefined)).toBe(true);
    const timeless = (x: ChartRepoStatus) => JSON.stringify(x, (k, v: unknown) => (k === 'last_update' ? undefined : v));
    expect(timeless(view(r))).toBe(timeless(view(whole)));
    repo.set(good('bob', 'chat', 'notes'), 'bob', 'market');
    expect(appNames(await run(c))).toEqual(['alice/wiki', 'alice/blog', 'bob/chat', 'bob/notes']);
    // parts that do not add up to the size go in the pass
    const small = await run(await collector({ partsAheadChars: 100_000 }));
    expect(sentAhead.get(small)).toEqual([]);
    expect(pairSteps(small).flatMap((s) => (s.op === 'chart_repo_pairs' ? s.pairs.filter((p) => p.part).map((p) => p.user) : []))).toEqual(['alice', 'bob']);
  });

  it('is an empty view, not an error, when there are no pairs', async () => {
    const r = await run(await collector({ pairs: [] }));
    // Go omits empty lists
    expect(view(r)).toEqual({ last_update: new Date(clock).toISOString() });
    expect(component(r)).toMatchObject({ healthy: true, status: 'running', metrics: { pairs: 0 } });
  });

  it('keeps items with unfamiliar values and bad times, counting them in the source counters', async () => {
    repo.set({ kind: 'json', body: envelope({
      apps: [{ app_id: 'w', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: 'queued', timestamps: { created_at: 'Tuesday' } }],
      images: [{ image_name: 'wiki:1', status: 'evicted' }],
    }) }, 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const r = await run(await collector());
    expect(appNames(r)).toEqual(['alice/wiki', 'bob/blog']);
    expect(view(r).apps?.[0]).toMatchObject({ state: 'queued', timestamps: { created_at: '0001-01-01T00:00:00Z' } });
    expect(view(r).images?.[0].status).toBe('evicted');
    expect(r.counters).toMatchObject({ unfamiliar_values: 2, bad_times: 1, dropped_items: 0 });
    expect(v.safeParse(ChartRepoStatusSchema, view(r)).issues).toBeUndefined();
  });

  it('says which (user, source) answer each item came from, beside the view', async () => {
    repo.set({ kind: 'json', body: envelope({
      apps: [{ app_id: 'w', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: 'completed' }],
      images: [{ image_name: 'shared:1', app_name: 'wiki', status: 'fully_downloaded' }],
    }) }, 'alice', 'market');
    repo.set({ kind: 'json', body: envelope({
      images: [{ image_name: 'shared:1', app_name: 'wiki', status: 'fully_downloaded' }, { image_name: 'b:1', status: 'not_downloaded' }],
      tasks: { hydrator: { tasks: [{ task_id: 'bt' }], recent_failed: [{ task_id: 'bf' }] } },
    }) }, 'bob', 'market');
    const r = await run(await collector());
    // a user's view keeps the items of that user's answers: the shared image once per answer that held it
    const of = (user_id: string) => JSON.parse(renderHeld(held.get(r)!, { user_id })) as ChartRepoStatus;
    expect(of('alice').apps?.map((a) => a.app_name)).toEqual(['wiki']);
    expect(of('alice').images?.map((i) => i.image_name)).toEqual(['shared:1']);
    expect(of('bob').apps).toBeUndefined();
    expect(of('bob').images?.map((i) => i.image_name)).toEqual(['shared:1', 'b:1']);
    expect(of('bob').tasks?.hydrator?.tasks?.map((t) => t.task_id)).toEqual(['bt']);
    expect(of('bob').tasks?.hydrator?.recent_failed?.map((t) => t.task_id)).toEqual(['bf']);
    expect(of('alice').tasks?.hydrator?.recent_failed).toBeUndefined();
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const own = await startFakeChartRepo();
    try {
      own.set({ kind: 'json', body: envelope({}), delayMs: 100 });
      const pairs = Array.from({ length: 9 }, (_, i) => ({ user: `u${i}`, source: 'market' }));
      const r = await run(await collector({ chartRepoHost: own.host, pairs, concurrency: 3 }));
      expect(r.counters).toMatchObject({ pairs: 9, failed_pairs: 0 });
      expect(own.requests).toHaveLength(9);
      expect(own.maxInFlight()).toBe(3);
    } finally {
      await own.close();
    }
  });

  it('keeps one connection per request in flight across passes, and closes them when closed', async () => {
    const own = await startFakeChartRepo();
    try {
      own.set({ kind: 'json', body: envelope({}), delayMs: 20 });
      const pairs = Array.from({ length: 9 }, (_, i) => ({ user: `u${i}`, source: 'market' }));
      const c = await collector({ chartRepoHost: own.host, pairs, concurrency: 3 });
      for (let pass = 0; pass < 3; pass++) expect((await run(c)).counters).toMatchObject({ failed_pairs: 0 });
      expect(own.requests).toHaveLength(27);
      expect(own.connections()).toBe(3);
      await c.close?.();
      await eventually(async () => expect(own.openConnections()).toBe(0));
    } finally {
      await own.close();
    }
  });

  it('stops at the run deadline and still answers with what it knew', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const c = await collector({ concurrency: 1, chartRepoTimeoutMs: 5000 });
    await run(c);
    repo.set({ kind: 'hang' }, 'alice', 'market');
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    const t0 = Date.now();
    const r = await run(c, ctl.signal);
    // the messages say the abort cut it; the time only has to be short of "never"
    expect(Date.now() - t0).toBeLessThan(LIVENESS_MS);
    expect(appNames(r)).toEqual(['alice/wiki', 'bob/blog']);
    expect(component(r).message).toBe(
      '2/2 requests failed: alice/market: aborted by caller; bob/market: run deadline passed');
  });
});

describe('chart repo collector: a pass longer than its deadline', () => {
  it('sends no view past the deadline but keeps what it fetched: the next pass sends it, parsing nothing twice', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set({ kind: 'json', body: appsOf('bob', 'blog'), delayMs: 3000 }, 'bob', 'market');
    const c = await collector({ concurrency: 1 });
    const ctl = new AbortController();
    // (alice answers at once; bob's answer is on its way when the deadline passes)
    setTimeout(() => ctl.abort(), 1000);
    const late = await run(c, ctl.signal);
    expect(pairSteps(late)).toEqual([]);
    // the run fails: a full pass that delivered nothing is not taken as delivered
    expect(late.failed).toBe('run deadline passed: the view goes to the store with the next pass');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const next = await run(c);
    expect(appNames(next)).toEqual(['alice/wiki', 'bob/blog']);
    // alice's answer was parsed by the late pass, not again
    expect(next.counters).toMatchObject({ pairs: 2, unchanged_pairs: 1 });
  });

  it('a pair the store asked for again during a late pass goes with the next one, though nothing moved', async () => {
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'market');
    const c = await collector();
    await run(c);
    const aborted = AbortSignal.abort();
    const late = await c.collect({ signal: aborted, now: () => new Date(clock), full: false, reread: ['alice\u0000market'] });
    expect(pairSteps(late)).toEqual([]);
    const next = await c.collect({ signal: AbortSignal.timeout(LIVENESS_MS), now: () => new Date(clock), full: false });
    expect(parts(next)).toEqual(['alice']);
  });
});

describe('chart repo collector: pairs from the market database', () => {
  let pg: EmbeddedPostgres;
  beforeAll(async () => { pg = await startEmbeddedPostgres(); }, 60_000);
  afterAll(async () => { await pg?.close(); });

  const install = (user: string, source: string, app: string) => pg.db.query(
    'INSERT INTO user_applications (user_id, source_id, app_id, app_name) VALUES ($1, $2, $3, $3)', [user, source, app]);

  it('asks once per distinct (user, source), drops pairs that are gone, and reuses known pairs when the query fails', async () => {
    await install('alice', 'market', 'wiki');
    await install('alice', 'market', 'notes');
    await install('bob', 'local', 'blog');
    repo.set(good('alice', 'wiki'), 'alice', 'market');
    repo.set(good('bob', 'blog'), 'bob', 'local');
    const c = await collector({ pairs: undefined, databaseUrl: pg.url });

    const seen = repo.requests.length;
    const first = await run(c);
    expect(repo.requests.slice(seen).sort()).toEqual(['alice/market', 'bob/local']);
    expect(appNames(first)).toEqual(['alice/wiki', 'bob/blog']);

    await pg.db.query(`DELETE FROM user_applications WHERE user_id = 'bob'`);
    const second = await run(c);
    expect(appNames(second)).toEqual(['alice/wiki']);
    expect(second.counters).toMatchObject({ pairs: 1 });

    await pg.db.query('ALTER TABLE user_applications RENAME TO user_applications_gone');
    try {
      const third = await run(c);
      expect(appNames(third)).toEqual(['alice/wiki']);
      expect(third.warning).toMatch(/^listing pairs failed: .*\(using the last known pairs\)$/);
    } finally {
      await pg.db.query('ALTER TABLE user_applications_gone RENAME TO user_applications');
    }
  });

  it('lists pairs in a read-only session like every other collector: a listing that would write is refused', async () => {
    await install('carol', 'market', 'probe');
    await pg.db.query('CREATE TABLE write_probe (n int)');
    await pg.db.query(`CREATE FUNCTION probe_write() RETURNS int LANGUAGE sql AS 'INSERT INTO write_probe VALUES (1) RETURNING n'`);
    await pg.db.query('ALTER TABLE user_applications RENAME TO user_applications_real');
    await pg.db.query('CREATE VIEW user_applications AS SELECT user_id, source_id FROM user_applications_real WHERE probe_write() = 1');
    try {
      const c = await collector({ pairs: undefined, databaseUrl: pg.url });
      await expect(run(c)).rejects.toThrow(/^chart repo: listing pairs failed: .*read-only transaction/);
      expect((await pg.db.query<{ n: number }>('SELECT count(*)::int AS n FROM write_probe')).rows).toEqual([{ n: 0 }]);
    } finally {
      await pg.db.query('DROP VIEW user_applications');
      await pg.db.query('ALTER TABLE user_applications_real RENAME TO user_applications');
      await pg.db.query('DROP FUNCTION probe_write()');
      await pg.db.query('DROP TABLE write_probe');
      await pg.db.query(`DELETE FROM user_applications WHERE user_id = 'carol'`);
    }
  });

  it('fails the run when the database cannot be reached and no pairs are known', async () => {
    const c = await collector({ pairs: undefined, databaseUrl: `postgres://postgres@${await closedPort()}/postgres` });
    await expect(run(c)).rejects.toThrow(/^chart repo: listing pairs failed: /);
  });
});
