import { describe, expect, it } from 'vitest';
import { ActiveTasks } from '../../src/collect/app-flow.ts';
import { AppFlowMemory } from '../../src/collect/app-flow-memory.ts';
import type { ListedAppRow, TaskRow } from '../../src/sources/market-rows.ts';

const noTasks = new ActiveTasks([]);

function row(id: string, app_name: string, row_version = '100:101', state = 'running'): ListedAppRow {
  return {
    id, row_version, user_id: 'alice', source_id: 'market.olares', app_id: app_name, app_name, app_raw_name: app_name,
    manifest_type: 'app', metadata: {}, entrances: [], app_updated_at: new Date('2026-01-01T00:00:00.000Z'), state,
    installed_version: '1.0.0', target_version: '', is_sys_app: false, reason: '', message: '', progress: '', op_id: '',
    op_type: '', event_create_time: null, shared_entrances: [], status_entrances: [], state_updated_at: null,
  };
}

function task(app_name: string, status = 2): TaskRow {
  return {
    active: true, task_id: `t-${app_name}`, type: 4, status, app_name, user_account: 'alice', op_id: '', metadata: null,
    result: '', error_msg: '', created_at: new Date('2026-02-01T09:00:00.000Z'), started_at: null, completed_at: null,
  };
}

const listing = (...rows: ListedAppRow[]) => rows.map(({ id, row_version }) => ({ id, row_version }));

describe('AppFlowMemory', () => {
  it('a plan that is never settled (its read failed) changes nothing: the next pass reads the same rows', () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    m.settle(m.plan(rows, [], true), rows, noTasks);
    m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false);
    expect(m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false).ids).toEqual(['1']);
  });

  it('a row planned but gone by the second read is neither sent nor kept, and is read again when listed', () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    m.settle(m.plan(rows, [], true), rows, noTasks);
    const plan = m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false);
    expect(plan.ids).toEqual(['1']);
    const pass = m.settle(plan, [], noTasks);
    expect(pass.items).toEqual([]);
    expect(pass.keep).toEqual(['alice:market.olares:blog']);
    expect(pass.counters).toMatchObject({ rows: 2, changed_rows: 0, apps: 1 });
    expect(m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false).ids).toEqual(['1']);
  });

  it('a row whose user and app gain or lose an active task is read again; a task of another app is not', () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    m.settle(m.plan(rows, [], true), rows, noTasks);
    expect(m.plan(listing(...rows), [task('wiki'), task('chat')], false).ids).toEqual(['1']);
    const withTask = m.plan(listing(...rows), [task('wiki')], false);
    m.settle(withTask, [rows[0]], noTasks);
    expect(m.plan(listing(...rows), [task('wiki')], false).ids).toEqual([]);
    expect(m.plan(listing(...rows), [task('wiki', 1)], false).ids).toEqual(['1']);
    expect(m.plan(listing(...rows), [], false).ids).toEqual(['1']);
  });

  it('forgets the rows of the app keys the store asked for', () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    m.settle(m.plan(rows, [], true), rows, noTasks);
    m.forget(['alice:market.olares:blog']);
    expect(m.plan(listing(...rows), [], false).ids).toEqual(['2']);
  });
});
