import { describe, expect, it } from 'vitest';
import type { AppFlowState, AppStage, TaskState } from '../../src/model/index.ts';
import type { PassMessage, StoreStep } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { DEFAULT_STUCK_LIMITS } from '../../src/store/stuck.ts';

const MIN = 60_000;
const START = Date.parse('2026-11-25T10:00:00.000Z');

/** A store whose clock the test moves. */
function clocked() {
  let now = START;
  const store = new RuntimeStore(() => new Date(now));
  return { store, advance: (ms: number) => { now += ms; }, at: (ms: number) => new Date(START + ms).toISOString() };
}
function pass(source: PassMessage['source'], steps: StoreStep[]): PassMessage {
  return { type: 'pass', seq: 1, source, steps, outcome: { ok: true, error: null, duration_ms: 1, finished_at: new Date(START).toISOString() } };
}
function app(stage: AppStage, stage_since: string, name = 'wiki'): AppFlowState {
  return { app_id: name, app_name: name, user_id: 'alice', source_id: 'market', stage, health: 'unknown', last_update: stage_since, stage_since };
}
function task(status: TaskState['status'], created_at: string, started_at?: string): TaskState {
  return { task_id: 't1', type: 'install', status, app_name: 'wiki', user_id: 'alice', created_at, ...(started_at ? { started_at } : {}) };
}
const data = (s: RuntimeStore) => {
  s.commit();
  return JSON.parse(s.state({}));
};

describe('stuck apps', () => {
  const stages = Object.entries(DEFAULT_STUCK_LIMITS.stages) as Array<[AppStage, number]>;
  it.each(stages)('%s becomes stuck once it has lasted longer than its limit', (stage, limit) => {
    const { store, advance, at } = clocked();
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app(stage, at(0))] }]));
    advance(limit);
    expect(data(store).app_states['alice:market:wiki'].stuck).toBeUndefined();
    advance(1000);
    const d = data(store);
    expect(d.app_states['alice:market:wiki']).toMatchObject({ stuck: true, stage_since: at(0) });
    expect(d.app_states['alice:market:wiki'].stuck_reason).toContain(`${stage} for longer than`);
    expect(d.summary.stuck_apps).toBe(1);
  });

  it('running, stopped and failed apps are never stuck', () => {
    const { store, advance, at } = clocked();
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app('running', at(0), 'a'), app('stopped', at(0), 'b'), app('failed', at(0), 'c'),
    ] }]));
    advance(24 * 60 * MIN);
    expect(data(store).summary.stuck_apps).toBe(0);
  });

  it('a poll inside the same stage keeps stage_since; a stage change resets the clock', () => {
    const { store, advance, at } = clocked();
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('installing', at(0))] }]));
    advance(20 * MIN);
    // a progress event inside "installing" carries a newer time: the stage did not change
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('installing', at(20 * MIN))] }]));
    advance(11 * MIN);
    expect(data(store).app_states['alice:market:wiki']).toMatchObject({ stage_since: at(0), stuck: true });
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('running', at(31 * MIN))] }]));
    advance(1000);
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('upgrading', at(32 * MIN))] }]));
    const d = data(store);
    expect(d.app_states['alice:market:wiki'].stage_since).toBe(at(32 * MIN));
    expect(d.app_states['alice:market:wiki'].stuck).toBeUndefined();
    expect(d.summary.stuck_apps).toBe(0);
  });

  it('a restarted sidecar takes stage_since from the market record, so it is stuck at once', () => {
    const { store, advance, at } = clocked();
    advance(45 * MIN);
    // the state row says installing since 10:00; this store has never seen the app before
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('installing', at(0))] }]));
    expect(data(store).app_states['alice:market:wiki']).toMatchObject({ stage_since: at(0), stuck: true });
  });
});

describe('stuck tasks', () => {
  it('pending past its limit since creation, running past its limit since start', () => {
    const { store, advance, at } = clocked();
    store.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('pending', at(0))] }]));
    advance(DEFAULT_STUCK_LIMITS.taskPendingMs + 1000);
    expect(data(store).tasks.t1).toMatchObject({ stuck: true });
    expect(data(store).summary.stuck_tasks).toBe(1);
    // it starts: running has its own clock, from started_at
    store.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('running', at(0), at(31 * MIN))] }]));
    expect(data(store).tasks.t1.stuck).toBeUndefined();
    advance(DEFAULT_STUCK_LIMITS.taskRunningMs + MIN);
    expect(data(store).tasks.t1.stuck).toBe(true);
    store.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [{ ...task('completed', at(0), at(31 * MIN)), completed_at: at(95 * MIN) }] }]));
    expect(data(store).summary.stuck_tasks).toBe(0);
  });
});

describe('?stuck=true and the limits', () => {
  it('narrows /state to stuck apps and tasks, with the summary over them', () => {
    const { store, advance, at } = clocked();
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('installing', at(0), 'slow'), app('running', at(0), 'fine')] }]));
    store.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('pending', at(0))] }]));
    advance(40 * MIN);
    store.commit();
    const d = JSON.parse(store.state({ stuck: true }));
    expect(Object.keys(d.app_states)).toEqual(['alice:market:slow']);
    expect(Object.keys(d.tasks)).toEqual(['t1']);
    expect(d.summary).toMatchObject({ total_apps: 1, stuck_apps: 1, total_tasks: 1, stuck_tasks: 1 });
    expect(Object.keys(JSON.parse(store.state({ stuck: false })).app_states)).toEqual(['alice:market:fine']);
  });

  it('takes configured limits, re-judging what it holds', () => {
    const { store, advance, at } = clocked();
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('uninstalling', at(0))] }]));
    advance(5 * MIN);
    expect(data(store).summary.stuck_apps).toBe(0);
    store.setStuckLimits({ ...DEFAULT_STUCK_LIMITS, stages: { ...DEFAULT_STUCK_LIMITS.stages, uninstalling: 2 * MIN } });
    const d = data(store);
    expect(d.summary.stuck_apps).toBe(1);
    expect(d.app_states['alice:market:wiki'].stuck_reason).toBe(`uninstalling for longer than 2m (since ${at(0)})`);
  });
});
