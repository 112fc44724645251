import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { AppFlowState, AppStage, TaskState } from '../../src/model/index.ts';
import { DeadlineQueue } from '../../src/store/deadline-queue.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import {
  appVerdict, clockTime, DEFAULT_STUCK_LIMITS, nextProgressMark, reportedProgress, type ProgressMark,
} from '../../src/store/stuck.ts';
import { app as storeApp, pass, T0, task as storeTask } from '../helpers/store-fixtures.ts';

const MIN = 60_000;
const START = Date.parse(T0);

/** A store whose clock the test moves. */
function clocked() {
  let now = START;
  const store = new RuntimeStore(() => new Date(now));
  return { store, advance: (ms: number) => { now += ms; }, at: (ms: number) => new Date(START + ms).toISOString() };
}
function app(stage: AppStage, stage_since: string, name = 'wiki'): AppFlowState {
  return storeApp('alice', 'market', name, { stage, health: 'unknown', last_update: stage_since, stage_since });
}
function task(status: TaskState['status'], created_at: string, started_at?: string): TaskState {
  return storeTask('t1', 'wiki', 'alice', { status, created_at, ...(started_at ? { started_at } : {}) });
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

  it('a new operation in the same stage starts the clock again, whether or not the store saw the app leave between', () => {
    const { store, advance, at } = clocked();
    const installing = (since: number, op: string) => ({ ...app('installing', at(since)), metadata: { status: { opID: op } } });
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [installing(0, 'op-1')] }]));
    advance(20 * MIN);
    // canceled and installed again (op-2) between two polls: never out of "installing" for this store
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [installing(19 * MIN, 'op-2')] }]));
    expect(data(store).app_states['alice:market:wiki']).toMatchObject({ stage_since: at(19 * MIN) });
    expect(data(store).app_states['alice:market:wiki'].stuck).toBeUndefined();
    // the same operation's later rows keep its clock
    advance(MIN);
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [installing(21 * MIN, 'op-2')] }]));
    expect(data(store).app_states['alice:market:wiki']).toMatchObject({ stage_since: at(19 * MIN) });
  });

  it('a new operation in the same stage at the same progress starts the stall clock again too', () => {
    const { store, advance, at } = clocked();
    const downloading = (since: number, op: string) => ({
      ...app('fetching', at(since)), metadata: { status: { opID: op, state: 'downloading', progress: '5' } },
    });
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [downloading(0, 'op-1')] }]));
    advance(DEFAULT_STUCK_LIMITS.progressStalledMs + MIN);
    expect(data(store).app_states['alice:market:wiki']).toMatchObject({ stuck: true, stuck_reason: 'fetching, progress 5 % since 2026-11-25 10:00 UTC' });
    // canceled and downloading again (op-2) between two polls, at the same 5 %: a new attempt, not stalled yet
    const retry = DEFAULT_STUCK_LIMITS.progressStalledMs + 30_000;
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [downloading(retry, 'op-2')] }]));
    const a = data(store).app_states['alice:market:wiki'];
    expect(a.stage_since).toBe(at(retry));
    expect(a.stuck).toBeUndefined();
    // and it stalls from its own start
    advance(DEFAULT_STUCK_LIMITS.progressStalledMs);
    store.commit();
    expect(data(store).app_states['alice:market:wiki']).toMatchObject({ stuck: true, stuck_since: at(retry) });
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
    // since when: a fixed time pages count the age from, not a running age
    expect(data(store).tasks.t1).toMatchObject({ stuck: true, stuck_since: at(0) });
    expect(data(store).summary.stuck_tasks).toBe(1);
    // it starts: running has its own clock, from started_at
    store.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('running', at(0), at(31 * MIN))] }]));
    expect(data(store).tasks.t1.stuck).toBeUndefined();
    expect(data(store).tasks.t1.stuck_since).toBeUndefined();
    advance(DEFAULT_STUCK_LIMITS.taskRunningMs + MIN);
    expect(data(store).tasks.t1).toMatchObject({ stuck: true, stuck_since: at(31 * MIN) });
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
    expect(d.app_states['alice:market:wiki'].stuck_reason).toBe(`uninstalling for longer than 2m (since 2026-11-25 10:00 UTC)`);
    expect(d.app_states['alice:market:wiki'].stuck_since).toBe(at(0));
  });
});

/** An app in `stage` whose source reports `progress`, recorded at `recorded` (ms after START). */
function progressing(stage: AppStage, progress: string | undefined, recorded: number, stageSince = 0): AppFlowState {
  return {
    ...app(stage, new Date(START + stageSince).toISOString()),
    last_update: new Date(START + recorded).toISOString(),
    metadata: { status: { state: stage, progress: progress ?? '' } },
  };
}

/** What the store does per app: remember the progress mark it returns, judge with it (see the report of h-alerts). */
function watcher(limits = DEFAULT_STUCK_LIMITS) {
  let mark: ProgressMark | undefined;
  return {
    see(a: AppFlowState, now: number) {
      mark = nextProgressMark(mark, a, START + now, limits) ?? undefined;
      return appVerdict(a, mark, START + now, limits);
    },
    judge: (a: AppFlowState, now: number) => appVerdict(a, mark, START + now, limits),
    get mark() { return mark; },
  };
}

describe('stalled progress (pure functions the store calls)', () => {
  it('an app whose reported progress has not moved for STUCK_STALLED is stuck, with a reason that names when it last moved', () => {
    const w = watcher();
    expect(w.see(progressing('installing', '5', 0), 0)).toBeNull();
    // 10:02: the progress moves to 12, then nothing more
    expect(w.see(progressing('installing', '12', 2 * MIN), 2 * MIN + 5000)).toBeNull();
    expect(w.see(progressing('installing', '12', 2 * MIN), 12 * MIN)).toBeNull();
    const verdict = w.judge(progressing('installing', '12', 2 * MIN), 12 * MIN + 1000);
    expect(verdict).toEqual({ stuck: true, reason: 'installing, progress 12 % since 2026-11-25 10:02 UTC', since: new Date(START + 2 * MIN).toISOString() });
    // the reason has no running age: later it reads the same, so it makes no new version by itself
    expect(w.judge(progressing('installing', '12', 2 * MIN), 25 * MIN)).toEqual(verdict);
  });

  it('progress that moves is never stalled, however long the stage lasts within its limit', () => {
    const w = watcher();
    for (let minute = 0; minute <= 28; minute += 7) {
      expect(w.see(progressing('installing', String(minute * 3), minute * MIN), minute * MIN), `minute ${minute}`).toBeNull();
    }
    expect(w.judge(progressing('installing', '84', 28 * MIN), 29 * MIN)).toBeNull();
    expect(w.mark).toMatchObject({ progress: '84', since: START + 28 * MIN });
  });

  it('moving again clears it; a new stage starts a new clock even at the same progress', () => {
    const w = watcher();
    w.see(progressing('upgrading', '40', 0), 0);
    expect(w.judge(progressing('upgrading', '40', 0), 11 * MIN)?.reason).toBe('upgrading, progress 40 % since 2026-11-25 10:00 UTC');
    expect(w.see(progressing('upgrading', '41', 11 * MIN), 11 * MIN)).toBeNull();
    expect(w.see(progressing('uninstalling', '41', 12 * MIN, 12 * MIN), 12 * MIN)).toBeNull();
    expect(w.judge(progressing('uninstalling', '41', 12 * MIN, 12 * MIN), 22 * MIN + 1000)?.reason)
      .toBe('uninstalling, progress 41 % since 2026-11-25 10:12 UTC');
  });

  it('progress rewritten without the row\'s time moving moved when it was seen: the stall clock starts again', () => {
    const w = watcher();
    w.see(progressing('installing', '10', 0), 0);
    expect(w.judge(progressing('installing', '10', 0), 12 * MIN)?.reason).toBe('installing, progress 10 % since 2026-11-25 10:00 UTC');
    // the market wrote 60 without touching updated_at: the row still says 10:00
    expect(w.see(progressing('installing', '60', 0), 12 * MIN)).toBeNull();
    expect(w.mark).toMatchObject({ progress: '60', since: START + 12 * MIN });
    expect(w.judge(progressing('installing', '60', 0), 22 * MIN + 1000)?.reason).toBe('installing, progress 60 % since 2026-11-25 10:12 UTC');
  });

  it('only progress its source reports counts: none, 100 %, or a stage that is not transitional is never stalled', () => {
    for (const a of [progressing('installing', undefined, 0), progressing('installing', '100', 0), progressing('running', '12', 0)]) {
      const w = watcher();
      expect(w.see(a, 0)).toBeNull();
      expect(w.mark).toBeUndefined();
      expect(w.judge(a, 14 * MIN)).toBeNull();
    }
  });

  it('a restarted sidecar dates the progress from the market record, so a long stall is flagged at once', () => {
    const w = watcher();
    // the row was last written at 10:03; this store first sees it at 10:30
    expect(w.see(progressing('hydrating', '7', 3 * MIN, 0), 30 * MIN)).toEqual({
      stuck: true, reason: `hydrating for longer than 15m (since 2026-11-25 10:00 UTC), progress 7 % since 2026-11-25 10:03 UTC`,
      since: new Date(START + 3 * MIN).toISOString(),
    });
  });

  it('a record dated in the future (clock skew) starts the clock now, not later', () => {
    const w = watcher();
    w.see(progressing('installing', '3', 60 * MIN), 0);
    expect(w.mark?.since).toBe(START);
    expect(w.judge(progressing('installing', '3', 60 * MIN), 10 * MIN + 1000)?.reason).toBe('installing, progress 3 % since 2026-11-25 10:00 UTC');
  });

  it('takes STUCK_STALLED from the limits; the time in stage alone still applies without progress', () => {
    const w = watcher({ ...DEFAULT_STUCK_LIMITS, progressStalledMs: 2 * MIN });
    w.see(progressing('fetching', '1', 0), 0);
    expect(w.judge(progressing('fetching', '1', 0), 2 * MIN)).toBeNull();
    expect(w.judge(progressing('fetching', '1', 0), 2 * MIN + 1000)?.reason).toBe('fetching, progress 1 % since 2026-11-25 10:00 UTC');
    const quiet = watcher();
    quiet.see(progressing('fetching', undefined, 0), 0);
    expect(quiet.judge(progressing('fetching', undefined, 0), 15 * MIN + 1000)?.reason).toBe(`fetching for longer than 15m (since 2026-11-25 10:00 UTC)`);
  });

  it('reads progress as app-service reports it, and names days other than today', () => {
    expect(reportedProgress(progressing('installing', ' 12.50 ', 0))).toBe('12.50');
    expect(reportedProgress({ ...progressing('installing', '', 0), metadata: { status: { progress: 33 } } })).toBe('33');
    expect(reportedProgress({ ...progressing('installing', '', 0), metadata: undefined })).toBeNull();
    const w = watcher();
    w.see(progressing('installing', 'downloading', 0), 0);
    expect(w.judge(progressing('installing', 'downloading', 0), 11 * MIN)?.reason).toBe('installing, progress "downloading" since 2026-11-25 10:00 UTC');
    expect(clockTime(START)).toBe('2026-11-25 10:00 UTC');
  });
});

describe('STUCK_STALLED', () => {
  const base = { DATABASE_URL: 'postgres://x@h/db' };
  it('defaults to 10m, takes a duration, and names itself when wrong', () => {
    expect(loadConfig(base).stuckLimits.progressStalledMs).toBe(10 * MIN);
    expect(loadConfig({ ...base, STUCK_STALLED: '90s' }).stuckLimits.progressStalledMs).toBe(90_000);
    expect(() => loadConfig({ ...base, STUCK_STALLED: 'ten minutes' })).toThrow(/STUCK_STALLED: must be a duration/);
  });
});

describe('stalled progress in the store', () => {
  const key = 'alice:market:wiki';
  it('flags an app whose reported progress stopped, counts it, and clears it when the progress moves', () => {
    const { store, advance } = clocked();
    const poll = (progress: string, recorded: number) =>
      store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [progressing('installing', progress, recorded)] }]));
    poll('5', 0);
    advance(2 * MIN);
    poll('12', 2 * MIN);
    advance(10 * MIN);
    poll('12', 2 * MIN);
    expect(data(store).app_states[key].stuck).toBeUndefined();
    advance(1000);
    let d = data(store);
    expect(d.app_states[key]).toMatchObject({
      stuck: true, stuck_reason: 'installing, progress 12 % since 2026-11-25 10:02 UTC', stuck_since: new Date(START + 2 * MIN).toISOString(),
    });
    expect(d.summary.stuck_apps).toBe(1);
    expect(Object.keys(JSON.parse(store.state({ stuck: true })).app_states)).toEqual([key]);
    // time passing alone makes no new version: the reason holds no running age
    const version = store.version;
    advance(5 * MIN);
    expect(store.commit()).toBeNull();
    expect(store.version).toBe(version);
    poll('13', 17 * MIN);
    d = data(store);
    expect(d.app_states[key].stuck).toBeUndefined();
    expect(d.app_states[key].stuck_since).toBeUndefined();
    expect(d.summary.stuck_apps).toBe(0);
  });

  it('the stage limit crossing later adds to the reason; leaving the stage clears both', () => {
    const { store, advance } = clocked();
    const poll = (stage: AppStage, progress: string) =>
      store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [progressing(stage, progress, 0)] }]));
    poll('hydrating', '7');
    advance(11 * MIN);
    expect(data(store).app_states[key].stuck_reason).toBe('hydrating, progress 7 % since 2026-11-25 10:00 UTC');
    advance(5 * MIN);
    expect(data(store).app_states[key].stuck_reason)
      .toBe(`hydrating for longer than 15m (since 2026-11-25 10:00 UTC), progress 7 % since 2026-11-25 10:00 UTC`);
    // stuck where it is since the progress stalled
    expect(data(store).app_states[key].stuck_since).toBe(new Date(START).toISOString());
    poll('running', '7');
    expect(data(store).app_states[key].stuck).toBeUndefined();
  });
});

describe('a store that replaces a dead one judges as the dead one did (its stuck clocks)', () => {
  const key = 'alice:market:wiki';
  /** three stores on one clock: the one that saw the app all along, its replacement given its clocks, a fresh one */
  function stores() {
    let now = START;
    const clock = () => new Date(now);
    return { seen: new RuntimeStore(clock), advance: (ms: number) => { now += ms; }, clock };
  }
  const at = (ms: number) => new Date(START + ms).toISOString();
  const poll = (store: RuntimeStore, progress: string, recorded: number, stageSince: number) =>
    store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [progressing('installing', progress, recorded, stageSince)] }]));

  it('keeps stage_since through later events, the stall clock through rewritten rows, and so the verdict and the ETag', () => {
    const { seen, advance, clock } = stores();
    poll(seen, '5', 0, 0);
    advance(2 * MIN);
    // a later event inside the stage (its time is the row's stage_since now) moves the progress
    poll(seen, '12', 2 * MIN, 2 * MIN);
    advance(3 * MIN);
    // the row written again with the same content: a newer updated_at, nothing else
    poll(seen, '12', 5 * MIN, 2 * MIN);
    seen.commit();
    const clocks = seen.takeStuckClocks(true).map(([k, c]) => [k, c!] as [string, NonNullable<typeof c>]);
    expect(clocks).toEqual([[key, { stage: 'installing', stage_since: at(0), mark: { stage: 'installing', progress: '12', since: START + 2 * MIN } }]]);

    const replacement = new RuntimeStore(clock);
    replacement.restoreStuckClocks(clocks);
    const fresh = new RuntimeStore(clock);
    for (const s of [replacement, fresh]) poll(s, '12', 5 * MIN, 2 * MIN);
    advance(7 * MIN + 1000);
    const [a, b, c] = [seen, replacement, fresh].map((s) => data(s).app_states[key]);
    expect(a).toMatchObject({ stage_since: at(0), stuck: true, stuck_reason: 'installing, progress 12 % since 2026-11-25 10:02 UTC' });
    expect(b).toMatchObject({ stage_since: a.stage_since, stuck: true, stuck_reason: a.stuck_reason, stuck_since: a.stuck_since });
    // the same content, so the same digest (ETag) as the store that saw it all
    expect(replacement.content).toBe(seen.content);
    // without the clocks a new store starts them again from the row: another stage_since, not stuck yet
    expect(c).toMatchObject({ stage_since: at(2 * MIN) });
    expect(c.stuck).toBeUndefined();
    expect(fresh.content).not.toBe(seen.content);
    // the replacement counts changes from the clocks it was given: nothing new to take
    expect(replacement.takeStuckClocks()).toEqual([]);
  });

  it('hands over only what changed; a clock goes when its app leaves the stage or the view', () => {
    const { seen, advance } = stores();
    poll(seen, '5', 0, 0);
    expect(seen.takeStuckClocks().map(([k]) => k)).toEqual([key]);
    expect(seen.takeStuckClocks()).toEqual([]);
    advance(MIN);
    poll(seen, '5', MIN, 0);
    // the same stage, progress and stage_since: the clock did not move
    expect(seen.takeStuckClocks()).toEqual([]);
    seen.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [progressing('running', '100', 2 * MIN, 2 * MIN)] }]));
    expect(seen.takeStuckClocks()).toEqual([[key, null]]);
    poll(seen, '5', 3 * MIN, 3 * MIN);
    seen.takeStuckClocks();
    seen.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [] }]));
    expect(seen.takeStuckClocks()).toEqual([[key, null]]);
  });

  it('a restored clock of an app the new store never sees is dropped once it is ready', () => {
    const { seen, clock } = stores();
    poll(seen, '5', 0, 0);
    const replacement = new RuntimeStore(clock);
    replacement.expectSources(['app_flow']);
    replacement.restoreStuckClocks(seen.takeStuckClocks(true) as [string, never][]);
    replacement.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [] }]));
    replacement.commit();
    expect(replacement.takeStuckClocks()).toEqual([[key, null]]);
  });
});

describe('re-judging as time passes (only the verdicts that can flip are looked at)', () => {
  const stages: AppStage[] = ['fetching', 'installing', 'upgrading', 'hydrating', 'running', 'stopped'];
  it('after any run of time steps, every app holds the verdict a fresh judgement gives', () => {
    fc.assert(fc.property(
      fc.array(fc.record({
        stage: fc.constantFrom(...stages),
        since: fc.integer({ min: -40 * MIN, max: 0 }),
        recorded: fc.integer({ min: -40 * MIN, max: 0 }),
        progress: fc.option(fc.constantFrom('0', '7', '12', '99', '100', 'abc'), { nil: undefined }),
      }), { minLength: 1, maxLength: 12 }),
      // steps of up to 16 hours, so runs cross UTC midnight (the stalled reason then names the day)
      fc.array(fc.integer({ min: 0, max: 16 * 60 * MIN }), { minLength: 1, maxLength: 12 }),
      (apps, steps) => {
        const { store, advance } = clocked();
        const items = apps.map((a) => progressing(a.stage, a.progress, a.recorded, a.since));
        items.forEach((a, i) => { a.app_name = `app${i}`; a.app_id = a.app_name; });
        store.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items }]));
        const marks = items.map((a) => nextProgressMark(undefined, a, START, DEFAULT_STUCK_LIMITS) ?? undefined);
        let now = START;
        for (const step of steps) {
          advance(step);
          now += step;
          const held = data(store).app_states;
          items.forEach((a, i) => {
            expect(held[`alice:market:${a.app_name}`].stuck_reason).toBe(appVerdict(a, marks[i], now, DEFAULT_STUCK_LIMITS)?.reason);
          });
        }
      },
    ), { numRuns: 150 });
  });
});

describe('DeadlineQueue', () => {
  it('hands out each key once when due, at its latest deadline; cancelled keys never', () => {
    const q = new DeadlineQueue();
    q.schedule('a', 30);
    q.schedule('b', 10);
    q.schedule('c', 20);
    q.schedule('a', 5);
    q.schedule('c', Infinity);
    expect(q.takeDue(4)).toEqual([]);
    expect(q.takeDue(10)).toEqual(['a', 'b']);
    expect(q.takeDue(100)).toEqual([]);
    expect(q.size).toBe(0);
  });

  it('stays bounded when keys are rescheduled over and over', () => {
    const q = new DeadlineQueue();
    for (let i = 0; i < 10_000; i++) q.schedule(`k${i % 10}`, 1000 + i);
    expect(q.size).toBe(10);
    expect((q as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(64);
    expect(q.takeDue(Infinity).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
  });
});
