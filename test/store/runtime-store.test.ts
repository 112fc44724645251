import { describe, expect, it } from 'vitest';
import { decodeAppEvent } from '../../src/collect/app-event.ts';
import type { AppFlowState, ComponentStatus, TaskState } from '../../src/model/index.ts';
import type { PassMessage, PassOutcome, StoreStep } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { aliceChartRepo, app, chartRepoView, outcome, pass, pushed, T0, task } from '../helpers/store-fixtures.ts';

function comp(name: string, over: Partial<ComponentStatus> = {}): ComponentStatus {
  return { name, healthy: true, status: 'running', last_check: T0, ...over };
}
function snapshot(store: RuntimeStore) {
  const c = store.commit();
  // no version: nothing changed
  return c ? JSON.parse(c.body).data : null;
}
/** `clock`: the store's time (T0 unless given; events later than it by over a minute order nothing: event-order.ts) */
function seeded(clock = T0): RuntimeStore {
  const s = new RuntimeStore(() => new Date(clock));
  s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [
    app('alice', 'market', 'firefox'),
    app('alice', 'local', 'gitea', { stage: 'failed', health: 'unhealthy' }),
    app('bob', 'market', 'firefox', { stage: 'installing', health: 'unknown' }),
  ] }]));
  s.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [
    task('t1', 'firefox', 'alice', { status: 'pending' }),
    task('t2', 'firefox', 'bob', { status: 'running' }),
    task('t3', 'gitea', 'alice', { status: 'completed', type: 'upgrade' }),
    task('t4', 'firefox', 'bob', { status: 'failed', type: 'uninstall' }),
    task('t5', 'firefox', 'bob', { status: 'canceled', type: 'cancel' }),
  ] }]));
  s.apply(pass('components', [{ op: 'replace', domain: 'components', items: [
    comp('syncer'), comp('hydrator', { status: 'degraded' }), comp('cache', { healthy: false, status: 'error' }),
  ] }]));
  return s;
}

describe('summary', () => {
  it('counts the nine Go summary fields', () => {
    const data = snapshot(seeded());
    expect(data.summary).toEqual({
      total_apps: 3, total_tasks: 5, pending_tasks: 1, running_tasks: 1, completed_tasks: 1, failed_tasks: 1,
      healthy_apps: 1, unhealthy_apps: 1,
      // syncer + the three collector components; hydrator is degraded, cache is down
      active_components: 4, stuck_apps: 0, stuck_tasks: 0,
    });
  });

  it('keeps counts right through updates and removals', () => {
    const s = seeded();
    s.apply(pass('tasks', [{ op: 'upsert', domain: 'tasks', items: [task('t1', 'firefox', 'alice', { status: 'running' })] }]));
    s.apply(pass('app_flow', [{ op: 'remove', domain: 'app_states', keys: ['alice:local:gitea'] }]));
    const { summary } = snapshot(s);
    expect(summary).toMatchObject({ total_apps: 2, pending_tasks: 0, running_tasks: 2, unhealthy_apps: 0 });
  });
});

describe('replace semantics', () => {
  it('upserts every listed item and deletes only what the same source no longer lists', () => {
    const s = seeded();
    s.apply(pass('nats', [{ op: 'upsert', domain: 'app_states', items: [app('carol', 'market', 'vault')] }]));
    s.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t2', 'firefox', 'alice', { status: 'running' }), task('t9', 'firefox', 'alice', { status: 'running' })] }]));
    const data = snapshot(s);
    expect(Object.keys(data.tasks).sort()).toEqual(['t2', 't9']);
    expect(Object.keys(data.app_states)).toContain('carol:market:vault');
  });

  it('a source that reconciles another removes its stale pushed entries', () => {
    const s = seeded();
    s.apply(pass('nats', [{ op: 'upsert', domain: 'app_states', items: [app('carol', 'market', 'vault')] }]));
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [app('alice', 'market', 'firefox')] }]));
    expect(Object.keys(snapshot(s).app_states)).toEqual(['alice:market:firefox']);
  });

  it('a failed pass removes nothing and records the failure', () => {
    const s = seeded();
    snapshot(s);
    s.apply(pass('tasks', [], { ok: false, error: 'down' }));
    const data = snapshot(s);
    expect(Object.keys(data.tasks)).toHaveLength(5);
    expect(data.sources.tasks).toEqual({ ok: false, last_error: 'down' });
    expect(s.freshness().tasks).toMatchObject({ ok: false, last_error: 'down', consecutive_failures: 1, last_success: T0 });
    expect(data.components.collector_tasks).toMatchObject({ healthy: false, status: 'error', message: 'down' });
  });

  it('a failure with an empty error leaves the collector component\'s message out (omitempty in Go\'s struct)', () => {
    const s = seeded();
    s.apply(pass('tasks', [], { ok: false, error: '' }));
    const c = snapshot(s).components.collector_tasks;
    expect(c).toMatchObject({ healthy: false, status: 'error' });
    expect(c).not.toHaveProperty('message');
  });

  it('kept keys count as listed: they stay as held, without being sent again, and the rest leaves', () => {
    const s = seeded();
    const before = snapshot(s).app_states;
    const reread = s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'],
      items: [app('bob', 'market', 'firefox', { stage: 'running', health: 'healthy' })], keep: ['alice:market:firefox'] }]));
    expect(reread).toEqual([]);
    const now = snapshot(s).app_states;
    expect(Object.keys(now).sort()).toEqual(['alice:market:firefox', 'bob:market:firefox']);
    expect(now['alice:market:firefox']).toEqual(before['alice:market:firefox']);
    expect(now['bob:market:firefox'].stage).toBe('running');
  });

  it('a kept key the store lost, or an event changed since, is asked for again', () => {
    const s = seeded();
    const later = '2026-11-25T10:05:00.000Z';
    s.apply(pushed('nats', [{ op: 'app_events', events: [
      { key: 'alice:market:firefox', at: later, app: null },
      { key: 'bob:market:firefox', at: later, app: app('bob', 'market', 'firefox', { stage: 'stopped', metadata: { status: { createTime: later } } }) },
    ] }], 2));
    const keep = ['alice:market:firefox', 'alice:local:gitea', 'bob:market:firefox'];
    const replace = (items: AppFlowState[], kept = keep): StoreStep => ({ op: 'replace', domain: 'app_states', reconciles: ['nats'], items, keep: kept });
    expect(s.apply(pass('app_flow', [replace([])]))).toEqual(['alice:market:firefox', 'bob:market:firefox']);
    // kept, not sent: the store shows what it holds until the source sends it again
    expect(Object.keys(snapshot(s).app_states).sort()).toEqual(['alice:local:gitea', 'bob:market:firefox']);
    // sent again: the store vouches for it from then on
    const bob = app('bob', 'market', 'firefox', { stage: 'installing', health: 'unknown' });
    expect(s.apply(pass('app_flow', [replace([bob], keep.slice(0, 2))]))).toEqual(['alice:market:firefox']);
    expect(s.apply(pass('app_flow', [replace([app('alice', 'market', 'firefox')], keep.slice(1))]))).toEqual([]);
    expect(Object.keys(snapshot(s).app_states).sort()).toEqual(['alice:local:gitea', 'alice:market:firefox', 'bob:market:firefox']);
  });

  it('keeps last_update when an app is polled again unchanged', () => {
    const s = seeded();
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app('alice', 'market', 'firefox', { last_update: '2026-11-25T11:00:00.000Z' }),
    ] }]));
    expect(snapshot(s).app_states['alice:market:firefox'].last_update).toBe(T0);
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app('alice', 'market', 'firefox', { stage: 'stopped', last_update: '2026-11-25T12:00:00.000Z' }),
    ] }]));
    expect(snapshot(s).app_states['alice:market:firefox']).toMatchObject({ stage: 'stopped', last_update: '2026-11-25T12:00:00.000Z' });
  });
});

describe('versions', () => {
  it('bumps the version only when something changed', () => {
    const s = seeded();
    const first = s.commit()!;
    expect(s.commit()).toBeNull();
    s.apply(pass('tasks', [{ op: 'upsert', domain: 'tasks', items: [task('t1', 'firefox', 'alice', { status: 'pending' })] }]));
    // a pass that finds what the store holds is freshness only: no version
    expect(s.commit()).toBeNull();
    expect(s.version).toBe(first.version);
    s.apply(pass('tasks', [{ op: 'upsert', domain: 'tasks', items: [task('t1', 'firefox', 'alice', { status: 'running' })] }]));
    const next = s.commit()!;
    expect(next.version).toBe(first.version + 1);
    expect(next.changes.tasks.map((c) => c.key)).toEqual(['t1']);
  });

  it('renders the Go envelope with the snapshot inside', () => {
    const body = JSON.parse(seeded().commit()!.body);
    expect(body.success).toBe(true);
    expect(Object.keys(body.data)).toEqual(['timestamp', 'version', 'app_states', 'tasks', 'components', 'summary', 'sources']);
  });
});

describe('filters', () => {
  const cases: Array<[string, Record<string, string>, string[], string[]]> = [
    ['user narrows apps and tasks', { user_id: 'alice' }, ['alice:market:firefox', 'alice:local:gitea'], ['t1', 't3']],
    ['source narrows apps only', { source_id: 'local' }, ['alice:local:gitea'], ['t1', 't2', 't3', 't4', 't5']],
    ['app narrows both', { app_name: 'gitea' }, ['alice:local:gitea'], ['t3']],
    ['task status narrows tasks only', { task_status: 'failed' }, ['alice:market:firefox', 'alice:local:gitea', 'bob:market:firefox'], ['t4']],
    ['task type', { task_type: 'upgrade' }, ['alice:market:firefox', 'alice:local:gitea', 'bob:market:firefox'], ['t3']],
    ['combined', { user_id: 'bob', task_status: 'running' }, ['bob:market:firefox'], ['t2']],
    ['nothing matches', { user_id: 'nobody' }, [], []],
  ];
  it.each(cases)('%s', (_name, filter, apps, tasks) => {
    const s = seeded();
    s.commit();
    const data = JSON.parse(s.state(filter));
    expect(Object.keys(data.app_states).sort()).toEqual([...apps].sort());
    expect(Object.keys(data.tasks).sort()).toEqual([...tasks].sort());
    expect(Object.keys(data.components)).toHaveLength(6);
    expect(data.summary.total_apps).toBe(apps.length);
    expect(data.summary.total_tasks).toBe(tasks.length);
  });

  it('recomputes the summary over what was kept', () => {
    const s = seeded();
    s.commit();
    expect(JSON.parse(s.state({ user_id: 'bob' })).summary).toEqual({
      total_apps: 1, total_tasks: 3, pending_tasks: 0, running_tasks: 1, completed_tasks: 0, failed_tasks: 1,
      healthy_apps: 0, unhealthy_apps: 0, active_components: 4, stuck_apps: 0, stuck_tasks: 0,
    });
  });

  it('narrows chart_repo apps, images and hydrator tasks but keeps its system block and counters', () => {
    const s = seeded();
    s.apply(pass('chart_repo', [chartRepoView({
      system: { version: '1.2' },
      apps: [
        { app_id: 'a', app_name: 'firefox', user_id: 'alice', source_id: 'market', state: 'processing', last_update: T0 },
        { app_id: 'b', app_name: 'gitea', user_id: 'bob', source_id: 'market', state: 'completed', last_update: T0 },
      ],
      // each image in the answer of the pair that listed it (the collector's normalizer names that pair in it)
      images: [
        { image_name: 'ff:1', app_name: 'firefox', user_id: 'alice', source_id: 'market', status: 'fully_downloaded', last_update: T0 },
        { image_name: 'gitea:1', app_name: 'gitea', user_id: 'bob', source_id: 'market', status: 'not_downloaded', last_update: T0 },
      ],
      tasks: { hydrator: { queue_length: 4, active_tasks: 0, completed_tasks: 0, failed_tasks: 0, worker_count: 0, tasks: [{
        task_id: 'h1', user_id: 'bob', source_id: 'market', app_id: 'b', app_name: 'gitea', status: 'running', step_name: '',
        total_steps: 5, retry_count: 0, created_at: T0, updated_at: T0,
      }] } },
      last_update: T0,
    })]));
    s.commit();
    const chart = JSON.parse(s.state({ user_id: 'alice' })).chart_repo;
    expect(chart.apps.map((a: { app_name: string }) => a.app_name)).toEqual(['firefox']);
    expect(chart.images.map((i: { image_name: string }) => i.image_name)).toEqual(['ff:1']);
    // Go omits an empty list
    expect(chart.tasks.hydrator).toEqual({ queue_length: 4, active_tasks: 0, completed_tasks: 0, failed_tasks: 0, worker_count: 0 });
    expect(chart.system).toEqual({ version: '1.2' });
  });
});

describe('partial queries', () => {
  const s = seeded();
  s.commit();
  it('one app', () => {
    expect(JSON.parse(s.app('alice', 'local', 'gitea')!).stage).toBe('failed');
    expect(s.app('alice', 'local', 'nope')).toBeNull();
  });
  it('one task', () => {
    expect(JSON.parse(s.task('t4')!).status).toBe('failed');
    expect(s.task('t404')).toBeNull();
  });
  it('tasks by app, optionally by user', () => {
    expect(JSON.parse(s.tasksBy({ app_name: 'firefox' })).map((t: TaskState) => t.task_id).sort()).toEqual(['t1', 't2', 't4', 't5']);
    expect(JSON.parse(s.tasksBy({ app_name: 'firefox', user_id: 'bob' })).map((t: TaskState) => t.task_id).sort()).toEqual(['t2', 't4', 't5']);
  });
  it('tasks and apps by user', () => {
    expect(JSON.parse(s.tasksBy({ user_id: 'alice' })).map((t: TaskState) => t.task_id).sort()).toEqual(['t1', 't3']);
    expect(JSON.parse(s.appsByUser('bob')).map((a: AppFlowState) => a.app_name)).toEqual(['firefox']);
    expect(JSON.parse(s.appsByUser('nobody'))).toEqual([]);
  });
});

describe('readiness', () => {
  it('is ready once every expected source reported a first pass, good or bad', () => {
    const s = new RuntimeStore();
    s.expectSources(['tasks', 'chart_repo']);
    expect(s.ready).toBe(false);
    s.apply(pass('tasks', []));
    expect(s.ready).toBe(false);
    s.recordOutcome('chart_repo', outcome({ ok: false, error: 'refused' }));
    expect(s.ready).toBe(true);
  });
});

describe('change sets (the change stream reads these)', () => {
  it('lists upserts with their JSON and facets, removals with the facets they had', () => {
    const s = seeded();
    s.commit();
    s.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [
      task('t1', 'firefox', 'alice', { status: 'running' }), task('t2', 'firefox', 'bob', { status: 'running' }),
      task('t3', 'gitea', 'alice', { status: 'completed', type: 'upgrade' }),
      task('t4', 'firefox', 'bob', { status: 'failed', type: 'uninstall' }), task('t6', 'firefox', 'alice', { status: 'pending' }),
    ] }]));
    const { changes } = s.commit()!;
    const byKey = Object.fromEntries(changes.tasks.map((c) => [c.key, c]));
    expect(Object.keys(byKey).sort()).toEqual(['t1', 't5', 't6']);
    expect(byKey.t1.before).toMatchObject({ status: 'pending' });
    expect(byKey.t1.now).toMatchObject({ status: 'running', user_id: 'alice' });
    expect(JSON.parse(byKey.t1.json!).status).toBe('running');
    expect(byKey.t5).toEqual({ key: 't5', before: { user_id: 'bob', app_name: 'firefox', status: 'canceled', type: 'cancel', stuck: false } });
    expect(byKey.t6.before).toBeUndefined();
    // the tasks source stayed healthy: its block did not change
    expect(changes.sources).toBeUndefined();
    expect(changes.app_states).toEqual([]);
  });
});

describe('pushed app events', () => {
  const ev = (at: string, over: Partial<AppFlowState> = {}, gone = false) => ({
    key: 'alice:market:firefox', at,
    app: gone ? null : app('alice', 'market', 'firefox', { app_id: 'pushed', stage: 'stopped', health: 'unhealthy', version: undefined, metadata: { status: { createTime: at } }, ...over }),
  });

  it('applies a newer event, keeping what the event does not carry', () => {
    const s = seeded();
    s.apply(pass('app_flow', [{ op: 'upsert', domain: 'app_states', items: [app('alice', 'market', 'firefox', { version: '1.0', metadata: { status: { createTime: '2026-11-25T10:00:00.000Z' } } })] }]));
    s.apply(pushed('nats', [{ op: 'app_events', events: [ev('2026-11-25T10:05:00.000Z')] }], 2));
    const a = snapshot(s).app_states['alice:market:firefox'];
    expect(a).toMatchObject({ stage: 'stopped', health: 'unhealthy', app_id: 'firefox', version: '1.0' });
  });

  it('between polls, an event keeps the stage an active task forces, as the next poll would show it', () => {
    const s = seeded();
    s.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [
      task('t9', 'firefox', 'alice', { type: 'upgrade', status: 'running', started_at: '2026-11-25T10:01:00.000Z' }),
    ] }], {}, 2));
    // the old version still answers while the upgrade runs: app-service says running
    s.apply(pushed('nats', [{ op: 'app_events', events: [ev('2026-11-25T10:05:00.000Z', { stage: 'running', health: 'healthy', stage_detail: 'running' })] }], 2));
    const during = snapshot(s).app_states['alice:market:firefox'];
    expect(during).toMatchObject({ stage: 'upgrading', health: 'unknown', stage_task: 't9', stage_detail: 'running; upgrade task t9 running' });
    expect(during.stage_since).toBe('2026-11-25T10:01:00.000Z');
    // what the event says is still in metadata.status
    expect(during.metadata.status.createTime).toBe('2026-11-25T10:05:00.000Z');
    // the task ends: the next event is taken as it comes
    s.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [
      task('t9', 'firefox', 'alice', { type: 'upgrade', status: 'completed' }),
    ] }], {}, 3));
    s.apply(pushed('nats', [{ op: 'app_events', events: [ev('2026-11-25T10:06:00.000Z', { stage: 'running', health: 'healthy' })] }], 3));
    const after = snapshot(s).app_states['alice:market:firefox'];
    expect(after).toMatchObject({ stage: 'running', health: 'healthy' });
    expect(after.stage_task).toBeUndefined();
  });

  it('ignores an event older than the one held', () => {
    const s = seeded('2026-11-25T10:10:00.000Z');
    s.apply(pushed('nats', [{ op: 'app_events', events: [ev('2026-11-25T10:05:00.000Z')] }], 2));
    s.apply(pushed('nats', [{ op: 'app_events', events: [ev('2026-11-25T10:04:00.000Z', { stage: 'running', health: 'healthy' })] }], 3));
    expect(snapshot(s).app_states['alice:market:firefox'].stage).toBe('stopped');
    s.recordOutcome('nats', outcome({ duration_ms: 0 }));
    expect(s.freshness().nats!.counters!.stale_events).toBe(1);
  });

  it('removes an app an event says is gone; a new app from an event is owned by the pushing source', () => {
    const s = seeded();
    s.apply(pushed('nats', [{ op: 'app_events', events: [
      ev('2026-11-25T10:05:00.000Z', {}, true),
      { key: 'carol:market:vault', at: T0, app: app('carol', 'market', 'vault') },
    ] }], 2));
    const data = snapshot(s);
    expect(data.app_states['alice:market:firefox']).toBeUndefined();
    expect(data.app_states['carol:market:vault']).toBeDefined();
    // the next poll, which reconciles nats, removes it when the market does not list it
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [] }]));
    expect(snapshot(s).app_states).toEqual({});
  });

  it('a pushed app the market has not recorded yet survives polls for a grace period', () => {
    let now = Date.parse(T0);
    const s = new RuntimeStore(() => new Date(now));
    s.apply(pushed('nats', [{ op: 'app_events', events: [
      { key: 'carol:market:vault', at: T0, app: app('carol', 'market', 'vault', { metadata: { status: { createTime: T0 } } }) },
    ] }], 2));
    now += 10_000;
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [] }]));
    expect(snapshot(s).app_states['carol:market:vault']).toBeDefined();
    now += 30_000;
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [] }]));
    expect(snapshot(s).app_states['carol:market:vault']).toBeUndefined();
  });

  it('a poll never takes an app back behind a newer pushed event', () => {
    const s = seeded('2026-11-25T10:10:00.000Z');
    s.apply(pushed('nats', [{ op: 'app_events', events: [ev('2026-11-25T10:05:00.000Z')] }], 2));
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [
      app('alice', 'market', 'firefox', { stage: 'installing', metadata: { status: { createTime: '2026-11-25T10:01:00.000Z' } } }),
    ] }]));
    expect(snapshot(s).app_states['alice:market:firefox'].stage).toBe('stopped');
    // once the market records a newer state, the poll wins again
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [
      app('alice', 'market', 'firefox', { stage: 'running', metadata: { status: { createTime: '2026-11-25T10:06:00.000Z' } } }),
    ] }]));
    expect(snapshot(s).app_states['alice:market:firefox'].stage).toBe('running');
  });
});

describe('a version is a change a reader can see', () => {
  const later = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
  const quietPass = (source: PassMessage['source'], steps: StoreStep[], at: string, o: Partial<PassOutcome> = {}) =>
    pass(source, steps, { duration_ms: 7 + Math.random(), finished_at: at, counters: { rows: 3, apply_ms: Math.random() }, ...o });
  const seededCommitted = () => {
    const s = seeded();
    s.apply(pass('chart_repo', [chartRepoView({ apps: [], images: [], last_update: T0 })]));
    s.commit();
    return s;
  };
  const bodies = (s: RuntimeStore) => s.commit()?.body ?? null;

  it.each([
    ['tasks', [{ op: 'replace', domain: 'tasks', items: [
      task('t1', 'firefox', 'alice', { status: 'pending' }), task('t2', 'firefox', 'bob', { status: 'running' }),
      task('t3', 'gitea', 'alice', { status: 'completed', type: 'upgrade' }),
      task('t4', 'firefox', 'bob', { status: 'failed', type: 'uninstall' }), task('t5', 'firefox', 'bob', { status: 'canceled', type: 'cancel' }),
    ] }]],
    ['app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app('alice', 'market', 'firefox', { last_update: later(99) }), app('alice', 'local', 'gitea', { stage: 'failed', health: 'unhealthy' }),
      app('bob', 'market', 'firefox', { stage: 'installing', health: 'unknown' }),
    ] }]],
    ['components', [{ op: 'replace', domain: 'components', items: [
      comp('syncer', { last_check: later(5) }), comp('hydrator', { status: 'degraded', last_check: later(5) }),
      comp('cache', { healthy: false, status: 'error', last_check: later(5) }),
    ] }]],
    ['chart_repo', [chartRepoView({ apps: [], images: [], last_update: T0 })]],
  ] as [PassMessage['source'], StoreStep[]][])('%s: a pass that finds what is held mints no version, ten times over', (source, steps) => {
    const s = seededCommitted();
    const v = s.version;
    for (let i = 1; i <= 10; i++) {
      s.apply(quietPass(source, steps, later(5 * i)));
      expect(bodies(s)).toBeNull();
    }
    expect(s.version).toBe(v);
    // ...while its freshness moved with every pass
    expect(s.freshness()[source]).toMatchObject({ ok: true, last_success: later(50), last_attempt: later(50) });
  });

  it('chart_repo_pairs: running items whose last_update and processing.duration move mint no version, ten times over', () => {
    const s = seeded();
    const apps = (pass: number) => [{ state: 'processing', duration: pass * 1e9 }, { state: 'pending', duration: pass * 2e9 }];
    s.apply(quietPass('chart_repo', [aliceChartRepo(apps(0), T0)], T0));
    const first = JSON.parse(s.commit()!.body).data.chart_repo;
    const v = s.version;
    for (let i = 1; i <= 10; i++) {
      // (the part is sent again each pass, as after a new collector thread or a store that asked for it back)
      s.apply(quietPass('chart_repo', [aliceChartRepo(apps(i), later(5 * i))], later(5 * i)));
      expect(bodies(s)).toBeNull();
    }
    expect(s.version).toBe(v);
    // what a reader sees is the first pass's: its times say when the content last changed
    expect(JSON.parse(s.state({})).chart_repo).toEqual(first);
    expect(first.apps.map((a: { last_update: string }) => a.last_update)).toEqual([T0, T0]);
    expect(s.freshness().chart_repo).toMatchObject({ ok: true, last_success: later(50) });
  });

  it('chart_repo_pairs: an item whose state changes mints a version, as does a finished item\'s duration', () => {
    const s = seeded();
    s.apply(quietPass('chart_repo', [aliceChartRepo([{ state: 'processing', duration: 1e9 }], T0)], T0));
    s.commit();
    const v = s.version;
    s.apply(quietPass('chart_repo', [aliceChartRepo([{ state: 'completed', duration: 2e9 }], later(5))], later(5)));
    const done = s.commit()!;
    expect(done.version).toBe(v + 1);
    expect(JSON.parse(done.body).data.chart_repo.apps[0]).toMatchObject({ state: 'completed', processing: { duration: 2e9 }, last_update: later(5) });
    expect(done.changes.chart_repo?.apps.map((u) => u.json && JSON.parse(u.json).state)).toEqual(['completed']);
    // the same answer again: nothing; a finished item's duration that changes is content
    s.apply(quietPass('chart_repo', [aliceChartRepo([{ state: 'completed', duration: 2e9 }], later(10))], later(10)));
    expect(s.commit()).toBeNull();
    s.apply(quietPass('chart_repo', [aliceChartRepo([{ state: 'completed', duration: 3e9 }], later(15))], later(15)));
    expect(JSON.parse(s.commit()!.body).data.chart_repo.apps[0].processing.duration).toBe(3e9);
  });

  it.each([
    ['with entrances', [{ name: 'vault', state: 'running', statusTime: '2026-11-25T10:00:01Z', reason: '' }]],
    ['without entrances', undefined],
  ])('nats: an app event (%s) delivered again with the same content mints no version', (_what, entranceStatuses) => {
    const s = seededCommitted();
    // (the source's first pass brings its health into the body: a change of its own)
    s.apply(quietPass('nats', [], T0));
    s.commit();
    // as the NATS collector decodes app-service's message
    const message = Buffer.from(JSON.stringify({
      eventID: 'e1', createTime: '2026-11-25T10:00:01Z', name: 'vault', rawAppName: 'vault', title: 'Vault', opID: 'op1',
      opType: 'install', state: 'running', user: 'carol', progress: '100', marketSource: 'market', reason: '', message: '',
      ...(entranceStatuses ? { entranceStatuses } : {}),
    }));
    const event = () => {
      const d = decodeAppEvent(message);
      if (!d.ok) throw new Error(d.reason);
      return d.event;
    };
    s.apply(pushed('nats', [{ op: 'app_events', events: [event()] }], 2));
    const first = s.commit()!;
    expect(JSON.parse(first.body).data.app_states['carol:market:vault']).toMatchObject({ stage: 'running' });
    const v = s.version;
    for (let i = 1; i <= 10; i++) {
      // NATS delivers at least once: the same message again, between the source's own quiet passes
      s.apply(pushed('nats', [{ op: 'app_events', events: [event()] }], 2 + 2 * i));
      s.apply(quietPass('nats', [], later(5 * i)));
      expect(bodies(s)).toBeNull();
    }
    expect(s.version).toBe(v);
    expect(s.freshness().nats).toMatchObject({ ok: true, last_success: later(50) });
  });

  it('a failing source changes the version when it goes down and when its error changes, not on every attempt', () => {
    const s = seededCommitted();
    const v = s.version;
    s.apply(quietPass('tasks', [], later(5), { ok: false, error: 'connection refused' }));
    const down = s.commit()!;
    expect(JSON.parse(down.body).data.sources.tasks).toEqual({ ok: false, last_error: 'connection refused' });
    expect(JSON.parse(down.changes.components[0]!.json!)).toMatchObject({ name: 'collector_tasks', healthy: false, message: 'connection refused' });
    for (let i = 2; i < 6; i++) {
      s.apply(quietPass('tasks', [], later(5 * i), { ok: false, error: 'connection refused' }));
      expect(s.commit()).toBeNull();
    }
    expect(s.freshness().tasks!.consecutive_failures).toBe(5);
    s.apply(quietPass('tasks', [], later(30), { ok: false, error: 'timeout' }));
    expect(JSON.parse(s.commit()!.body).data.sources.tasks.last_error).toBe('timeout');
    s.apply(quietPass('tasks', [], later(35)));
    const back = s.commit()!;
    expect(JSON.parse(back.body).data.sources.tasks).toEqual({ ok: true, last_error: null });
    expect(back.version).toBe(v + 3);
  });

  it('a component keeps its last_check while its content stays the same: it says when content changed', () => {
    const s = seededCommitted();
    s.apply(quietPass('components', [{ op: 'replace', domain: 'components', items: [
      comp('syncer', { last_check: later(5) }), comp('hydrator', { status: 'degraded', last_check: later(5) }),
      comp('cache', { healthy: true, status: 'running', last_check: later(5) }),
    ] }], later(5)));
    const data = JSON.parse(s.commit()!.body).data;
    expect(data.components.syncer.last_check).toBe(T0);
    expect(data.components.cache).toMatchObject({ healthy: true, last_check: later(5) });
  });

  it('a stuck verdict flips as time passes, on a pass that changes nothing else', () => {
    let now = Date.parse(T0);
    const s = new RuntimeStore(() => new Date(now));
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app('bob', 'market', 'firefox', { stage: 'installing', health: 'unknown', stage_since: T0 }),
    ] }]));
    s.commit();
    now += 31 * 60_000;
    s.apply(quietPass('app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app('bob', 'market', 'firefox', { stage: 'installing', health: 'unknown', stage_since: T0 }),
    ] }], new Date(now).toISOString()));
    s.recheckStuck();
    const c = s.commit()!;
    expect(JSON.parse(c.body).data.app_states['bob:market:firefox'].stuck).toBe(true);
  });
});
