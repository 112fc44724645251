import { describe, expect, it } from 'vitest';
import { LIMITS, type AppFlowState, type TaskState } from '../../src/model/index.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { Timeline, TIMELINE_LIMITS } from '../../src/store/timeline.ts';
import { decodeAppEvent } from '../../src/collect/app-event.ts';
import { app as fixtureApp, pushed, task as fixtureTask } from '../helpers/store-fixtures.ts';

const T0 = '2026-12-01T10:00:00.000Z';
const at = (min: number) => new Date(Date.parse(T0) + min * 60_000).toISOString();

function app(over: Partial<AppFlowState> = {}): AppFlowState {
  return fixtureApp('alice', 'market', 'wiki', { stage: 'installing', health: 'unknown', last_update: T0, ...over });
}
function task(over: Partial<TaskState> = {}): TaskState {
  return fixtureTask('t1', 'wiki', 'alice', { status: 'pending', created_at: T0, ...over });
}
const history = (s: RuntimeStore, kind: 'app_states' | 'tasks', key: string) => JSON.parse(s.history(kind, key) ?? 'null');

describe('timeline of an app', () => {
  it('records each transition once, at the market\'s time, with its evidence; repeats add nothing', () => {
    let now = Date.parse(at(30));
    const s = new RuntimeStore(() => new Date(now));
    const poll = (a: AppFlowState) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [a] }]));
    poll(app({ metadata: { status: { progress: '10' } } }));
    poll(app({ metadata: { status: { progress: '10' } } }));
    poll(app({ metadata: { status: { progress: '40' } }, last_update: at(2) }));
    s.apply(pushed('nats', [{ op: 'app_events', events: [{ key: 'alice:market:wiki', at: at(3), id: 'ev-7', app: app({ stage: 'running', health: 'healthy', last_update: at(3) }) }] }]));
    const h = history(s, 'app_states', 'alice:market:wiki');
    // kept from the store's start (at 30), but its state row dates the first entry earlier: complete from there
    expect(h.since).toBe(T0);
    expect(h.entries).toEqual([
      { at: T0, stage: 'installing', health: 'unknown', progress: '10', evidence: 'poll user_application_states' },
      { at: at(2), stage: 'installing', health: 'unknown', progress: '40', evidence: 'poll user_application_states' },
      { at: at(3), stage: 'running', health: 'healthy', evidence: 'event ev-7' },
    ]);
    // uninstalled: the last entry says when, and the history stays for an hour
    poll(app({ app_name: 'blog' }));
    now = Date.parse(at(42));
    const gone = history(s, 'app_states', 'alice:market:wiki');
    expect(gone.entries.at(-1)).toEqual({ at: at(30), stage: 'removed', evidence: 'poll user_application_states' });
    expect(gone.gone_at).toBe(at(30));
    expect(s.app('alice', 'market', 'wiki')).toBeNull();
    now = Date.parse(at(30 + 61));
    s.commit();
    expect(s.history('app_states', 'alice:market:wiki')).toBeNull();
  });

  it('an app the poll read leaving says how and when the market wrote it: "uninstalled at 10:42"', () => {
    const s = new RuntimeStore(() => new Date(at(50)));
    const steps = (step: object) => s.apply(pushed('app_flow', [step as never]));
    steps({ op: 'replace', domain: 'app_states', items: [app({ stage: 'running', health: 'healthy' }), app({ app_name: 'blog' })] });
    steps({ op: 'changes', domain: 'app_states', items: [], removed: ['alice:market:wiki', 'alice:market:blog'], left: [
      { key: 'alice:market:wiki', at: at(42), state: 'uninstalled' },
      // a row time before the history's last entry: dated when seen, never backwards
      { key: 'alice:market:blog', at: '2026-12-01T09:00:00.000Z', state: 'installFailed' },
    ] });
    const wiki = history(s, 'app_states', 'alice:market:wiki');
    expect(wiki.entries.at(-1)).toEqual({ at: at(42), stage: 'removed', detail: 'uninstalled', evidence: 'poll user_application_states' });
    expect(wiki.gone_at).toBe(at(42));
    expect(history(s, 'app_states', 'alice:market:blog').entries.at(-1)).toEqual({ at: at(50), stage: 'removed', detail: 'installFailed', evidence: 'poll user_application_states' });
  });

  it('an app an app-service event says left says how, as a poll of its row would: "uninstalled at 10:42"', () => {
    const s = new RuntimeStore(() => new Date(at(50)));
    s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [app({ stage: 'running', health: 'healthy' })] }]));
    const message = { eventID: 'ev-9', createTime: at(42), name: 'wiki', user: 'alice', marketSource: 'market', state: 'uninstalled', opType: 'uninstall' };
    const decoded = decodeAppEvent(new TextEncoder().encode(JSON.stringify(message)), undefined, Date.parse(at(50)));
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.event.key).toBe('alice:market:wiki');
    s.apply(pushed('nats', [{ op: 'app_events', events: [decoded.event] }]));
    const wiki = history(s, 'app_states', 'alice:market:wiki');
    expect(wiki.entries.at(-1)).toEqual({ at: at(42), stage: 'removed', detail: 'uninstalled', evidence: 'event ev-9' });
    expect(wiki.gone_at).toBe(at(42));
  });

  it('a stage forced by a task names the task and its time; what the state row moves after is the poll\'s', () => {
    const s = new RuntimeStore(() => new Date(at(30)));
    const poll = (a: AppFlowState) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [a] }]));
    // running since T0 (the state row); an upgrade task created at 5 then started at 6 forces upgrading
    poll(app({ stage: 'running', health: 'healthy' }));
    const forced = { stage: 'upgrading' as const, health: 'unknown' as const, stage_task: 'up-1' };
    poll(app({ ...forced, stage_detail: 'running; upgrade task up-1 pending', stage_since: at(5) }));
    poll(app({ ...forced, stage_detail: 'running; upgrade task up-1 running', stage_since: at(6) }));
    // the app-service then reports progress: the state row moved, at its own time
    poll(app({ ...forced, stage_detail: 'upgrading (progress 40); upgrade task up-1 running', stage_since: at(6), last_update: at(8), metadata: { status: { progress: '40' } } }));
    expect(history(s, 'app_states', 'alice:market:wiki').entries).toEqual([
      { at: T0, stage: 'running', health: 'healthy', evidence: 'poll user_application_states' },
      { at: at(5), stage: 'upgrading', health: 'unknown', detail: 'running; upgrade task up-1 pending', evidence: 'task override up-1' },
      { at: at(6), stage: 'upgrading', health: 'unknown', detail: 'running; upgrade task up-1 running', evidence: 'task override up-1' },
      { at: at(8), stage: 'upgrading', health: 'unknown', progress: '40', detail: 'upgrading (progress 40); upgrade task up-1 running', evidence: 'poll user_application_states' },
    ]);
  });

  it('never runs backwards: back to running when a task override ended, dated by an older state row, is dated when seen', () => {
    const s = new RuntimeStore(() => new Date(at(30)));
    const poll = (a: AppFlowState) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [a] }]));
    poll(app({ stage: 'running', health: 'healthy' }));
    poll(app({ stage: 'upgrading', health: 'unknown', stage_task: 'up-1', stage_detail: 'running; upgrade task up-1 pending', stage_since: at(5) }));
    // the task was canceled: the row (still dated T0) says running again
    poll(app({ stage: 'running', health: 'healthy' }));
    const entries = history(s, 'app_states', 'alice:market:wiki').entries as { at: string; stage: string }[];
    expect(entries.map((e) => [e.stage, e.at])).toEqual([['running', T0], ['upgrading', at(5)], ['running', at(30)]]);
  });

  it('a state whose row kept its time (progress rewritten without updated_at) is dated when seen', () => {
    let now = Date.parse(at(30));
    const s = new RuntimeStore(() => new Date(now));
    const poll = (a: AppFlowState) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [a] }]));
    poll(app({ metadata: { status: { progress: '10' } } }));
    now = Date.parse(at(31));
    poll(app({ metadata: { status: { progress: '60' } } }));
    const entries = history(s, 'app_states', 'alice:market:wiki').entries as { at: string; progress: string }[];
    expect(entries.map((e) => [e.progress, e.at])).toEqual([['10', T0], ['60', at(31)]]);
  });

  it('an install canceled and begun again in the same stage is an entry naming the new operation, at the time its stall is counted from', () => {
    let now = Date.parse(at(1));
    const s = new RuntimeStore(() => new Date(now));
    const downloading = (op: string, updated: string) => app({
      stage: 'fetching', stage_since: updated, last_update: updated, metadata: { status: { opID: op, state: 'downloading', progress: '5' } },
    });
    const poll = (a: AppFlowState) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [a] }]));
    poll(downloading('op-1', T0));
    // canceled and downloading again (op-2) between two polls, at the same 5 %: nothing but the operation moved
    now = Date.parse(at(12));
    poll(downloading('op-2', at(11)));
    // later rows of the same operation repeat it: no entry
    now = Date.parse(at(13));
    poll(downloading('op-2', at(11)));
    const entries = history(s, 'app_states', 'alice:market:wiki').entries;
    expect(entries).toEqual([
      { at: T0, stage: 'fetching', health: 'unknown', progress: '5', evidence: 'poll user_application_states' },
      { at: at(11), stage: 'fetching', health: 'unknown', progress: '5', op: 'op-2', evidence: 'poll user_application_states' },
    ]);
    // stalled at 5 % since the new operation began: the reason's time is that entry's
    now = Date.parse(at(30));
    s.commit();
    const a = JSON.parse(s.app('alice', 'market', 'wiki')!) as AppFlowState;
    expect(a.stuck_since).toBe(entries[1].at);
    expect(a.stuck_reason).toContain('progress 5 % since 2026-12-01 10:11 UTC');
  });

  it('each version carries the new entries of what it changed, once (the stream replays them to a client that resumes)', () => {
    const s = new RuntimeStore(() => new Date(T0));
    s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [app({ app_name: 'blog' })] }]));
    expect(s.commit()!.changes.timeline!.app_states.map((t) => t.key)).toEqual(['alice:market:blog']);
    s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [app({ app_name: 'blog' }), app()] }]));
    expect(s.commit()!.changes.timeline!.app_states.map((t) => [t.key, JSON.parse(t.json).length])).toEqual([['alice:market:wiki', 1]]);
    s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [app({ app_name: 'blog' }), app({ stage: 'running', health: 'healthy' })] }]));
    expect(JSON.parse(s.commit()!.changes.timeline!.app_states[0]!.json)).toEqual([
      { at: T0, stage: 'running', health: 'healthy', evidence: 'poll user_application_states' },
    ]);
  });
});

describe('departed histories expire on time', () => {
  it('on a quiet market: an hour after the app left, its history is gone, and no version was minted for it', () => {
    let now = Date.parse(T0);
    const s = new RuntimeStore(() => new Date(now));
    const poll = (...apps: AppFlowState[]) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: apps }]));
    poll(app(), app({ app_name: 'blog' }));
    s.commit();
    poll(app({ app_name: 'blog' }));
    const left = s.commit()!.version;
    now = Date.parse(at(60));
    expect(history(s, 'app_states', 'alice:market:wiki').gone_at).toBe(T0);
    now = Date.parse(at(61));
    // nothing changes: quiet passes commit nothing, and the history is gone when asked for
    poll(app({ app_name: 'blog' }));
    expect(s.commit()).toBeNull();
    expect(s.version).toBe(left);
    expect(s.history('app_states', 'alice:market:wiki')).toBeNull();
    expect(history(s, 'app_states', 'alice:market:blog').entries).toHaveLength(1);
  });

  it('expires on read alone, and only what left: an app that came back keeps its history', () => {
    let now = Date.parse(T0);
    const s = new RuntimeStore(() => new Date(now));
    const poll = (...apps: AppFlowState[]) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: apps }]));
    poll(app(), app({ app_name: 'blog' }));
    poll();
    now = Date.parse(at(30));
    poll(app({ last_update: at(30) }));
    now = Date.parse(at(90));
    expect(s.history('app_states', 'alice:market:blog')).toBeNull();
    expect(history(s, 'app_states', 'alice:market:wiki').entries.map((e: { stage: string }) => e.stage)).toEqual(['installing', 'removed', 'installing']);
  });

  it('a Timeline frees a departed history\'s entries once its time is up, not before', () => {
    const t = new Timeline(T0, { perEntity: 50, total: 1000, keepGoneMs: 60 * 60_000 });
    t.record('a', { at: T0, stage: 'running', evidence: 'x' }, T0);
    t.record('b', { at: T0, stage: 'running', evidence: 'x' }, T0);
    t.gone('a', T0, 'x', Date.parse(T0));
    t.expire(Date.parse(at(60)));
    expect(t.entries).toBe(3);
    t.expire(Date.parse(at(60)) + 1);
    expect(t.entries).toBe(1);
    expect(t.get('a')).toBeUndefined();
  });
});

describe('timeline of a task', () => {
  it('is rebuilt from task_records times when first seen (after a restart too)', () => {
    const s = new RuntimeStore(() => new Date(at(60)));
    s.apply(pushed('tasks', [{ op: 'replace', domain: 'tasks', items: [task({ status: 'failed', started_at: at(1), completed_at: at(9), error_msg: 'image pull failed' })] }]));
    expect(history(s, 'tasks', 't1')).toEqual({
      key: 't1', since: T0,
      entries: [
        { at: T0, stage: 'pending', evidence: 'task_records.created_at' },
        { at: at(1), stage: 'running', evidence: 'task_records.started_at' },
        { at: at(9), stage: 'failed', detail: 'image pull failed', evidence: 'task_records.completed_at' },
      ],
    });
  });

  it('a status passed between two polls is filled in from task_records times: pending, running, completed', () => {
    const s = new RuntimeStore(() => new Date(at(60)));
    const poll = (t: TaskState) => s.apply(pushed('tasks', [{ op: 'replace', domain: 'tasks', items: [t] }]));
    poll(task());
    poll(task({ status: 'completed', started_at: at(2), completed_at: at(4) }));
    expect(history(s, 'tasks', 't1').entries).toEqual([
      { at: T0, stage: 'pending', evidence: 'task_records.created_at' },
      { at: at(2), stage: 'running', evidence: 'task_records.started_at' },
      { at: at(4), stage: 'completed', evidence: 'task_records.completed_at' },
    ]);
  });
});

describe('a task that ended the moment it started (completed_at = started_at)', () => {
  // seen first by a store started before or after it ended, live or rebuilt: one history, dated by task_records,
  // so its ETag is the same on every replica and after a restart
  const ended = task({ status: 'failed', started_at: at(1), completed_at: at(1), error_msg: 'pvc pending' });
  const expected = [
    { at: T0, stage: 'pending', evidence: 'task_records.created_at' },
    { at: at(1), stage: 'running', evidence: 'task_records.started_at' },
    { at: at(1), stage: 'failed', detail: 'pvc pending', evidence: 'task_records.completed_at' },
  ];
  it('rebuilt when first seen ended: its end at completed_at, not when this store saw it', () => {
    for (const seen of [at(60), at(90)]) {
      const s = new RuntimeStore(() => new Date(seen));
      s.apply(pushed('tasks', [{ op: 'replace', domain: 'tasks', items: [ended] }]));
      expect(history(s, 'tasks', 't1').entries).toEqual(expected);
    }
  });
  it('seen pending, then already ended: the same history as one rebuilt', () => {
    const s = new RuntimeStore(() => new Date(at(60)));
    const poll = (t: TaskState) => s.apply(pushed('tasks', [{ op: 'replace', domain: 'tasks', items: [t] }]));
    poll(task());
    poll(ended);
    expect(history(s, 'tasks', 't1').entries).toEqual(expected);
  });
  it('canceled before it started (completed_at = created_at): dated by task_records too', () => {
    const s = new RuntimeStore(() => new Date(at(60)));
    s.apply(pushed('tasks', [{ op: 'replace', domain: 'tasks', items: [task({ status: 'canceled', completed_at: T0 })] }]));
    expect(history(s, 'tasks', 't1').entries).toEqual([
      { at: T0, stage: 'pending', evidence: 'task_records.created_at' },
      { at: T0, stage: 'canceled', evidence: 'task_records.completed_at' },
    ]);
  });
});

describe('details', () => {
  it('an entry keeps at most 128 characters of a stage detail or task error; the app and task keep theirs whole', () => {
    const s = new RuntimeStore(() => new Date(at(30)));
    // the longest a source may send
    const long = `image pull failed: ${'registry timed out; '.repeat(500)}`.slice(0, LIMITS.text);
    s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [app({ stage_detail: long })] }]));
    s.apply(pushed('tasks', [{ op: 'replace', domain: 'tasks', items: [fixtureTask('t9', 'wiki', 'alice', { status: 'failed', error_msg: long })] }]));
    const clipped = `${long.slice(0, TIMELINE_LIMITS.detail - 1)}…`;
    expect(TIMELINE_LIMITS.detail).toBe(128);
    expect(history(s, 'app_states', 'alice:market:wiki').entries[0].detail).toBe(clipped);
    expect(history(s, 'tasks', 't9').entries.at(-1).detail).toBe(clipped);
    expect(JSON.parse(s.app('alice', 'market', 'wiki')!).stage_detail).toBe(long);
    expect(JSON.parse(s.task('t9')!).error_msg).toBe(long);
    // one at the bound is kept as it is
    const atBound = 'x'.repeat(TIMELINE_LIMITS.detail);
    s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [app({ stage_detail: atBound })] }]));
    expect(history(s, 'app_states', 'alice:market:wiki').entries.at(-1).detail).toBe(atBound);
  });
});

describe('since: from when a history is complete', () => {
  it('moves to the oldest kept entry when older ones are dropped, per app or past the total; never before what it said', () => {
    const t = new Timeline(T0, { perEntity: 3, total: 3, keepGoneMs: 60_000 });
    for (let i = 1; i <= 5; i++) t.record('a', { at: at(i), stage: `s${i}`, evidence: 'x' }, at(i));
    expect(t.get('a')!.since).toBe(at(3)); // s1, s2 dropped
    for (let i = 1; i <= 3; i++) t.record('b', { at: at(5 + i), stage: `s${i}`, evidence: 'x' }, at(5 + i));
    // past the total: 'a', the quietest, is down to its latest, and says so
    expect(t.get('a')!.entries.map((e) => e.stage)).toEqual(['s5']);
    expect(t.get('a')!.since).toBe(at(5));
    expect(t.get('b')!.since).toBe(T0);
    // entries the market dates before the store started: complete from the first, then from the oldest kept one
    const late = new Timeline(at(30), { perEntity: 2, total: 100, keepGoneMs: 60_000 });
    late.record('a', { at: at(1), stage: 's1', evidence: 'x' }, at(30));
    expect(late.get('a')!.since).toBe(at(1));
    for (let i = 2; i <= 3; i++) late.record('a', { at: at(i), stage: `s${i}`, evidence: 'x' }, at(30));
    expect(late.get('a')!.since).toBe(at(2));
  });

  it('is never later than the first entry: a state row, a task override or a task dated before the store started', () => {
    const start = at(30);
    const s = new RuntimeStore(() => new Date(start));
    s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app({ app_name: 'old-row', last_update: at(2) }),
      // forced by a task that started at 5, its state row older still: the entry is at the task's time
      app({ app_name: 'forced', stage: 'upgrading', last_update: T0, stage_task: 'up-1', stage_since: at(5) }),
      app({ app_name: 'fresh-row', last_update: at(40) }),
    ] }]));
    s.apply(pushed('tasks', [{ op: 'replace', domain: 'tasks', items: [task({ status: 'running', created_at: at(1), started_at: at(3) })] }]));
    const since = (kind: 'app_states' | 'tasks', key: string) => {
      const h = history(s, kind, key) as { since: string; entries: { at: string }[] };
      expect(Date.parse(h.since), key).toBeLessThanOrEqual(Date.parse(h.entries[0]!.at));
      return h.since;
    };
    expect(since('app_states', 'alice:market:old-row')).toBe(at(2));
    expect(since('app_states', 'alice:market:forced')).toBe(at(5));
    // a row dated after the start: the history still says from the start
    expect(since('app_states', 'alice:market:fresh-row')).toBe(start);
    expect(since('tasks', 't1')).toBe(at(1));
  });

  it('a history begun after the store let a departed one go starts when it was begun: it may be that one, back', () => {
    let now = Date.parse(T0);
    const s = new RuntimeStore(() => new Date(now));
    const poll = (...apps: AppFlowState[]) => s.apply(pushed('app_flow', [{ op: 'replace', domain: 'app_states', items: apps }]));
    poll(app());
    now = Date.parse(at(10));
    // nothing forgotten yet: an app first seen later is complete from the store's start
    poll(app(), app({ app_name: 'blog', last_update: at(10) }));
    expect(history(s, 'app_states', 'alice:market:blog').since).toBe(T0);
    poll(app({ app_name: 'blog', last_update: at(10) }));
    now = Date.parse(at(75));
    s.commit(); // wiki left at 10: its history expired at 70
    expect(s.history('app_states', 'alice:market:wiki')).toBeNull();
    now = Date.parse(at(80));
    poll(app({ app_name: 'blog', last_update: at(10) }), app({ last_update: at(80) }), app({ app_name: 'docs', last_update: at(80) }));
    // what happened to wiki before is gone: its history no longer claims it from the start; nor can a new app's
    expect(history(s, 'app_states', 'alice:market:wiki')).toMatchObject({ since: at(80), entries: [{ at: at(80), stage: 'installing' }] });
    expect(history(s, 'app_states', 'alice:market:docs').since).toBe(at(80));
    expect(history(s, 'app_states', 'alice:market:blog').since).toBe(T0);
  });
});

describe('bounds', () => {
  it('keeps the last N entries per entity and a total across entities, trimming the quietest first', () => {
    const t = new Timeline(T0, { perEntity: 3, total: 3, keepGoneMs: 60_000 });
    for (let i = 0; i < 5; i++) t.record('a', { at: at(i), stage: `s${i}`, evidence: 'x' }, at(i));
    expect(t.get('a')!.entries.map((e) => e.stage)).toEqual(['s2', 's3', 's4']);
    for (let i = 0; i < 3; i++) t.record('b', { at: at(i), stage: `s${i}`, evidence: 'x' }, at(i));
    // past 3 beyond each history's latest: trimmed to 90 % of the bound, the least recently changed first
    expect(t.entries).toBe(4);
    expect(t.get('a')!.entries.map((e) => e.stage)).toEqual(['s4']);
    expect(t.get('b')!.entries).toHaveLength(3);
  });

  it('past the total, departed histories go before any entry of an app or task still in view', () => {
    const t = new Timeline(T0, { perEntity: 10, total: 8, keepGoneMs: 60 * 60_000 });
    for (let i = 0; i < 5; i++) t.record('quiet', { at: at(i), stage: `s${i}`, evidence: 'x' }, at(i));
    t.record('left', { at: at(5), stage: 'installing', evidence: 'x' }, at(5));
    t.gone('left', at(6), 'x', Date.parse(at(6)));
    // 'quiet' is the least recently changed, 'left' departed after it: 'left' goes, 'quiet' keeps all it saw
    for (let i = 0; i < 4; i++) t.record('busy', { at: at(7 + i), stage: `s${i}`, evidence: 'x' }, at(7 + i));
    expect(t.entries).toBe(9);
    expect(t.inView).toBe(2);
    expect(t.get('left')).toBeUndefined();
    expect(t.get('quiet')!.entries).toHaveLength(5);
    expect(t.get('busy')!.entries).toHaveLength(4);
  });

  it('the bound follows the market: so many entries per app in view, at least the floor, at most the total', () => {
    const t = new Timeline(T0, { perEntity: 50, total: 100, keepGoneMs: 60 * 60_000, perInView: 4, floor: 10 });
    expect(t.bound).toBe(10);
    const keys = Array.from({ length: 30 }, (_, i) => `app-${i}`);
    for (const key of keys.slice(0, 5)) t.record(key, { at: T0, stage: 'running', evidence: 'x' }, T0);
    expect(t.bound).toBe(20);
    for (const key of keys) t.record(key, { at: T0, stage: 'running', evidence: 'x' }, T0);
    expect(t.bound).toBe(100);
    // a small market whose apps come and go: the departed histories are held within its own bound, not the total
    const small = new Timeline(T0, { perEntity: 50, total: 1000, keepGoneMs: 60 * 60_000, perInView: 4, floor: 10 });
    for (let i = 0; i < 200; i++) {
      const key = `churn-${i}`;
      small.record(key, { at: at(i), stage: 'installing', evidence: 'x' }, at(i));
      small.record(key, { at: at(i), stage: 'running', evidence: 'x' }, at(i));
      small.gone(key, at(i), 'x', Date.parse(at(i)));
    }
    small.record('stays', { at: at(300), stage: 'running', evidence: 'x' }, at(300));
    expect(small.inView).toBe(1);
    expect(small.entries - small.inView).toBeLessThanOrEqual(10);
    // the latest departures are the ones kept, and the app in view keeps its history
    expect(small.get('churn-199')!.entries.map((e) => e.stage)).toEqual(['installing', 'running', 'removed']);
    expect(small.get('churn-0')).toBeUndefined();
    expect(small.get('stays')!.entries).toHaveLength(1);
  });

  it('however many apps are in view, each keeps its latest entry: the total bounds the entries beyond those', () => {
    const t = new Timeline(T0, { perEntity: 10, total: 4, keepGoneMs: 60 * 60_000 });
    const keys = Array.from({ length: 10 }, (_, i) => `app-${i}`);
    for (const key of keys) t.record(key, { at: T0, stage: 'running', evidence: 'x' }, T0);
    // ten histories in view, past the total of 4: none goes
    expect(t.entries).toBe(10);
    for (const [i, key] of keys.entries()) t.record(key, { at: at(i + 1), stage: 'upgrading', evidence: 'x' }, at(i + 1));
    for (const key of keys) expect(t.get(key)!.entries.at(-1)!.stage).toBe('upgrading');
    expect(t.entries).toBeLessThanOrEqual(4 + keys.length);
    // the quietest lost their older entry, and say from when theirs are complete
    expect(t.get('app-0')!.entries).toHaveLength(1);
    expect(t.get('app-0')!.since).toBe(at(1));
    expect(t.get('app-9')!.entries).toHaveLength(2);
  });

  it('a stuck app keeps what happened before: settled histories give up their older entries first', () => {
    const t = new Timeline(T0, { perEntity: 50, total: 10, keepGoneMs: 60 * 60_000 });
    const steps = ['fetching', 'hydrating', 'installing 5', 'installing 8', 'installing 12'];
    for (const [i, s] of steps.entries()) {
      const [stage, progress] = s.split(' ');
      t.record('stuck', { at: at(i), stage: stage!, ...(progress ? { progress } : {}), evidence: 'x' }, at(i));
    }
    // then 20 apps go from installing to running, long after the stuck one last moved
    for (let i = 0; i < 20; i++) {
      t.record(`ok-${i}`, { at: at(10 + i), stage: 'installing', evidence: 'x' }, at(10 + i));
      t.record(`ok-${i}`, { at: at(11 + i), stage: 'running', health: 'healthy', evidence: 'x' }, at(11 + i));
    }
    // one failed install is kept as long as the stuck one: neither is settled
    t.record('broken', { at: at(40), stage: 'installing', evidence: 'x' }, at(40));
    t.record('broken', { at: at(41), stage: 'failed', evidence: 'x' }, at(41));
    for (let i = 20; i < 30; i++) {
      t.record(`ok-${i}`, { at: at(50 + i), stage: 'installing', evidence: 'x' }, at(50 + i));
      t.record(`ok-${i}`, { at: at(51 + i), stage: 'running', health: 'healthy', evidence: 'x' }, at(51 + i));
    }
    expect(t.entries - t.inView).toBeLessThanOrEqual(10);
    expect(t.get('stuck')!.entries.map((e) => e.progress ?? e.stage)).toEqual(['fetching', 'hydrating', '5', '8', '12']);
    expect(t.get('broken')!.entries.map((e) => e.stage)).toEqual(['installing', 'failed']);
    expect(t.get('ok-0')!.entries.map((e) => e.stage)).toEqual(['running']);
  });

  it('a departure stays answerable for the hour on a small market whose apps come and go: its last entries are kept', () => {
    const t = new Timeline(T0, { perEntity: 50, total: 10_000, keepGoneMs: 60 * 60_000, perInView: 4, perGone: 3, floor: 10 });
    for (let i = 0; i < 10; i++) t.record(`stays-${i}`, { at: T0, stage: 'running', evidence: 'x' }, T0);
    // one app a pass (5 s) installed, run, uninstalled and gone: 720 in the hour
    for (let i = 0; i < 720; i++) {
      const key = `churn-${i}`;
      const now = new Date(Date.parse(T0) + i * 5_000).toISOString();
      for (const stage of ['installing', 'running', 'uninstalling']) t.record(key, { at: now, stage, evidence: 'x' }, now);
      t.gone(key, now, 'x', Date.parse(now));
    }
    expect(t.get('churn-0')!.entries.map((e) => e.stage)).toEqual(['running', 'uninstalling', 'removed']);
    expect(t.get('churn-719')!.entries.map((e) => e.stage)).toEqual(['installing', 'running', 'uninstalling', 'removed']);
    // memory follows the churn: three entries a departure, and each app in view keeps its own
    expect(t.entries).toBeLessThanOrEqual(10 + 4 * 10 + 3 * 720 + 1);
    // past the hour they expire as before
    t.expire(Date.parse(T0) + 61 * 60_000 + 720 * 5_000);
    expect(t.get('churn-719')).toBeUndefined();
    expect(t.entries).toBe(10);
  });

  it('with nothing in view, departures still stay for the hour: the floor is not what they are cut down to', () => {
    const t = new Timeline(T0, { perEntity: 50, total: 100_000, keepGoneMs: 60 * 60_000, perInView: 4, perGone: 3, floor: 1_000 });
    // tasks that came and went, none in view now: each pending, running, failed, then removed
    for (let i = 0; i < 2_000; i++) {
      const key = `task-${i}`;
      for (const stage of ['pending', 'running', 'failed']) t.record(key, { at: at(i), stage, evidence: 'x' }, at(i));
      t.gone(key, at(i), 'x', Date.parse(T0) + i);
    }
    expect(t.get('task-0')!.entries.map((e) => e.stage)).toEqual(['running', 'failed', 'removed']);
    expect(t.entries).toBeLessThanOrEqual(3 * 2_000 + 300);
  });

  it('stays within its total when entities come and go faster than departed histories expire', () => {
    const t = new Timeline(T0, { perEntity: 50, total: 1000, keepGoneMs: 60 * 60_000 });
    for (let pass = 0; pass < 50; pass++) {
      for (let i = 0; i < 100; i++) t.record(`p${pass}-t${i}`, { at: at(pass), stage: 'pending', evidence: 'x' }, at(pass), undefined,
        [{ at: at(pass), stage: 'created', evidence: 'x' }]);
      for (let i = 0; i < 100; i++) t.gone(`p${pass}-t${i}`, at(pass), 'x', Date.parse(at(pass)));
    }
    expect(t.entries).toBeLessThanOrEqual(1000);
    // the newest departures are still answered
    expect(t.get('p49-t99')?.gone_at).toBe(at(49));
  });
});
