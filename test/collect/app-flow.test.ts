import { describe, expect, it } from 'vitest';
import { normalizeAppFlow } from '../../src/collect/app-flow.ts';
import { mergeEntrances, parseRuntimeEntrances, pickTitle } from '../../src/collect/app-status.ts';
import { UnknownStates } from '../../src/collect/stage-table.ts';
import type { TaskState } from '../../src/model/index.ts';
import type { AppRow } from '../../src/sources/market-rows.ts';

const UPDATED = new Date('2026-02-01T10:00:00.000Z');
/** UPDATED as Go writes a database time: no fraction of zeros */
const UPDATED_TEXT = '2026-02-01T10:00:00Z';

function row(state: string | null, over: Partial<AppRow> = {}): AppRow {
  return {
    user_id: 'alice', source_id: 'market.olares', app_id: 'wiki-id', app_name: 'wiki', app_raw_name: 'wiki',
    manifest_type: 'app', metadata: {}, entrances: [],
    app_updated_at: new Date('2026-01-01T00:00:00.000Z'), state, installed_version: state === null ? '' : '1.0.0',
    target_version: '', is_sys_app: false, reason: '', message: '', progress: '', op_id: '', op_type: '',
    event_create_time: null, shared_entrances: [], status_entrances: [], state_updated_at: state === null ? null : UPDATED,
    ...over,
  };
}

function task(type: TaskState['type'], status: TaskState['status'], over: Partial<TaskState> = {}): TaskState {
  return { task_id: `${type}-${status}`, type, status, app_name: 'wiki', user_id: 'alice', created_at: '2026-02-01T09:00:00.000Z', ...over };
}

const one = (r: AppRow, tasks: TaskState[] = []) => normalizeAppFlow([r], tasks).items[0];

describe('app flow: which rows are installs', () => {
  it('a row without a state row, or with an empty state, and no active task is not an install', () => {
    const { items, counters } = normalizeAppFlow([row(null), row(''), row('  ')], []);
    expect(items).toEqual([]);
    expect(counters).toMatchObject({ rows: 3, apps: 0, not_installed: 3 });
  });

  it('an empty state with an active task is an install in progress', () => {
    expect(one(row(''), [task('install', 'pending')])).toMatchObject({ stage: 'installing', health: 'unknown' });
    expect(one(row(null), [task('cancel', 'running')])).toMatchObject({ stage: 'fetching', health: 'unknown' });
  });

  it.each(['uninstalled', 'pendingCanceled', 'downloadingCanceled', 'installingCanceled', 'initializingCanceled'])(
    '%s leaves the view, unless a task for the app is active', (state) => {
      expect(normalizeAppFlow([row(state)], []).items).toEqual([]);
      expect(normalizeAppFlow([row(state)], [task('install', 'completed')]).items).toEqual([]);
      expect(normalizeAppFlow([row(state)], [task('cancel', 'running')]).items).toHaveLength(1);
    });

  it('a task of another user or another app does not keep a row in view', () => {
    const tasks = [task('install', 'running', { user_id: 'bob' }), task('install', 'running', { app_name: 'blog' })];
    expect(normalizeAppFlow([row('uninstalled')], tasks).items).toEqual([]);
  });
});

describe('app flow: database times a Go client could not decode', () => {
  it.each([
    ['after the year 9999', new Date('+010000-01-01T00:00:00.000Z')],
    ['before Go\'s zero time', new Date('-000001-06-01T00:00:00.000Z')],
  ])('%s: last_update is Go\'s zero time and the event time is left out, never a +/-YYYYYY year', (_when, at) => {
    const app = one(row('running', { state_updated_at: at, event_create_time: at }))!;
    expect(app.last_update).toBe('0001-01-01T00:00:00Z');
    const status = (app.metadata as { status: Record<string, unknown> }).status;
    expect(status.createTime).toBeUndefined();
    expect(status.updateTime).toBe('');
    expect(JSON.stringify(app)).not.toMatch(/"[+-]\d{6}-/);
  });
});

describe('app flow: the full entity', () => {
  it('running with every entrance running', () => {
    const entrances = [{ name: 'wiki', state: 'running', statusTime: '2026-02-01T10:00:00Z', reason: '', url: 'x' }];
    const app = one(row('running', {
      progress: '', op_id: 'op-1', op_type: 'install', reason: 'ok', message: 'started',
      status_entrances: entrances, event_create_time: new Date('2026-02-01T09:59:00.000Z'),
    }));
    expect(app).toEqual({
      app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market.olares',
      stage: 'running', stage_detail: 'running', version: '1.0.0', cfg_type: 'app', health: 'healthy',
      last_update: UPDATED_TEXT,
      metadata: {
        status: {
          name: 'wiki', rawAppName: 'wiki', appid: 'wiki-id', isSysApp: false, owner: 'alice', source: 'market.olares',
          title: '', state: 'running', updateTime: '2026-02-01T09:59:00Z', statusTime: '2026-02-01T09:59:00Z',
          lastTransitionTime: '2026-02-01T09:59:00Z', reason: 'ok', message: 'started', opID: 'op-1', opType: 'install',
          entranceStatuses: [{ name: 'wiki', port: 0, invisible: false, state: 'running', statusTime: '2026-02-01T10:00:00Z', url: 'x' }],
          createTime: '2026-02-01T09:59:00.000Z',
        },
      },
      stage_since: '2026-02-01T09:59:00.000Z',
    });
  });

  it('stage_since: the event time of the state, or the start of the task that forces the stage', () => {
    expect(one(row('running', { event_create_time: new Date('2026-02-01T09:59:00.000Z') })).stage_since).toBe('2026-02-01T09:59:00.000Z');
    expect(one(row('running', { event_create_time: null })).stage_since).toBe(UPDATED_TEXT);
  });

  it('running with an entrance down is unhealthy and stage_detail names it', () => {
    const app = one(row('running', { status_entrances: [{ name: 'web', state: 'running' }, { name: 'admin', state: 'notReady' }] }));
    expect(app.health).toBe('unhealthy');
    expect(app.stage).toBe('running');
    expect(app.stage_detail).toBe('running; entrance admin is notReady');
  });

  it('stage_detail names a down entrance as metadata.status shows it: the manifest entry at its place', () => {
    const app = one(row('running', {
      entrances: [{ name: 'web', port: 80 }, { name: 'admin', port: 8080 }],
      // the runtime list names its entries otherwise (and holds a malformed one first): merged by position
      status_entrances: [{ name: 'x' }, { name: 'main', state: 'running' }, { name: 'console', state: 'notReady' }],
    }));
    expect(app.health).toBe('unhealthy');
    const shown = (app.metadata!.status as { entranceStatuses: { name: string; state?: string }[] }).entranceStatuses;
    expect(shown.map((e) => [e.name, e.state])).toEqual([['web', undefined], ['admin', 'running']]);
    expect(app.stage_detail).toBe('running; entrance console is notReady');
    const named = one(row('running', {
      entrances: [{ name: 'web', port: 80 }, { name: 'admin', port: 8080 }],
      status_entrances: [{ name: 'main', state: 'running' }, { name: 'console', state: 'notReady' }],
    }));
    expect(named.stage_detail).toBe('running; entrance admin is notReady');
  });

  it('stage_detail carries the raw state and progress', () => {
    expect(one(row('downloading', { progress: '42.5' })).stage_detail).toBe('downloading (progress 42.5)');
  });

  it('*Failed is failed/unhealthy; stopped is stopped/unhealthy', () => {
    expect(one(row('installFailed'))).toMatchObject({ stage: 'failed', health: 'unhealthy' });
    expect(one(row('stopped'))).toMatchObject({ stage: 'stopped', health: 'unhealthy' });
  });

  it('an unknown state is stage unknown, counted, and reported once per distinct value', () => {
    const seen = new UnknownStates();
    const first = normalizeAppFlow([row('hibernating'), row('hibernating', { app_name: 'blog' })], [], seen);
    expect(first.items.map((a) => a.stage)).toEqual(['unknown', 'unknown']);
    expect(first.counters.unknown_state).toBe(2);
    expect(first.newUnknownStates).toEqual(['hibernating']);
    const second = normalizeAppFlow([row('hibernating')], [], seen);
    expect(second.newUnknownStates).toEqual([]);
    expect(second.counters.unknown_state).toBe(1);
  });

  it('last_update is the state row\'s updated_at (the app row\'s when there is no state row)', () => {
    expect(one(row('running')).last_update).toBe(UPDATED_TEXT);
    expect(one(row(null), [task('install', 'running')]).last_update).toBe('2026-01-01T00:00:00Z');
  });

  it('empty version and cfg_type are omitted', () => {
    const app = one(row('running', { installed_version: '', manifest_type: '' }));
    expect(app).not.toHaveProperty('version');
    expect(app).not.toHaveProperty('cfg_type');
  });
});

describe('app flow: task override (tasks match by user and app name, across sources)', () => {
  it.each([
    ['install', 'installing'], ['clone', 'installing'], ['upgrade', 'upgrading'], ['uninstall', 'uninstalling'],
  ] as const)('a running %s task forces %s with health unknown', (type, stage) => {
    for (const state of ['running', 'stopped', 'installFailed', 'downloading']) {
      expect(one(row(state), [task(type, 'running')])).toMatchObject({ stage, health: 'unknown' });
    }
  });

  it.each([
    ['install', 'installing'], ['clone', 'installing'], ['upgrade', 'upgrading'], ['uninstall', 'uninstalling'],
  ] as const)('a pending %s task forces %s only while the app looks fetching or running', (type, stage) => {
    expect(one(row('running'), [task(type, 'pending')])).toMatchObject({ stage, health: 'unknown' });
    expect(one(row('downloading'), [task(type, 'pending')])).toMatchObject({ stage, health: 'unknown' });
    expect(one(row('stopped'), [task(type, 'pending')])).toMatchObject({ stage: 'stopped', health: 'unhealthy' });
    expect(one(row('installFailed'), [task(type, 'pending')])).toMatchObject({ stage: 'failed' });
  });

  it('cancel tasks and finished tasks never override', () => {
    expect(one(row('running'), [task('cancel', 'running'), task('install', 'completed'), task('upgrade', 'failed')]))
      .toMatchObject({ stage: 'running', health: 'healthy' });
  });

  it('the running task wins over a pending one; the newest running task wins among several', () => {
    const tasks = [
      task('uninstall', 'pending'),
      task('install', 'running', { task_id: 'old', created_at: '2026-02-01T08:00:00.000Z' }),
      task('upgrade', 'running', { task_id: 'new', created_at: '2026-02-01T09:30:00.000Z' }),
    ];
    const app = one(row('running'), tasks);
    expect(app.stage).toBe('upgrading');
    expect(app.stage_detail).toBe('running; upgrade task new running');
    // named apart too: the store's timeline gives the task as the evidence of the stage
    expect(app.stage_task).toBe('new');
  });

  it('names no task when none forces the stage', () => {
    expect(one(row('running'))).not.toHaveProperty('stage_task');
    expect(one(row('stopped'), [task('install', 'pending')])).not.toHaveProperty('stage_task');
  });

  it('the same task overrides the app in every source', () => {
    const { items } = normalizeAppFlow(
      [row('running'), row('running', { source_id: 'local' })], [task('uninstall', 'running')],
    );
    expect(items.map((a) => [a.source_id, a.stage])).toEqual([['market.olares', 'uninstalling'], ['local', 'uninstalling']]);
  });

  it('version is target_version while installing or upgrading (after the override), else installed_version', () => {
    const r = (state: string) => row(state, { installed_version: '1.0.0', target_version: '2.0.0' });
    expect(one(r('upgrading')).version).toBe('2.0.0');
    expect(one(r('installing')).version).toBe('2.0.0');
    expect(one(r('running')).version).toBe('1.0.0');
    expect(one(r('running'), [task('upgrade', 'running')]).version).toBe('2.0.0');
    expect(one(r('upgradeFailed')).version).toBe('1.0.0');
    expect(one(row('upgrading', { installed_version: '1.0.0', target_version: '' })).version).toBe('1.0.0');
  });
});

describe('parseRuntimeEntrances', () => {
  it('keeps every item in its place (the merge is by position) and the valid ones for health; counts the rest', () => {
    const r = parseRuntimeEntrances([{ name: 'a', state: 'running', reason: 'r' }, { name: 1, state: 'x' }, null, 'str']);
    expect(r.valid).toEqual([{ name: 'a', state: 'running', reason: 'r', at: 0 }]);
    expect(r.positional).toHaveLength(4);
    expect(r.positional[0]).toEqual({ name: 'a', port: 0, invisible: false, state: 'running', reason: 'r' });
    expect(r.bad).toBe(3);
  });

  it('accepts JSON text, treats null as none and anything else as bad', () => {
    expect(parseRuntimeEntrances('[{"name":"a","state":"stopped"}]').valid).toEqual([{ name: 'a', state: 'stopped', at: 0 }]);
    expect(parseRuntimeEntrances(null)).toEqual({ positional: [], valid: [], bad: 0 });
    expect(parseRuntimeEntrances({ name: 'a' }).bad).toBe(1);
    expect(parseRuntimeEntrances('{oops').bad).toBe(1);
  });

  it("an entrance's statusTime is kept as the row has it (a string in the market's entrance); a non-string is left out", () => {
    const r = parseRuntimeEntrances([{ name: 'a', state: 'running', statusTime: '2026-12-01 10:00:00' }, { name: 'b', state: 'running', statusTime: 5 }]);
    expect(r.positional.map((e) => e.statusTime)).toEqual(['2026-12-01 10:00:00', undefined]);
    expect(r.valid.map((e) => e.name)).toEqual(['a', 'b']);
    expect(r.bad).toBe(0);
  });

  it('a manifest item that is no entrance keeps its place: the entrances after it meet their own runtime entries', () => {
    const s = one(row('running', {
      entrances: [7, { name: 'b', port: 81 }],
      status_entrances: [{ name: 'x', state: 'running' }, { name: 'y', state: 'stopped' }],
    })).metadata!.status as { entranceStatuses: unknown[] };
    expect(s.entranceStatuses).toEqual([
      { name: '', port: 0, invisible: false, state: 'running' },
      { name: 'b', port: 81, invisible: false, state: 'stopped' },
    ]);
    const { counters } = normalizeAppFlow([row('running', { entrances: [7, { name: 'b' }] })], []);
    expect(counters.bad_entrances).toBe(1);
  });

  it("metadata.status.state is uas.state as the row has it; the stage comes from it trimmed", () => {
    const app = one(row(' running '));
    expect((app.metadata!.status as { state: string }).state).toBe(' running ');
    expect(app.stage).toBe('running');
  });

  it('a hostile state, opType or opID of a megabyte is clipped at the free-text bound like every other text', () => {
    const mb = 'x'.repeat(1 << 20);
    const app = one(row(`installing${mb}`, { op_type: mb, op_id: mb }));
    const s = app.metadata!.status as { state: string; opType: string; opID: string };
    for (const text of [s.state, s.opType, s.opID]) expect(text.length).toBeLessThanOrEqual(8192);
    expect(s.state.startsWith('installing')).toBe(true);
    expect(JSON.stringify(app).length).toBeLessThan(64 * 1024);
  });

  it('an entrance list whose first entrance alone is past the 16 KiB bound is sent as null, as Go sends no empty list', () => {
    // each text is clipped on its own; escaped for JSON (\u0001 takes 6 bytes) they add up past the bound
    const hostile = '\u0001'.repeat(4096);
    const huge = { name: hostile, state: 'running', reason: hostile, url: hostile, title: hostile, host: hostile, icon: hostile };
    const s = one(row('running', { status_entrances: [huge] })).metadata!.status as { entranceStatuses: unknown };
    expect(s.entranceStatuses).toBeNull();
  });

  it('bad entrances are counted by the normalizer and do not drop the app', () => {
    const { items, counters } = normalizeAppFlow([row('running', { status_entrances: [{ state: 'running' }] })], []);
    expect(items[0].health).toBe('healthy');
    expect(counters.bad_entrances).toBe(1);
  });
});

describe('metadata.status: built as the market builds it (docs/go-wire.md)', () => {
  const status = (over: Partial<AppRow>) => one(row('running', over)).metadata!.status as Record<string, unknown>;

  it('title: a string as is; a locale map -> en-US, else any string in it; else ""', () => {
    expect(status({ metadata: { title: 'Wiki' } }).title).toBe('Wiki');
    expect(status({ metadata: { title: { 'zh-CN': '维基', 'en-US': 'Wiki' } } }).title).toBe('Wiki');
    expect(status({ metadata: { title: { 'zh-CN': '维基', de: 7 } } }).title).toBe('维基');
    expect(status({ metadata: { title: 42 } }).title).toBe('');
    expect(status({ metadata: {} }).title).toBe('');
    expect(pickTitle({ b: 'B', a: 'A' })).toBe('A');
  });

  it('icon only when it is a string', () => {
    expect(status({ metadata: { icon: 'https://x/icon.png' } }).icon).toBe('https://x/icon.png');
    expect(status({ metadata: { icon: { url: 'x' } } })).not.toHaveProperty('icon');
  });

  it('isSysApp and rawAppName always; appid, owner, source; empty progress/opType/message/reason omitted', () => {
    const s = status({ is_sys_app: true, app_raw_name: '' });
    expect(s).toMatchObject({ isSysApp: true, rawAppName: '', appid: 'wiki-id', owner: 'alice', source: 'market.olares' });
    for (const k of ['progress', 'opType', 'message', 'reason', 'sharedEntrances']) expect(s).not.toHaveProperty(k);
  });

  it('the three times are event_create_time in UTC to the second, or "" when there is none', () => {
    const s = status({ event_create_time: new Date('2026-02-01T11:59:00.987+02:00') });
    expect([s.updateTime, s.statusTime, s.lastTransitionTime]).toEqual(['2026-02-01T09:59:00Z', '2026-02-01T09:59:00Z', '2026-02-01T09:59:00Z']);
    const none = status({ event_create_time: null });
    expect([none.updateTime, none.statusTime, none.lastTransitionTime]).toEqual(['', '', '']);
  });

  it('entranceStatuses: null when there is nothing; the runtime list as is without manifest entrances', () => {
    expect(status({}).entranceStatuses).toBeNull();
    expect(status({ status_entrances: [{ name: 'web', state: 'running' }] }).entranceStatuses)
      .toEqual([{ name: 'web', port: 0, invisible: false, state: 'running' }]);
  });

  it('entranceStatuses: the manifest entries in order, each taking state/statusTime/reason of runtime entry i BY POSITION', () => {
    const manifest = [
      { name: 'web', host: 'wiki', port: 80, title: 'Wiki', icon: 'i.png', authLevel: 'private', url: 'wiki.alice.example', openMethod: 'window', invisible: false },
      { name: 'admin', port: 8080, invisible: true, windowPushState: true },
      { name: 'api', port: 9000 },
    ];
    const runtime = [
      { name: 'admin', state: 'running', statusTime: '2026-02-01T10:00:00Z' },
      { name: 'web', state: 'notReady', reason: 'probe failed' },
    ];
    expect(status({ entrances: manifest, status_entrances: runtime }).entranceStatuses).toEqual([
      { ...manifest[0], state: 'running', statusTime: '2026-02-01T10:00:00Z' },
      { name: 'admin', port: 8080, invisible: true, windowPushState: true, state: 'notReady', reason: 'probe failed' },
      { name: 'api', port: 9000, invisible: false },
    ]);
    // runtime entries past the manifest's length are dropped
    expect(status({ entrances: [manifest[1]], status_entrances: runtime }).entranceStatuses)
      .toEqual([{ name: 'admin', port: 8080, invisible: true, windowPushState: true, state: 'running', statusTime: '2026-02-01T10:00:00Z' }]);
  });

  it('an entrance field of the wrong type is left out; a fractional port is 0', () => {
    expect(mergeEntrances([], parseRuntimeEntrances([{ name: 'a', state: 'x', port: 1.5, url: 7, skip: 'yes' }]).positional))
      .toEqual([{ name: 'a', port: 0, invisible: false, state: 'x' }]);
  });

  it('sharedEntrances from shared_entrances, in the entrance shape', () => {
    expect(status({ shared_entrances: [{ name: 'ollama', host: 'ollama.shared', port: 11434 }] }).sharedEntrances)
      .toEqual([{ name: 'ollama', host: 'ollama.shared', port: 11434, invisible: false }]);
  });

  it('app_id is the app name (as Go); the catalog id stays in metadata.status.appid', () => {
    const a = one(row('running', { app_id: 'catalog-7f3a' }));
    expect(a.app_id).toBe('wiki');
    expect((a.metadata!.status as { appid: string }).appid).toBe('catalog-7f3a');
  });
});

describe('metadata.status stays bounded whatever the JSONB holds', () => {
  it('a huge manifest keeps its leading entrances within 16 KB, the rest counted; long strings are cut', () => {
    const huge = Array.from({ length: 500 }, (_, i) => ({ name: `e${i}`, port: 80, url: 'u'.repeat(5000), title: 't'.repeat(300) }));
    const { items, counters } = normalizeAppFlow([row('running', { entrances: huge, shared_entrances: huge })], []);
    const st = items[0].metadata!.status as { entranceStatuses: { url: string }[]; sharedEntrances: unknown[] };
    expect(JSON.stringify(st.entranceStatuses).length).toBeLessThanOrEqual(16 * 1024);
    expect(st.entranceStatuses[0].url).toHaveLength(1024);
    expect(JSON.stringify(st.sharedEntrances).length).toBeLessThanOrEqual(16 * 1024);
    // 500 - 64 past the item bound, and the ones past the byte bound
    expect(counters.bad_entrances).toBeGreaterThan(2 * (500 - 64));
  });
});
