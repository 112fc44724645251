import { describe, expect, it } from 'vitest';
import { createCollector as createAppFlow } from '../../src/collect/collectors/app-flow.ts';
import { createCollector as createComponents } from '../../src/collect/collectors/components.ts';
import { createCollector as createTasks } from '../../src/collect/collectors/tasks.ts';
import { ACTIVE_TASK_CAP } from '../../src/sources/market-queries.ts';
import type { Collector, CollectContext, CollectResult } from '../../src/collect/collector.ts';
import type { AppFlowState, ComponentStatus, TaskState } from '../../src/model/index.ts';
import type { SourceName, StoreStep } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { insertCatalog, insertSources, insertTasks, insertUserApps } from '../helpers/market-fixtures.ts';
import { expectGoWire } from '../helpers/go-wire.ts';
import { useTestDb } from '../helpers/pg.ts';
import { outcome, pass as passOf } from '../helpers/store-fixtures.ts';
import { goText } from '../helpers/go-text.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
/** a time `minutes` before NOW, as written to the database and as Go writes it back */
const ago = (minutes: number): string => goText(new Date(NOW.getTime() - minutes * 60_000));
const ctx = (signal: AbortSignal = new AbortController().signal): CollectContext => ({ signal, now: () => NOW, full: false });
const DOWN_URL = 'postgres://market:T0p-Secret@127.0.0.1:1/market';

const env = useTestDb();
const open = env.opened;
async function collector(make: (o: any) => Collector | Promise<Collector>, options: object): Promise<Collector> {
  const c = await make({ databaseUrl: env.db.url, ...options });
  open.push(c);
  return c;
}


function only<T>(r: CollectResult, op: StoreStep['op']): T[] {
  expect(r.steps).toHaveLength(1);
  expect(r.steps[0].op).toBe(op);
  return (r.steps[0] as unknown as { items: T[] }).items;
}

let seq = 0;
/** The store as the runtime would feed it: a run that throws posts nothing. */
async function pass(store: RuntimeStore, source: SourceName, c: Collector): Promise<'ok' | 'failed'> {
  try {
    const r = await c.collect(ctx());
    store.apply(passOf(source, r.steps, { finished_at: NOW.toISOString() }, ++seq));
    return 'ok';
  } catch (err) {
    store.recordOutcome(source, outcome({ ok: false, error: (err as Error).message, finished_at: NOW.toISOString() }));
    return 'failed';
  }
}

describe('tasks collector', () => {
  it('maps every type and status, estimates progress, drops bad metadata only', async () => {
    await insertTasks(env.db.sql, [
      { task_id: 'a-install-pending', type: 1, status: 1, app_name: 'wiki', user_account: 'alice', created_at: ago(10) },
      { task_id: 'b-uninstall-running', type: 2, status: 2, app_name: 'blog', user_account: 'bob', op_id: 'op-2',
        created_at: ago(5), started_at: ago(2.5), metadata: '{"source":"market.olares"}' },
      { task_id: 'c-cancel-completed', type: 3, status: 3, app_name: 'wiki', created_at: ago(60), started_at: ago(59),
        completed_at: ago(58), result: 'canceled install' },
      { task_id: 'd-upgrade-failed', type: 4, status: 4, app_name: 'chat', user_account: 'alice', created_at: ago(40),
        started_at: ago(39), completed_at: ago(38), error_msg: 'image pull failed', metadata: 'not json at all' },
      { task_id: 'e-clone-canceled', type: 5, status: 5, app_name: 'chat', created_at: ago(30), completed_at: ago(29) },
      { task_id: 'f-unknown', type: 42, status: 9, app_name: 'odd', created_at: ago(20) },
    ]);
    const r = await (await collector(createTasks, {})).collect(ctx());
    const items = only<TaskState>(r, 'replace').sort((x, y) => x.task_id.localeCompare(y.task_id));
    expect(r.steps[0]).toMatchObject({ domain: 'tasks' });
    expect(items).toEqual([
      { task_id: 'a-install-pending', type: 'install', status: 'pending', app_name: 'wiki', user_id: 'alice',
        created_at: ago(10) },
      { task_id: 'b-uninstall-running', type: 'uninstall', status: 'running', app_name: 'blog', user_id: 'bob',
        op_id: 'op-2', progress: 50, created_at: ago(5), started_at: ago(2.5), metadata: { source: 'market.olares' } },
      { task_id: 'c-cancel-completed', type: 'cancel', status: 'completed', app_name: 'wiki', progress: 100,
        created_at: ago(60), started_at: ago(59), completed_at: ago(58), result: 'canceled install' },
      { task_id: 'd-upgrade-failed', type: 'upgrade', status: 'failed', app_name: 'chat', user_id: 'alice',
        created_at: ago(40), started_at: ago(39), completed_at: ago(38), error_msg: 'image pull failed' },
      { task_id: 'e-clone-canceled', type: 'clone', status: 'canceled', app_name: 'chat',
        created_at: ago(30), completed_at: ago(29) },
      { task_id: 'f-unknown', type: 'unknown', status: 'unknown', app_name: 'odd', created_at: ago(20) },
    ]);
    expect(r.counters).toEqual({
      rows: 6, unknown_type: 1, unknown_status: 1, bad_metadata: 1, dropped: 0, tasks: 6, active_capped: 0,
    });
  });

  it('Go\'s zero time in task_records is Go\'s zero time (created_at) or left out (started_at, completed_at), not 2001', async () => {
    const zero = '0001-01-01 00:00:00+00';
    await insertTasks(env.db.sql, [
      { task_id: 'z1', type: 1, status: 3, app_name: 'wiki', created_at: zero, started_at: zero, completed_at: zero },
      { task_id: 'z2', type: 1, status: 2, app_name: 'wiki', created_at: '0049-03-01 12:00:00+00', started_at: zero },
    ]);
    const byId = new Map(only<TaskState>(await (await collector(createTasks, {})).collect(ctx()), 'replace').map((t) => [t.task_id, t]));
    expect(byId.get('z1')).toMatchObject({ created_at: '0001-01-01T00:00:00Z', status: 'completed' });
    expect(byId.get('z1')).not.toHaveProperty('started_at');
    expect(byId.get('z1')).not.toHaveProperty('completed_at');
    // a running task with no start time: no estimate from the year 1
    expect(byId.get('z2')).toMatchObject({ created_at: '0049-03-01T12:00:00Z', status: 'running' });
    expect(byId.get('z2')).not.toHaveProperty('progress');
  });

  it('writes task times to the microsecond PostgreSQL keeps, as Go does (trailing zeros trimmed)', async () => {
    await insertTasks(env.db.sql, [{
      task_id: 'us', type: 1, status: 3, app_name: 'wiki', created_at: '2026-03-01 11:50:00.123456+00',
      started_at: '2026-03-01 11:55:00.5+00', completed_at: '2026-03-01 13:58:00.000010+02',
    }]);
    const [t] = only<TaskState>(await (await collector(createTasks, {})).collect(ctx()), 'replace');
    expect(t).toMatchObject({
      created_at: '2026-03-01T11:50:00.123456Z', started_at: '2026-03-01T11:55:00.5Z', completed_at: '2026-03-01T11:58:00.00001Z',
    });
  });

  it('keeps every active task plus only the N most recent others, by COALESCE(completed_at, started_at, created_at)', async () => {
    await insertTasks(env.db.sql, [
      { task_id: 'active-old', type: 1, status: 1, app_name: 'a', created_at: ago(500) },
      { task_id: 'active-running', type: 1, status: 2, app_name: 'b', created_at: ago(400), started_at: ago(400) },
      { task_id: 'done-1', type: 1, status: 3, app_name: 'c', created_at: ago(100), completed_at: ago(1) },
      // no completed_at: its started_at counts, and it is recent
      { task_id: 'failed-2', type: 1, status: 4, app_name: 'd', created_at: ago(100), started_at: ago(2) },
      // only created_at
      { task_id: 'canceled-3', type: 1, status: 5, app_name: 'e', created_at: ago(3) },
      { task_id: 'done-old', type: 1, status: 3, app_name: 'f', created_at: ago(10), completed_at: ago(9) },
      { task_id: 'done-older', type: 1, status: 3, app_name: 'g', created_at: ago(2), started_at: ago(2), completed_at: ago(20) },
    ]);
    const r = await (await collector(createTasks, { recentTaskLimit: 3 })).collect(ctx());
    expect(only<TaskState>(r, 'replace').map((t) => t.task_id).sort()).toEqual([
      'active-old', 'active-running', 'canceled-3', 'done-1', 'failed-2',
    ]);
  });

  it('a task gone from the table leaves the view; a failed query removes nothing', async () => {
    await insertTasks(env.db.sql, [
      { task_id: 'stays', type: 1, status: 3, app_name: 'a', created_at: ago(3), completed_at: ago(2) },
      { task_id: 'goes', type: 2, status: 2, app_name: 'b', created_at: ago(3), started_at: ago(1) },
    ]);
    const store = new RuntimeStore(() => NOW);
    const c = await collector(createTasks, {});
    expect(await pass(store, 'tasks', c)).toBe('ok');
    expect(store.task('goes')).not.toBeNull();
    await env.db.sql`DELETE FROM task_records WHERE task_id = 'goes'`;
    expect(await pass(store, 'tasks', c)).toBe('ok');
    expect(store.task('goes')).toBeNull();
    expect(store.task('stays')).not.toBeNull();

    const down = await make(createTasks);
    expect(await pass(store, 'tasks', down)).toBe('failed');
    expect(store.task('stays')).not.toBeNull();
  });

  it('sends only the tasks that moved, keeping the rest; a store that may lack them gets them again', async () => {
    await insertTasks(env.db.sql, [
      { task_id: 'still', type: 1, status: 3, app_name: 'a', created_at: ago(3), completed_at: ago(2) },
      { task_id: 'moves', type: 2, status: 1, app_name: 'b', created_at: ago(3) },
    ]);
    const c = await collector(createTasks, {});
    const sent = (r: CollectResult) => {
      const step = r.steps[0] as Extract<StoreStep, { op: 'replace' }>;
      return { items: step.items.map((t) => (t as TaskState).task_id).sort(), keep: [...(step.keep ?? [])].sort() };
    };
    expect(sent(await c.collect(ctx()))).toEqual({ items: ['moves', 'still'], keep: [] });
    expect(sent(await c.collect(ctx()))).toEqual({ items: [], keep: ['moves', 'still'] });
    await env.db.sql`UPDATE task_records SET status = 4, completed_at = now() WHERE task_id = 'moves'`;
    expect(sent(await c.collect(ctx()))).toEqual({ items: ['moves'], keep: ['still'] });
    expect(sent(await c.collect({ ...ctx(), full: true }))).toEqual({ items: ['moves', 'still'], keep: [] });
    expect(sent(await c.collect({ ...ctx(), reread: ['still'] }))).toEqual({ items: ['still'], keep: ['moves'] });

    // through a store: the kept task stands, the moved one changes
    const store = new RuntimeStore(() => NOW);
    const d = await collector(createTasks, {});
    expect(await pass(store, 'tasks', d)).toBe('ok');
    await env.db.sql`UPDATE task_records SET status = 3 WHERE task_id = 'moves'`;
    expect(await pass(store, 'tasks', d)).toBe('ok');
    expect(JSON.parse(store.task('moves')!)).toMatchObject({ status: 'completed' });
    expect(JSON.parse(store.task('still')!)).toMatchObject({ status: 'completed', app_name: 'a' });
  });

  it(`a backlog past ${ACTIVE_TASK_CAP} pending tasks shows the oldest ${ACTIVE_TASK_CAP}, and says so`, async () => {
    await env.db.sql`INSERT INTO task_records (task_id, type, status, app_name, created_at)
      SELECT 'p' || lpad(i::text, 6, '0'), 1, 1, 'a', now() - interval '1 second' * i
      FROM generate_series(1, ${ACTIVE_TASK_CAP + 5}) AS i`;
    const r = await (await collector(createTasks, {})).collect(ctx());
    const items = only<TaskState>(r, 'replace');
    expect(items).toHaveLength(ACTIVE_TASK_CAP);
    // the oldest: p010005 (created first) is in, p000001 … p000005 (the newest) are not
    expect(items.some((t) => t.task_id === 'p010005')).toBe(true);
    expect(items.some((t) => t.task_id === 'p000001')).toBe(false);
    expect(r.counters).toMatchObject({ active_capped: 1 });
    expect(r.warning).toBe(`more than ${ACTIVE_TASK_CAP} tasks pending or running: the oldest ${ACTIVE_TASK_CAP} are shown`);
  });

  it('finished tasks with a time that is not finite (\'infinity\') cannot push the real recent ones out', async () => {
    await insertTasks(env.db.sql, [
      { task_id: 'real-done', type: 1, status: 3, app_name: 'a', created_at: ago(5), completed_at: ago(4) },
      { task_id: 'real-failed', type: 1, status: 4, app_name: 'b', created_at: ago(5), completed_at: ago(3) },
    ]);
    for (let i = 0; i < 5; i++) {
      await env.db.sql`INSERT INTO task_records (task_id, type, status, app_name, completed_at)
        VALUES (${`hostile-${i}`}, 1, 3, 'x', 'infinity')`;
    }
    const r = await (await collector(createTasks, { recentTaskLimit: 2 })).collect(ctx());
    expect(only<TaskState>(r, 'replace').map((t) => t.task_id).sort()).toEqual(['real-done', 'real-failed']);
  });

  it('rows that do not fit are left out with a warning that says why; when most do not, the pass fails and the view keeps what it had', async () => {
    await insertTasks(env.db.sql, [
      { task_id: 'one', type: 1, status: 3, app_name: 'a', created_at: ago(5), completed_at: ago(4) },
      { task_id: 'two', type: 1, status: 2, app_name: 'b', created_at: ago(5), started_at: ago(3) },
      { task_id: 'three', type: 1, status: 1, app_name: 'c', created_at: ago(5) },
    ]);
    // a NULL where the market's schema has NOT NULL: one row of three
    await env.db.sql`ALTER TABLE task_records ALTER COLUMN app_name DROP NOT NULL`;
    try {
      await env.db.sql`UPDATE task_records SET app_name = NULL WHERE task_id = 'three'`;
      const c = await collector(createTasks, {});
      const some = await c.collect(ctx());
      expect(only<TaskState>(some, 'replace').map((t) => t.task_id).sort()).toEqual(['one', 'two']);
      expect(some.counters).toMatchObject({ dropped: 1 });
      expect(some.warning).toMatch(/^1 task_records rows did not fit the expected shape and were left out \(first: app_name: /);

      // (a store of its own gets a collector of its own: one that sends only what moved knows what it sent)
      const store = new RuntimeStore(() => NOW);
      await env.db.sql`UPDATE task_records SET app_name = 'c' WHERE task_id = 'three'`;
      const d = await collector(createTasks, {});
      expect(await pass(store, 'tasks', d)).toBe('ok');
      // the market's column changes type under us: every row fails, and the view must not empty
      await env.db.sql`ALTER TABLE task_records ALTER COLUMN type TYPE text USING type::text`;
      try {
        const err = await c.collect(ctx()).catch((e: Error) => e);
        expect((err as Error).message).toMatch(/^3 task_records rows did not fit the expected shape .*first: type: .*the view keeps what it had$/);
        expect(await pass(store, 'tasks', d)).toBe('failed');
        expect(['one', 'two', 'three'].map((id) => store.task(id) !== null)).toEqual([true, true, true]);
      } finally {
        await env.db.sql`ALTER TABLE task_records ALTER COLUMN type TYPE integer USING type::integer`;
      }
    } finally {
      await env.db.sql`ALTER TABLE task_records ALTER COLUMN app_name SET NOT NULL`;
    }
  });

  it('an unreachable database makes collect() throw a message without the password', async () => {
    const err = await (await make(createTasks)).collect(ctx()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect((err as Error).message).not.toContain('T0p-Secret');
  });
});

async function make(create: (o: any) => Collector | Promise<Collector>): Promise<Collector> {
  const c = await create({ databaseUrl: DOWN_URL, connectTimeoutMs: 1000 });
  open.push(c);
  return c;
}

describe('app flow collector', () => {
  const S = 'market.olares';
  const running = '[{"name":"main","state":"running"}]';

  it('derives every stage rule from the joined rows and the active tasks', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'healthy', state: { state: 'running', installed_version: '1.0.0', status_entrances: running } },
      { user_id: 'alice', source_id: S, app_name: 'sick', manifest_type: 'middleware',
        state: { state: 'running', installed_version: '2.0.0', status_entrances: '[{"name":"main","state":"running"},{"name":"admin","state":"stopped"}]' } },
      { user_id: 'alice', source_id: S, app_name: 'broken', state: { state: 'installFailed', target_version: '3.0.0', reason: 'ImagePullBackOff', message: 'pull failed' } },
      { user_id: 'alice', source_id: S, app_name: 'paused', state: { state: 'stopped', installed_version: '1.1.0' } },
      { user_id: 'alice', source_id: S, app_name: 'removed', state: { state: 'uninstalled', installed_version: '1.0.0' } },
      { user_id: 'alice', source_id: S, app_name: 'abandoned', state: { state: 'installingCanceled' } },
      { user_id: 'alice', source_id: S, app_name: 'canceling', state: { state: 'installingCanceled' } },
      { user_id: 'alice', source_id: S, app_name: 'catalog-only', render_status: 'failed' },
      { user_id: 'alice', source_id: S, app_name: 'catalog-empty-state', state: { state: '' } },
      { user_id: 'alice', source_id: S, app_name: 'new', state: { state: '', target_version: '0.9.0' } },
      { user_id: 'alice', source_id: S, app_name: 'weird', state: { state: 'teleporting', installed_version: '1.0.0' } },
      { user_id: 'alice', source_id: S, app_name: 'upgrading', state: { state: 'running', installed_version: '1.0.0', target_version: '1.2.0', status_entrances: running } },
      { user_id: 'alice', source_id: S, app_name: 'leaving', state: { state: 'running', installed_version: '1.0.0', status_entrances: running } },
      { user_id: 'bob', source_id: 'local', app_name: 'downloading', state: { state: 'downloading', progress: '37.5', target_version: '4.0.0', op_id: 'op-9', op_type: 'install' } },
    ]);
    await insertTasks(env.db.sql, [
      { task_id: 't-cancel', type: 3, status: 2, app_name: 'canceling', user_account: 'alice', created_at: ago(1), started_at: ago(1) },
      { task_id: 't-new', type: 1, status: 1, app_name: 'new', user_account: 'alice', created_at: ago(1) },
      { task_id: 't-upgrade', type: 4, status: 2, app_name: 'upgrading', user_account: 'alice', created_at: ago(2), started_at: ago(2) },
      { task_id: 't-uninstall', type: 2, status: 1, app_name: 'leaving', user_account: 'alice', created_at: ago(1) },
      // finished, or another user's: no effect
      { task_id: 't-done', type: 1, status: 3, app_name: 'removed', user_account: 'alice', created_at: ago(9), completed_at: ago(8) },
      { task_id: 't-bob', type: 2, status: 2, app_name: 'paused', user_account: 'bob', created_at: ago(1), started_at: ago(1) },
    ]);
    const seen: string[] = [];
    const c = await collector(createAppFlow, { onUnknownState: (s: string) => seen.push(s) });
    const r = await c.collect(ctx());
    expect(r.steps[0]).toMatchObject({ op: 'replace', domain: 'app_states', reconciles: ['nats'] });
    const apps = Object.fromEntries(only<AppFlowState>(r, 'replace').map((a) => [`${a.user_id}/${a.app_name}`, a]));
    const brief = Object.fromEntries(Object.entries(apps).map(([k, a]) => [k, [a.stage, a.health, a.version ?? null]]));
    expect(brief).toEqual({
      'alice/healthy': ['running', 'healthy', '1.0.0'],
      'alice/sick': ['running', 'unhealthy', '2.0.0'],
      'alice/broken': ['failed', 'unhealthy', null],
      'alice/paused': ['stopped', 'unhealthy', '1.1.0'],
      'alice/canceling': ['stopped', 'unknown', null],
      'alice/new': ['installing', 'unknown', '0.9.0'],
      'alice/weird': ['unknown', 'unknown', '1.0.0'],
      'alice/upgrading': ['upgrading', 'unknown', '1.2.0'],
      'alice/leaving': ['uninstalling', 'unknown', '1.0.0'],
      // target_version counts only while installing or upgrading (issue 3); downloading is fetching
      'bob/downloading': ['fetching', 'unknown', null],
    });
    expect(apps['alice/sick']).toMatchObject({ cfg_type: 'middleware', stage_detail: 'running; entrance admin is stopped' });
    expect(apps['alice/upgrading'].stage_detail).toBe('running; upgrade task t-upgrade running');
    expect(apps['bob/downloading']).toEqual({
      app_id: 'downloading', app_name: 'downloading', user_id: 'bob', source_id: 'local', stage: 'fetching',
      stage_detail: 'downloading (progress 37.5)', cfg_type: 'app', health: 'unknown',
      last_update: '2026-01-02T00:00:00Z',
      metadata: { status: {
        name: 'downloading', rawAppName: 'downloading', appid: 'downloading', isSysApp: false, owner: 'bob', source: 'local',
        title: '', state: 'downloading', updateTime: '', statusTime: '', lastTransitionTime: '', progress: '37.5',
        opID: 'op-9', opType: 'install', entranceStatuses: null,
      } },
      stage_since: '2026-01-02T00:00:00Z',
    });
    // a stage forced by a running task starts with the task
    expect(apps['alice/upgrading'].stage_since).toBe(ago(2));
    expect(apps['alice/broken'].metadata).toMatchObject({ status: { reason: 'ImagePullBackOff', message: 'pull failed' } });
    expect(r.counters).toMatchObject({ rows: 12, apps: 10, not_installed: 2, unknown_state: 1, dropped: 0, active_tasks: 5 });
    expect(r.warning).toBe('unknown app state "teleporting" shown as stage unknown');
    expect(seen).toEqual(['teleporting']);

    // the same unknown value is reported once per collector, not once per pass
    const again = await c.collect(ctx());
    expect(again.warning).toBeUndefined();
    expect(again.counters).toMatchObject({ unknown_state: 1 });
    expect(seen).toEqual(['teleporting']);
  });

  it('an app that gets uninstalled leaves the view on the next pass', async () => {
    await insertUserApps(env.db.sql, [{ user_id: 'alice', source_id: S, app_name: 'wiki', state: { state: 'running', installed_version: '1.0.0' } }]);
    const store = new RuntimeStore(() => NOW);
    const c = await collector(createAppFlow, {});
    await pass(store, 'app_flow', c);
    expect(store.app('alice', S, 'wiki')).not.toBeNull();
    await env.db.sql`UPDATE user_application_states SET state = 'uninstalled'`;
    await pass(store, 'app_flow', c);
    expect(store.app('alice', S, 'wiki')).toBeNull();
  });

  it('a column whose type changed under us fails the pass (named), and the view keeps every app', async () => {
    await insertUserApps(env.db.sql, ['wiki', 'blog', 'chat'].map((app_name) => ({
      user_id: 'alice', source_id: S, app_name, state: { state: 'running', installed_version: '1.0.0' },
    })));
    const store = new RuntimeStore(() => NOW);
    const c = await collector(createAppFlow, {});
    expect(await pass(store, 'app_flow', c)).toBe('ok');
    await env.db.sql`ALTER TABLE user_application_states ALTER COLUMN is_sys_app DROP DEFAULT,
      ALTER COLUMN is_sys_app TYPE integer USING is_sys_app::int`;
    try {
      const err = await c.collect({ ...ctx(), full: true }).catch((e: Error) => e);
      expect((err as Error).message).toMatch(/^3 user_applications rows did not fit the expected shape .*first: is_sys_app: .*the view keeps what it had$/);
      expect(await pass(store, 'app_flow', c)).toBe('failed');
      expect(['wiki', 'blog', 'chat'].map((a) => store.app('alice', S, a) !== null)).toEqual([true, true, true]);
    } finally {
      await env.db.sql`ALTER TABLE user_application_states ALTER COLUMN is_sys_app TYPE boolean USING is_sys_app <> 0,
        ALTER COLUMN is_sys_app SET DEFAULT FALSE`;
    }
    // the column back: the next pass reads everything again
    expect(await pass(store, 'app_flow', c)).toBe('ok');
    expect(['wiki', 'blog', 'chat'].map((a) => store.app('alice', S, a) !== null)).toEqual([true, true, true]);
  });

  it('an unreachable database makes collect() throw a message without the password', async () => {
    const err = await (await make(createAppFlow)).collect(ctx()).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect((err as Error).message).not.toContain('T0p-Secret');
  });
});

describe('components collector', () => {
  it('reports task_module, hydrator, syncer, cache and postgres from the database', async () => {
    await insertTasks(env.db.sql, [
      { task_id: 'p1', type: 1, status: 1, app_name: 'a', created_at: ago(3) },
      { task_id: 'p2', type: 1, status: 1, app_name: 'b', created_at: ago(1) },
      { task_id: 'r1', type: 4, status: 2, app_name: 'c', created_at: ago(2), started_at: ago(2) },
      { task_id: 'd1', type: 1, status: 3, app_name: 'd', created_at: ago(9), completed_at: ago(8) },
    ]);
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: 'market.olares', app_name: 'a', render_status: 'success', state: { state: 'running' } },
      { user_id: 'alice', source_id: 'market.olares', app_name: 'b', render_status: 'failed', render_consecutive_failures: 3 },
      { user_id: 'bob', source_id: 'market.olares', app_name: 'a', render_status: 'pending' },
      { user_id: 'bob', source_id: 'upload', app_name: 'mine', render_status: 'failed', render_consecutive_failures: 1, state: { state: 'stopped' } },
    ]);
    await insertSources(env.db.sql, [
      { source_id: 'market.olares' }, { source_id: 'upload', source_type: 'local' }, { source_id: 'mirror' },
    ]);
    await insertCatalog(env.db.sql, [
      { source_id: 'market.olares', app_id: 'a', updated_at: ago(50) },
      { source_id: 'market.olares', app_id: 'b', updated_at: ago(10) },
      { source_id: 'upload', app_id: 'mine', updated_at: ago(900) },
    ]);
    const c = await collector(createComponents, { syncerStalenessMs: 30 * 60_000 });
    const r = await c.collect(ctx());
    expect(r.steps[0]).toMatchObject({ op: 'replace', domain: 'components' });
    const list = only<ComponentStatus>(r, 'replace');
    const by = Object.fromEntries(list.map((x) => [x.name, x]));
    expect(list.map((x) => x.name)).toEqual(['task_module', 'hydrator', 'syncer', 'cache', 'postgres']);
    expect(by.task_module).toEqual({
      name: 'task_module', healthy: true, status: 'running', last_check: NOW.toISOString(),
      metrics: { pending_tasks: 2, running_tasks: 1, oldest_pending_since: expect.any(String) },
    });
    expect(by.hydrator).toMatchObject({ healthy: true, status: 'running',
      metrics: { pending: 1, success: 1, failed: 2, total: 4, consecutive_failures: 4, last_failure_at: '2026-01-01T00:00:00Z' } });
    expect(by.syncer).toMatchObject({
      healthy: false, status: 'degraded', message: 'catalog not updated: mirror (no catalog rows)',
      metrics: { staleness_bound_s: 1800, stale_sources: 1, sources: {
        'market.olares': { source_type: 'remote', is_active: true, apps: 2, newest_update: ago(10), stale: false },
        mirror: { source_type: 'remote', is_active: true, apps: 0, newest_update: null, stale: true },
        upload: { source_type: 'local', is_active: true, apps: 1, newest_update: ago(900), stale: false },
      } },
    });
    expect(by.cache.metrics).toEqual({
      users: 2, user_applications: 4, app_states: 2, pairs: 3, pairs_truncated: false,
      by_user: {
        alice: { 'market.olares': { user_applications: 2, states: 1 } },
        bob: { 'market.olares': { user_applications: 1, states: 0 }, upload: { user_applications: 1, states: 1 } },
      },
      by_source: { 'market.olares': { user_applications: 3, users: 2 }, upload: { user_applications: 1, users: 1 } },
      // Go's names, from the same rows
      total_users: 2, total_sources: 2, total_apps: 4, total_app_state_latest: 2, total_app_info_latest: 1,
      total_app_info_pending: 1,
    });
    expect(by.postgres).toMatchObject({ healthy: true, status: 'running', metrics: { server_version: expect.stringMatching(/^\d+/) } });
    expect(r.counters).toMatchObject({ db_up: 1, dropped: 0 });

    // the market writes failing renders: the hydrator turns unhealthy, and a collector started afresh (another
    // replica, a restarted thread) says the same of the same rows
    await env.db.sql`UPDATE user_applications SET render_consecutive_failures = render_consecutive_failures + 1, updated_at = ${ago(1)}::timestamptz WHERE render_status = 'failed'`;
    const next = only<ComponentStatus>(await c.collect(ctx()), 'replace').find((x) => x.name === 'hydrator')!;
    expect(next).toMatchObject({ healthy: false, status: 'running', message: `renders failing: 2 apps, 6 consecutive failures, the latest at ${ago(1)}` });
    const fresh = await collector(createComponents, { syncerStalenessMs: 30 * 60_000 });
    expect(only<ComponentStatus>(await fresh.collect(ctx()), 'replace').find((x) => x.name === 'hydrator')).toEqual(next);

    // time alone passes the staleness bound of market.olares's catalog (newest row 10 minutes before NOW, bound 30):
    // the first pass after it says so, with no write to any table
    const later = new Date(NOW.getTime() + 21 * 60_000);
    const syncer = only<ComponentStatus>(await c.collect({ ...ctx(), now: () => later }), 'replace').find((x) => x.name === 'syncer')!;
    expect(syncer.metrics).toMatchObject({ stale_sources: 2, sources: { 'market.olares': { stale: true }, mirror: { stale: true } } });
  });

  it('a database that is down turns postgres and task_module unhealthy without throwing, and keeps the rest', async () => {
    const c = await make(createComponents);
    const r = await c.collect(ctx());
    expect(r.steps).toEqual([{ op: 'upsert', domain: 'components', items: [
      expect.objectContaining({ name: 'postgres', healthy: false, status: 'error' }),
      expect.objectContaining({ name: 'task_module', healthy: false, status: 'running' }),
    ] }]);
    expect(r.warning).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(r)).not.toContain('T0p-Secret');
  });

  it('a database that does not answer by the run\'s deadline is down too: postgres and task_module unhealthy, the run failed', async () => {
    const c = await collector(createComponents, {});
    const ac = new AbortController();
    ac.abort();
    const r = await c.collect(ctx(ac.signal));
    expect(r.failed).toMatch(/aborted|deadline/);
    const items = only<ComponentStatus>(r, 'upsert');
    expect(items.map((i) => [i.name, i.healthy])).toEqual([['postgres', false], ['task_module', false]]);
    expect(items[0]!.message).toMatch(/^database unreachable: /);
  });
});

describe('metadata.status from real PostgreSQL rows: every row of docs/go-wire.md\'s table', () => {
  const S = 'market.olares';
  const manifest = [
    { name: 'web', host: 'wiki', port: 80, title: 'Wiki', icon: 'https://cdn/wiki-web.png', authLevel: 'private',
      url: 'wiki.alice.olares.example', openMethod: 'window', invisible: false, windowPushState: true },
    { name: 'admin', host: 'wiki-admin', port: 8080, title: 'Wiki admin', authLevel: 'private', invisible: true, skip: true },
  ];

  async function statusOf(app: string): Promise<Record<string, unknown>> {
    const r = await (await collector(createAppFlow, {})).collect(ctx());
    const a = only<AppFlowState>(r, 'replace').find((x) => x.app_name === app);
    if (!a) throw new Error(`${app} not in view`);
    expect(a.app_id).toBe(app);
    return a.metadata!.status as Record<string, unknown>;
  }

  it('name, rawAppName, appid, isSysApp, owner, icon, source, title (locale map), state, progress, opType, message, reason', async () => {
    await insertUserApps(env.db.sql, [{
      user_id: 'alice', source_id: S, app_name: 'wiki', app_id: 'a1b2c3', app_raw_name: 'wiki-raw',
      metadata: { icon: 'https://cdn/wiki.png', title: { 'zh-CN': '维基', 'en-US': 'Wiki' } },
      state: {
        state: 'upgrading', is_sys_app: true, progress: '42.5', op_type: 'upgrade', message: 'pulling images',
        reason: 'Upgrading', event_create_time: '2026-03-01T11:59:30.750Z',
      },
    }]);
    expect(await statusOf('wiki')).toEqual({
      name: 'wiki', rawAppName: 'wiki-raw', appid: 'a1b2c3', isSysApp: true, owner: 'alice', icon: 'https://cdn/wiki.png',
      source: S, title: 'Wiki', state: 'upgrading',
      updateTime: '2026-03-01T11:59:30Z', statusTime: '2026-03-01T11:59:30Z', lastTransitionTime: '2026-03-01T11:59:30Z',
      progress: '42.5', opType: 'upgrade', message: 'pulling images', reason: 'Upgrading', entranceStatuses: null,
      createTime: '2026-03-01T11:59:30.750Z',
    });
  });

  it('title as a plain string, a map without en-US, or absent; icon only as a string; empty values omitted', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'plain', metadata: { title: 'Plain' }, state: { state: 'running' } },
      { user_id: 'alice', source_id: S, app_name: 'german', metadata: { title: { 'de-DE': 'Deutsch' }, icon: 7 }, state: { state: 'running' } },
      { user_id: 'alice', source_id: S, app_name: 'bare', state: { state: 'running' } },
    ]);
    expect(await statusOf('plain')).toMatchObject({ title: 'Plain' });
    const german = await statusOf('german');
    expect(german.title).toBe('Deutsch');
    expect(german).not.toHaveProperty('icon');
    const bare = await statusOf('bare');
    expect(bare).toMatchObject({ title: '', isSysApp: false, updateTime: '', statusTime: '', lastTransitionTime: '' });
    for (const k of ['icon', 'progress', 'opType', 'message', 'reason', 'sharedEntrances']) expect(bare).not.toHaveProperty(k);
  });

  it('Go\'s zero time in event_create_time (what GORM writes for an empty time.Time) is "" as Go sends it, not 2001', async () => {
    await insertUserApps(env.db.sql, [{
      user_id: 'alice', source_id: S, app_name: 'zero', state: { state: 'running', event_create_time: '0001-01-01 00:00:00+00' },
    }]);
    expect(await statusOf('zero')).toMatchObject({ updateTime: '', statusTime: '', lastTransitionTime: '' });
  });

  it('entranceStatuses: ua.entrances merged BY POSITION with status_entrances; sharedEntrances from the state row', async () => {
    await insertUserApps(env.db.sql, [{
      user_id: 'alice', source_id: S, app_name: 'wiki', entrances: manifest,
      state: {
        state: 'running', event_create_time: '2026-03-01T11:00:00Z',
        // runtime order differs from the names on purpose: the market matches by position
        status_entrances: JSON.stringify([
          { name: 'admin', state: 'running', statusTime: '2026-03-01T11:00:01Z' },
          { name: 'web', state: 'notReady', reason: 'readiness probe failed' },
          { name: 'extra', state: 'running' },
        ]),
        shared_entrances: [{ name: 'api', host: 'wiki-api', port: 9000, url: 'wiki-api.shared.example' }],
      },
    }]);
    const s = await statusOf('wiki');
    expect(s.entranceStatuses).toEqual([
      { ...manifest[0], state: 'running', statusTime: '2026-03-01T11:00:01Z' },
      { ...manifest[1], state: 'notReady', reason: 'readiness probe failed' },
    ]);
    expect(s.sharedEntrances).toEqual([{ name: 'api', host: 'wiki-api', port: 9000, url: 'wiki-api.shared.example', invisible: false }]);
  });

  it('a manifest longer than the runtime list keeps empty runtime fields; no manifest = the runtime list as is', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'long', entrances: manifest,
        state: { state: 'running', status_entrances: '[{"name":"web","state":"running"}]' } },
      { user_id: 'alice', source_id: S, app_name: 'runtime-only',
        state: { state: 'running', status_entrances: '[{"name":"main","state":"running"},{"name":"b","state":"stopped"}]' } },
    ]);
    expect((await statusOf('long')).entranceStatuses).toEqual([{ ...manifest[0], state: 'running' }, manifest[1]]);
    expect((await statusOf('runtime-only')).entranceStatuses).toEqual([
      { name: 'main', port: 0, invisible: false, state: 'running' },
      { name: 'b', port: 0, invisible: false, state: 'stopped' },
    ]);
  });

  it('the whole snapshot of these rows decodes as a Go client decodes it', async () => {
    await insertUserApps(env.db.sql, [
      { user_id: 'alice', source_id: S, app_name: 'wiki', entrances: manifest, metadata: { title: { 'en-US': 'Wiki' } },
        state: { state: 'running', status_entrances: running0(), event_create_time: '2026-03-01T11:00:00Z' } },
      { user_id: 'bob', source_id: 'local', app_name: 'blog', state: { state: 'downloading', progress: '10' } },
    ]);
    await insertTasks(env.db.sql, [{ task_id: 't1', type: 1, status: 2, app_name: 'blog', user_account: 'bob', created_at: ago(1), started_at: ago(1) }]);
    await insertSources(env.db.sql, [{ source_id: S }]);
    await insertCatalog(env.db.sql, [{ source_id: S, app_id: 'wiki', updated_at: ago(1) }]);
    const store = new RuntimeStore(() => NOW);
    expect(await pass(store, 'app_flow', await collector(createAppFlow, {}))).toBe('ok');
    expect(await pass(store, 'tasks', await collector(createTasks, {}))).toBe('ok');
    expect(await pass(store, 'components', await collector(createComponents, {}))).toBe('ok');
    store.commit();
    const whole = JSON.parse(store.state({}));
    expect(Object.keys(whole.app_states)).toHaveLength(2);
    expectGoWire(whole);
    expectGoWire(store.state({ user_id: 'bob' }));
  });
});

function running0(): string {
  return '[{"name":"web","state":"running"},{"name":"admin","state":"running"}]';
}
