import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { createCollector as createAppFlow, FULL_PASS_EVERY } from '../../src/collect/collectors/app-flow.ts';
import type { Collector, CollectResult } from '../../src/collect/collector.ts';
import { CollectorRuntime } from '../../src/collect/runtime.ts';
import { appKey, type AppFlowState } from '../../src/model/index.ts';
import type { AheadStep, CollectorSpec, RunReport, StoreStep } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { insertTasks, insertUserApps } from '../helpers/market-fixtures.ts';
import { quietHorizon, useTestDb } from '../helpers/pg.ts';
import { pass as passOf, pushed } from '../helpers/store-fixtures.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const ago = (minutes: number): string => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const S = 'market.olares';
const running = (installed_version = '1.0.0') => ({ state: 'running', installed_version, status_entrances: '[{"name":"main","state":"running"}]' });

/** while set, the changes read fails as a query the server refuses would (the listing and full reads still work) */
const changesRead = vi.hoisted(() => ({ fails: false }));
vi.mock('../../src/sources/market-queries.ts', async (original) => {
  const real = await original<typeof import('../../src/sources/market-queries.ts')>();
  return {
    ...real,
    readAppChanges: (...args: Parameters<typeof real.readAppChanges>) => {
      if (changesRead.fails) return Promise.reject(new Error('function age(xid) does not exist'));
      return real.readAppChanges(...args);
    },
  };
});

const env = useTestDb();
const open = env.opened;


/**
 * The app_flow collector feeding a store as the collector runtime does: first pass full, reread keys passed on.
 * It reads rows by id one at a time, so every listing and full pass reads in several chunks.
 */
async function polled(opts: { sendAhead?: boolean } = {}) {
  const c: Collector = await createAppFlow({ databaseUrl: env.db.url, rowsPerRead: 1 });
  open.push({ close: () => c.close?.() });
  const store = new RuntimeStore(() => NOW);
  let full = true;
  let reread: string[] = [];
  let seq = 0;
  /** the steps sent ahead of each pass, as the store got them */
  const sentAhead: StoreStep[][] = [];
  const sendAhead = async (step: AheadStep) => {
    sentAhead.at(-1)!.push(step);
    store.apply(pushed('app_flow', [step], ++seq));
  };
  return {
    store,
    sentAhead,
    /** one pass; a run that throws applies nothing */
    async pass(signal = AbortSignal.timeout(LIVENESS_MS)): Promise<CollectResult> {
      sentAhead.push([]);
      // the watermark this pass reads from, and the one it leaves, as on a server where no one else writes
      await quietHorizon(env.db.sql);
      const r = await c.collect({ signal, now: () => NOW, full, reread, ...(opts.sendAhead ? { sendAhead } : {}) });
      const msg = passOf('app_flow', r.steps, { finished_at: NOW.toISOString() }, ++seq);
      expect(store.unappliable(msg)).toBeNull();
      reread = store.apply(msg);
      full = false;
      return r;
    },
    apps(): Record<string, AppFlowState> {
      store.commit();
      return JSON.parse(store.state({})).app_states;
    },
  };
}

/** the pass's one step: a listing (replace, with what it keeps) or the changes since the last pass */
function stepOf(r: CollectResult): Extract<StoreStep, { op: 'replace' | 'changes' }> {
  expect(r.steps).toHaveLength(1);
  expect(r.steps[0]).toMatchObject({ domain: 'app_states', reconciles: ['nats'] });
  expect(['replace', 'changes']).toContain(r.steps[0]!.op);
  return r.steps[0] as Extract<StoreStep, { op: 'replace' | 'changes' }>;
}
const sentKeys = (r: CollectResult) => (stepOf(r).items as AppFlowState[]).map(appKey);
const stages = (apps: Record<string, AppFlowState>) => Object.fromEntries(Object.entries(apps).map(([k, a]) => [k, a.stage]));

describe('app_flow reads what changed', () => {
  it('a quiet pass reads and sends no app, and the store keeps every one (no new version)', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', state: running() },
      { user_id: 'alice', source_id: S, app_name: 'blog', state: { state: 'stopped', installed_version: '2.0.0' } },
      { user_id: 'bob', source_id: S, app_name: 'gone', state: { state: 'uninstalled' } },
    ]);
    const p = await polled();
    const first = await p.pass();
    expect(first.counters).toMatchObject({ rows: 3, changed_rows: 3, apps: 2, not_installed: 1 });
    const before = p.apps();
    expect(Object.keys(before).sort()).toEqual([`alice:${S}:blog`, `alice:${S}:wiki`]);

    // nothing written since the last read: no row comes back, no key is named (the store keeps its listing)
    const quiet = await p.pass();
    expect(stepOf(quiet)).toEqual({ op: 'changes', domain: 'app_states', items: [], removed: [], reconciles: ['nats'] });
    // the counters still describe everything listed
    expect(quiet.counters).toMatchObject({ rows: 3, changed_rows: 0, apps: 2, not_installed: 1, dropped: 0, listing_passes: 0 });
    expect(p.store.commit()).toBeNull();
    expect(p.apps()).toEqual(before);
  });

  it('a changed row, a new row and a row deleted or no longer an install each show after one pass', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', state: running() },
      { user_id: 'alice', source_id: S, app_name: 'blog', state: running() },
      { user_id: 'alice', source_id: S, app_name: 'chat', state: running() },
      { user_id: 'bob', source_id: S, app_name: 'notes', state: running() },
    ]);
    const p = await polled();
    await p.pass();

    await env.db.sql`UPDATE user_application_states SET state = 'stopped'
      WHERE user_application_id = (SELECT id FROM user_applications WHERE app_name = 'wiki')`;
    let r = await p.pass();
    expect(sentKeys(r)).toEqual([`alice:${S}:wiki`]);
    expect(r.counters).toMatchObject({ changed_rows: 1, apps: 4 });
    expect(p.apps()[`alice:${S}:wiki`].stage).toBe('stopped');

    // a change to the app row alone, even one that leaves updated_at as it was
    await env.db.sql`UPDATE user_applications SET metadata = '{"title":"The Blog"}'::jsonb WHERE app_name = 'blog'`;
    r = await p.pass();
    expect(sentKeys(r)).toEqual([`alice:${S}:blog`]);
    expect((p.apps()[`alice:${S}:blog`].metadata as { status: { title: string } }).status.title).toBe('The Blog');

    await insertUserApps(env.db.sql, [{ user_id: 'carol', source_id: S, app_name: 'vault', state: running('3.0.0') }]);
    r = await p.pass();
    expect(sentKeys(r)).toEqual([`carol:${S}:vault`]);
    expect(p.apps()[`carol:${S}:vault`]).toMatchObject({ stage: 'running', version: '3.0.0' });

    // no longer an install: its state row changed, so the changes say it, and how and when it left
    await env.db.sql`UPDATE user_application_states SET state = 'uninstalled', updated_at = '2026-12-06T10:42:30.123456Z'
      WHERE user_application_id = (SELECT id FROM user_applications WHERE app_name = 'notes')`;
    r = await p.pass();
    expect(stepOf(r)).toMatchObject({
      op: 'changes', items: [], removed: [`bob:${S}:notes`], left: [{ key: `bob:${S}:notes`, at: '2026-12-06T10:42:30.123456Z', state: 'uninstalled' }],
    });
    // (an uninstalled row stays listed: read, and counted as not installed)
    expect(r.counters).toMatchObject({ rows: 5, changed_rows: 1, apps: 4, not_installed: 1, listing_passes: 0 });
    // a state emptied: the row leaves the listing, and nothing says how
    await env.db.sql`UPDATE user_application_states SET state = ''
      WHERE user_application_id = (SELECT id FROM user_applications WHERE app_name = 'blog')`;
    r = await p.pass();
    expect(stepOf(r)).toEqual({ op: 'changes', domain: 'app_states', items: [], removed: [`alice:${S}:blog`], reconciles: ['nats'] });
    // a deleted row leaves nothing to read: the listing's probe (rows and sum of ids per bucket) names it
    await env.db.sql`DELETE FROM user_applications WHERE app_name = 'chat'`;
    r = await p.pass();
    expect(stepOf(r)).toMatchObject({ op: 'changes', items: [], removed: [`alice:${S}:chat`] });
    expect(r.counters).toMatchObject({ rows: 3, changed_rows: 0, apps: 2, listing_passes: 0 });
    expect(Object.keys(p.apps()).sort()).toEqual([`alice:${S}:wiki`, `carol:${S}:vault`]);
  });

  it('an active task starting or ending shows in the stage after one pass; another user\'s task reads nothing', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', state: running() },
      // a catalog row: an install only while a task is active for it
      { user_id: 'alice', source_id: S, app_name: 'new' },
    ]);
    const p = await polled();
    await p.pass();
    expect(stages(p.apps())).toEqual({ [`alice:${S}:wiki`]: 'running' });

    await insertTasks(env.db.sql, [
      { task_id: 't-up', type: 4, status: 2, app_name: 'wiki', user_account: 'alice', created_at: ago(2), started_at: ago(2) },
      { task_id: 't-new', type: 1, status: 1, app_name: 'new', user_account: 'alice', created_at: ago(1) },
    ]);
    let r = await p.pass();
    expect(r.counters).toMatchObject({ changed_rows: 2, active_tasks: 2 });
    expect(stages(p.apps())).toEqual({ [`alice:${S}:wiki`]: 'upgrading', [`alice:${S}:new`]: 'installing' });

    await insertTasks(env.db.sql, [{ task_id: 't-bob', type: 2, status: 2, app_name: 'wiki', user_account: 'bob', created_at: ago(1) }]);
    r = await p.pass();
    expect(r.counters).toMatchObject({ changed_rows: 0, active_tasks: 3 });

    await env.db.sql`UPDATE task_records SET status = 3, completed_at = ${NOW} WHERE task_id IN ('t-up', 't-new')`;
    r = await p.pass();
    expect(r.counters).toMatchObject({ changed_rows: 1, rows: 1 });
    expect(stages(p.apps())).toEqual({ [`alice:${S}:wiki`]: 'running' });
  });

  it('a deleted task or state row changes no row it could be read by: the listing pass it falls back to shows it', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', state: running() },
      { user_id: 'alice', source_id: S, app_name: 'blog', state: running() },
    ]);
    await insertTasks(env.db.sql, [{ task_id: 't-up', type: 4, status: 2, app_name: 'wiki', user_account: 'alice', created_at: ago(2), started_at: ago(2) }]);
    const p = await polled();
    await p.pass();
    expect(stages(p.apps())).toMatchObject({ [`alice:${S}:wiki`]: 'upgrading' });

    await env.db.sql`DELETE FROM task_records WHERE task_id = 't-up'`;
    let r = await p.pass();
    expect(stepOf(r).op).toBe('replace');
    expect(r.counters).toMatchObject({ changed_rows: 1, listing_passes: 1 });
    expect(stages(p.apps())).toMatchObject({ [`alice:${S}:wiki`]: 'running' });

    // blog's state row goes while a task keeps it an install: the count of state rows tells
    await insertTasks(env.db.sql, [{ task_id: 't-b', type: 4, status: 2, app_name: 'blog', user_account: 'alice', created_at: ago(1), started_at: ago(1) }]);
    await p.pass();
    await env.db.sql`DELETE FROM user_application_states
      WHERE user_application_id = (SELECT id FROM user_applications WHERE app_name = 'blog')`;
    r = await p.pass();
    expect(r.counters).toMatchObject({ changed_rows: 1, listing_passes: 2 });
    expect(p.apps()[`alice:${S}:blog`]).toMatchObject({ stage: 'upgrading' });
    expect((p.apps()[`alice:${S}:blog`].metadata as { status: { state: string } }).status.state).toBe('');
  });

  it('a failed read changes nothing in the store, and the change shows on the next pass that works', async () => {
    await insertUserApps(env.db.sql, [{ user_id: 'alice', source_id: S, app_name: 'wiki', state: running() }]);
    const p = await polled();
    await p.pass();
    await env.db.sql`UPDATE user_application_states SET state = 'stopped'`;
    await expect(p.pass(AbortSignal.abort())).rejects.toThrow(/aborted/);
    expect(stages(p.apps())).toEqual({ [`alice:${S}:wiki`]: 'running' });
    const r = await p.pass();
    expect(r.counters).toMatchObject({ changed_rows: 1 });
    expect(stages(p.apps())).toEqual({ [`alice:${S}:wiki`]: 'stopped' });
  });

  it('a changes read that keeps failing falls back to a full read in the same run: every change still shows, and says so', async () => {
    await insertUserApps(env.db.sql, [{ user_id: 'alice', source_id: S, app_name: 'wiki', state: running() }]);
    const p = await polled();
    await p.pass();
    changesRead.fails = true;
    try {
      for (const state of ['stopped', 'running', 'stopped']) {
        await env.db.sql`UPDATE user_application_states SET state = ${state}`;
        const r = await p.pass();
        expect(r.bulk).toBe(true);
        expect(r.warning).toMatch(/reading what changed failed \(function age\(xid\) does not exist\): read everything instead/);
        expect(stages(p.apps())).toEqual({ [`alice:${S}:wiki`]: state });
      }
      // a row deleted meanwhile leaves too (the full read is a listing)
      await env.db.sql`DELETE FROM user_applications WHERE app_name = 'wiki'`;
      expect((await p.pass()).counters).toMatchObject({ changes_failures: 4 });
      expect(p.apps()).toEqual({});
    } finally {
      changesRead.fails = false;
    }
    // the changes read works again: the next pass is a changes pass, without the warning
    const r = await p.pass();
    expect(r.bulk).toBeUndefined();
    expect(r.warning).toBeUndefined();
  });

  it('a listing pass that fails between two chunks of rows is followed by a full pass: no row read and unsent is lost', async () => {
    await insertUserApps(env.db.sql, ['wiki', 'blog', 'notes'].map((app_name) => ({ user_id: 'alice', source_id: S, app_name, state: running() })));
    await insertTasks(env.db.sql, [{ task_id: 't-b', type: 4, status: 2, app_name: 'blog', user_account: 'alice', created_at: ago(1), started_at: ago(1) }]);
    const p = await polled();
    await p.pass();
    await env.db.sql`UPDATE user_application_states SET state = 'stopped'
      WHERE user_application_id IN (SELECT id FROM user_applications WHERE app_name IN ('wiki', 'notes'))`;
    // a state row deleted alone (its app stays an install by its task) sends the pass to a listing
    await env.db.sql`DELETE FROM user_application_states
      WHERE user_application_id = (SELECT id FROM user_applications WHERE app_name = 'blog')`;
    // reads: the changes (1), the listing (2), the first changed row (3); the second row's read fails
    let reads = 0;
    const failsOnFourthRead = {
      get aborted() { reads += 1; return reads >= 4; },
      addEventListener() {}, removeEventListener() {},
    } as unknown as AbortSignal;
    await expect(p.pass(failsOnFourthRead)).rejects.toThrow(/aborted/);
    expect(reads).toBe(4);
    const before = { [`alice:${S}:blog`]: 'upgrading', [`alice:${S}:notes`]: 'running', [`alice:${S}:wiki`]: 'running' };
    expect(stages(p.apps())).toEqual(before);
    // without the full pass, the row read before the failure would count as sent and stay 'running'
    const r = await p.pass();
    expect(r.counters).toMatchObject({ rows: 3, changed_rows: 3 });
    expect(stages(p.apps())).toEqual({ ...before, [`alice:${S}:notes`]: 'stopped', [`alice:${S}:wiki`]: 'stopped' });
  });

  it('a row that does not fit is known at its version: the passes after it read what changed (no listing), each naming it, until it is fixed', async () => {
    const long = 'x'.repeat(300);
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', state: running() },
      { user_id: 'alice', source_id: S, app_name: long, state: running() },
    ]);
    const p = await polled();
    const first = await p.pass();
    expect(first.warning).toMatch(/^1 user_applications rows did not fit the expected shape .*first: app_id: Invalid length/);
    expect(Object.keys(p.apps())).toEqual([`alice:${S}:wiki`]);
    for (let i = 0; i < 3; i++) {
      const r = await p.pass();
      // without it known, the probe (which counts it) never adds up: every pass would list everything again
      expect(stepOf(r).op).toBe('changes');
      expect(r.counters).toMatchObject({ listing_passes: 0, changed_rows: 0, dropped: 1, rows: 2, apps: 1, not_installed: 0 });
      // the same words every pass: a warning that came and went would mint a version each time
      expect(r.warning).toBe(first.warning);
    }
    await env.db.sql`UPDATE user_applications SET app_name = 'notes', app_id = 'notes', app_raw_name = 'notes' WHERE app_name = ${long}`;
    const fixed = await p.pass();
    expect(fixed.warning).toBeUndefined();
    expect(Object.keys(p.apps()).sort()).toEqual([`alice:${S}:notes`, `alice:${S}:wiki`]);
  });

  it('an app whose row stops fitting keeps what the store shows for it, on changes and on the periodic full pass alike', async () => {
    // (most rows fit: more rows that do not than rows that do fails a listing pass, the view kept as it was)
    await insertUserApps(env.db.sql, ['wiki', 'blog', 'notes'].map((app_name) => ({ user_id: 'alice', source_id: S, app_name, state: running() })));
    const p = await polled();
    await p.pass();
    const before = p.apps();
    await env.db.sql`UPDATE user_applications SET app_raw_name = ${'r'.repeat(300)} WHERE app_name = 'wiki'`;
    const changed = await p.pass();
    expect(changed.warning).toMatch(/^1 user_applications rows did not fit/);
    expect(p.apps()).toEqual(before);
    for (let i = 1; i < FULL_PASS_EVERY; i++) {
      const r = await p.pass();
      expect(r.warning).toBe(changed.warning);
      expect(p.apps()).toEqual(before);
      // the last of them is the periodic full pass (a listing that reads every row)
      if (i === FULL_PASS_EVERY - 1) expect(stepOf(r)).toMatchObject({ op: 'replace', items: [] });
    }
  });

  it('a full pass sends its apps ahead as they are read; the store shows them with the pass, not before', async () => {
    await insertUserApps(env.db.sql, ['wiki', 'blog', 'notes'].map((app_name) => ({ user_id: 'alice', source_id: S, app_name, state: running() })));
    const p = await polled({ sendAhead: true });
    const r = await p.pass();
    // one app per read (rowsPerRead 1), each sent on as soon as it is normalized; the pass names how many
    expect(p.sentAhead[0]!.map((s) => s.op === 'items_ahead' && [s.items.length, s.first ?? false])).toEqual([[1, true], [1, false], [1, false]]);
    expect(stepOf(r)).toMatchObject({ op: 'replace', items: [], ahead: 3 });
    expect(stages(p.apps())).toEqual({ [`alice:${S}:blog`]: 'running', [`alice:${S}:notes`]: 'running', [`alice:${S}:wiki`]: 'running' });
    // a pass reading what changed sends nothing ahead
    await env.db.sql`UPDATE user_application_states SET state = 'stopped'
      WHERE user_application_id = (SELECT id FROM user_applications WHERE app_name = 'wiki')`;
    expect(stepOf(await p.pass())).toMatchObject({ op: 'changes', items: [{ app_name: 'wiki', stage: 'stopped' }] });
    expect(p.sentAhead[1]).toEqual([]);
  });

  it(`every ${FULL_PASS_EVERY}th pass reads every row (a safety net) and sends none that came out as before: the store keeps them`, async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', state: running() },
      { user_id: 'alice', source_id: S, app_name: 'blog', state: running() },
    ]);
    const p = await polled();
    await p.pass();
    const before = p.apps();
    const passes: CollectResult[] = [];
    for (let i = 0; i < FULL_PASS_EVERY; i++) passes.push(await p.pass());
    expect(passes.map((r) => r.counters!.changed_rows)).toEqual([...Array(FULL_PASS_EVERY - 1).fill(0), 2]);
    expect(stepOf(passes.at(-1)!)).toMatchObject({ op: 'replace', items: [] });
    expect((stepOf(passes.at(-1)!) as { keep?: string[] }).keep?.sort()).toEqual([`alice:${S}:blog`, `alice:${S}:wiki`]);
    expect(p.store.commit()).toBeNull();
    expect(p.apps()).toEqual(before);
  });
});

describe('app_flow and its store (collector runtime)', () => {
  const spec: CollectorSpec = {
    source: 'app_flow',
    module: new URL('../../src/collect/collectors/app-flow.ts', import.meta.url).href,
    get options() { return { databaseUrl: env.db.url }; },
  };

  /** A store thread's actor on the other end of a new port. */
  function storeOn() {
    const ch = new MessageChannel();
    open.push({ close: () => { ch.port1.close(); ch.port2.close(); } });
    const actor = new StoreActor({ clock: () => NOW });
    actor.attachDeltaPort(ch.port2);
    return { actor, port: ch.port1, apps: () => Object.keys(JSON.parse(actor.store.state({})).app_states).sort() };
  }

  async function run(runtime: CollectorRuntime): Promise<Record<string, number>> {
    const report: RunReport = await runtime.handle({ kind: 'run', deadline_ms: LIVENESS_MS });
    if (report.kind !== 'done') throw new Error(`run answered ${report.kind}`);
    expect(report.outcome).toMatchObject({ ok: true });
    return report.outcome.counters!;
  }

  async function started(port: MessagePort) {
    const runtime = new CollectorRuntime();
    await runtime.handle({ kind: 'init', spec, port });
    // a collector thread ends with its pool; here its connections are closed by hand
    open.push({ close: () => (runtime as unknown as { collector: Collector }).collector.close?.() });
    return runtime;
  }

  /** wiki (alice) and blog (bob) in the market, and a collector runtime feeding a store */
  async function twoApps() {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', state: running() },
      { user_id: 'bob', source_id: S, app_name: 'blog', state: running() },
    ]);
    const store = storeOn();
    return { store, runtime: await started(store.port) };
  }

  it('a new store (the store thread restarted) gets the full listing on its first pass', async () => {
    const { store: first, runtime } = await twoApps();
    expect(await run(runtime)).toMatchObject({ rows: 2, changed_rows: 2 });
    expect(await run(runtime)).toMatchObject({ rows: 2, changed_rows: 0 });
    expect(first.apps()).toEqual([`alice:${S}:wiki`, `bob:${S}:blog`]);

    const second = storeOn();
    await runtime.handle({ kind: 'init', spec, port: second.port });
    expect(await run(runtime)).toMatchObject({ rows: 2, changed_rows: 2 });
    expect(second.apps()).toEqual([`alice:${S}:wiki`, `bob:${S}:blog`]);
    expect(await run(runtime)).toMatchObject({ rows: 2, changed_rows: 0 });
    expect(second.apps()).toEqual([`alice:${S}:wiki`, `bob:${S}:blog`]);
  });

  it('collects the thread\'s garbage right after a full pass, not after a pass that read what changed', async () => {
    const { runtime } = await twoApps();
    const g = globalThis as { gc?: () => void };
    const had = g.gc;
    let collections = 0;
    g.gc = () => { collections += 1; };
    try {
      // twice: the store (in this thread here) once it committed the pass, then the collector once acknowledged
      await run(runtime);
      expect(collections).toBe(2);
      await run(runtime);
      expect(collections).toBe(2);
    } finally {
      if (had) g.gc = had;
      else delete g.gc;
    }
  });

  it('an app the store lost while the database still lists it (a NATS event removed it) is read again on the next pass', async () => {
    const { store, runtime } = await twoApps();
    await run(runtime);
    store.actor.receive(pushed('nats', [{ op: 'app_events', events: [
      { key: `alice:${S}:wiki`, at: NOW.toISOString(), app: null },
    ] }]));
    expect(store.apps()).toEqual([`bob:${S}:blog`]);
    // kept by the collector, missing in the store: the store asks for it
    expect(await run(runtime)).toMatchObject({ changed_rows: 0 });
    expect(await run(runtime)).toMatchObject({ changed_rows: 1 });
    expect(store.apps()).toEqual([`alice:${S}:wiki`, `bob:${S}:blog`]);
    expect(await run(runtime)).toMatchObject({ changed_rows: 0 });
  });
});
