import { describe, expect, it } from 'vitest';
import { normalizeAppFlow, parseEntrances } from '../../src/collect/app-flow.ts';
import { UnknownStates } from '../../src/collect/stage-table.ts';
import type { TaskState } from '../../src/model/index.ts';
import type { AppRow } from '../../src/sources/market-rows.ts';

const UPDATED = new Date('2026-02-01T10:00:00.000Z');

function row(state: string | null, over: Partial<AppRow> = {}): AppRow {
  return {
    user_id: 'alice', source_id: 'market.olares', app_id: 'wiki-id', app_name: 'wiki', manifest_type: 'app',
    app_updated_at: new Date('2026-01-01T00:00:00.000Z'), state, installed_version: state === null ? '' : '1.0.0',
    target_version: '', reason: '', message: '', progress: '', op_id: '', op_type: '',
    event_create_time: null, status_entrances: [], state_updated_at: state === null ? null : UPDATED,
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

describe('app flow: the full entity', () => {
  it('running with every entrance running', () => {
    const entrances = [{ name: 'wiki', state: 'running', statusTime: '2026-02-01T10:00:00Z', reason: '', url: 'x' }];
    const app = one(row('running', {
      progress: '', op_id: 'op-1', op_type: 'install', reason: 'ok', message: 'started',
      status_entrances: entrances, event_create_time: new Date('2026-02-01T09:59:00.000Z'),
    }));
    expect(app).toEqual({
      app_id: 'wiki-id', app_name: 'wiki', user_id: 'alice', source_id: 'market.olares',
      stage: 'running', stage_detail: 'running', version: '1.0.0', cfg_type: 'app', health: 'healthy',
      last_update: UPDATED.toISOString(),
      metadata: {
        status: {
          name: 'wiki', state: 'running', progress: '', reason: 'ok', message: 'started', opID: 'op-1',
          opType: 'install', entranceStatuses: [{ name: 'wiki', state: 'running', statusTime: '2026-02-01T10:00:00Z' }],
          createTime: '2026-02-01T09:59:00.000Z',
        },
      },
      stage_since: '2026-02-01T09:59:00.000Z',
    });
  });

  it('stage_since: the event time of the state, or the start of the task that forces the stage', () => {
    expect(one(row('running', { event_create_time: new Date('2026-02-01T09:59:00.000Z') })).stage_since).toBe('2026-02-01T09:59:00.000Z');
    expect(one(row('running', { event_create_time: null })).stage_since).toBe(UPDATED.toISOString());
  });

  it('running with an entrance down is unhealthy and stage_detail names it', () => {
    const app = one(row('running', { status_entrances: [{ name: 'web', state: 'running' }, { name: 'admin', state: 'notReady' }] }));
    expect(app.health).toBe('unhealthy');
    expect(app.stage).toBe('running');
    expect(app.stage_detail).toBe('running; entrance admin is notReady');
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
    expect(one(row('running')).last_update).toBe(UPDATED.toISOString());
    expect(one(row(null), [task('install', 'running')]).last_update).toBe('2026-01-01T00:00:00.000Z');
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

describe('parseEntrances', () => {
  it('keeps valid entrances and counts the rest', () => {
    expect(parseEntrances([{ name: 'a', state: 'running', reason: 'r' }, { name: 1, state: 'x' }, null, 'str'])).toEqual({
      entrances: [{ name: 'a', state: 'running', reason: 'r' }], bad: 3,
    });
  });

  it('accepts JSON text, treats null as none and anything else as bad', () => {
    expect(parseEntrances('[{"name":"a","state":"stopped"}]').entrances).toEqual([{ name: 'a', state: 'stopped' }]);
    expect(parseEntrances(null)).toEqual({ entrances: [], bad: 0 });
    expect(parseEntrances({ name: 'a' })).toEqual({ entrances: [], bad: 1 });
    expect(parseEntrances('{oops')).toEqual({ entrances: [], bad: 1 });
  });

  it('bad entrances are counted by the normalizer and do not drop the app', () => {
    const { items, counters } = normalizeAppFlow([row('running', { status_entrances: [{ state: 'running' }] })], []);
    expect(items[0].health).toBe('healthy');
    expect(counters.bad_entrances).toBe(1);
  });
});
