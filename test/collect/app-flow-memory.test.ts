import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActiveTasks } from '../../src/collect/app-flow.ts';
import { AppFlowMemory, rowsGone } from '../../src/collect/app-flow-memory.ts';
import { LISTING_BUCKETS } from '../../src/sources/market-queries.ts';
import type { ChangedAppRow, ListedAppRow, ListingProbe, MisfitAppRow, TaskRow } from '../../src/sources/market-rows.ts';

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
  it('a plan that is never settled (its read failed) changes nothing: the next pass reads the same rows', async () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    await m.settle(m.plan(rows, [], true), [rows], noTasks);
    m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false);
    expect(m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false).ids).toEqual(['1']);
  });

  it('a row planned but gone by the second read is neither sent nor kept, and is read again when listed', async () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    await m.settle(m.plan(rows, [], true), [rows], noTasks);
    const plan = m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false);
    expect(plan.ids).toEqual(['1']);
    const pass = await m.settle(plan, [[]], noTasks);
    expect(pass.items).toEqual([]);
    expect(pass.keep).toEqual(['alice:market.olares:blog']);
    expect(pass.counters).toMatchObject({ rows: 2, changed_rows: 0, apps: 1 });
    expect(m.plan(listing(row('1', 'wiki', '200:201'), rows[1]), [], false).ids).toEqual(['1']);
  });

  it('a pass read in chunks settles as the same pass read whole', async () => {
    const rows = [row('1', 'wiki'), row('2', 'blog'), row('3', 'notes')];
    const whole = new AppFlowMemory();
    const chunked = new AppFlowMemory();
    const one = await whole.settle(whole.plan(rows, [], true), [rows], noTasks);
    async function* chunks() { yield rows.slice(0, 2); yield rows.slice(2); }
    const parts = await chunked.settle(chunked.plan(rows, [], true), chunks(), noTasks);
    expect(parts).toEqual(one);
    expect(parts.items.map((a) => a.app_name)).toEqual(['wiki', 'blog', 'notes']);
    const next = listing(row('1', 'wiki', '200:201'), rows[1]!);
    expect(chunked.plan(next, [], false).ids).toEqual(whole.plan(next, [], false).ids);
  });

  it('a row whose user and app gain or lose an active task is read again; a task of another app is not', async () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    await m.settle(m.plan(rows, [], true), [rows], noTasks);
    expect(m.plan(listing(...rows), [task('wiki'), task('chat')], false).ids).toEqual(['1']);
    const withTask = m.plan(listing(...rows), [task('wiki')], false);
    await m.settle(withTask, [[rows[0]]], noTasks);
    expect(m.plan(listing(...rows), [task('wiki')], false).ids).toEqual([]);
    expect(m.plan(listing(...rows), [task('wiki', 1)], false).ids).toEqual(['1']);
    expect(m.plan(listing(...rows), [], false).ids).toEqual(['1']);
  });

  it('a periodic full pass reads every row but sends only the apps that came out otherwise, keeping the rest; a new store gets all', async () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog'), row('3', 'notes')];
    await m.settle(m.plan(rows, [], true), [rows], noTasks);
    // a database restored with its rows at their old versions: blog's content moved, its version did not
    const restored = [rows[0]!, { ...rows[1]!, state: 'stopped' }, rows[2]!];
    const periodic = m.plan(listing(...restored), [], true, false);
    expect(periodic.ids).toEqual(['1', '2', '3']);
    const pass = await m.settle(periodic, [restored], noTasks);
    expect(pass.items.map((a) => [a.app_name, a.stage])).toEqual([['blog', 'stopped']]);
    expect(pass.keep.sort()).toEqual(['alice:market.olares:notes', 'alice:market.olares:wiki']);
    expect(pass.counters).toMatchObject({ rows: 3, changed_rows: 3 });
    // one the store asked for again goes whatever it gave; a new store (sendAll) gets every app
    m.forget(['alice:market.olares:wiki']);
    const asked = await m.settle(m.plan(listing(...restored), [], true, false), [restored], noTasks);
    expect(asked.items.map((a) => a.app_name)).toEqual(['wiki']);
    const all = await m.settle(m.plan(listing(...restored), [], true), [restored], noTasks);
    expect(all.items.map((a) => a.app_name)).toEqual(['wiki', 'blog', 'notes']);
    expect(all.keep).toEqual([]);
  });

  it('forgets the rows of the app keys the store asked for', async () => {
    const m = new AppFlowMemory();
    const rows = [row('1', 'wiki'), row('2', 'blog')];
    await m.settle(m.plan(rows, [], true), [rows], noTasks);
    m.forget(['alice:market.olares:blog']);
    expect(m.plan(listing(...rows), [], false).ids).toEqual(['2']);
  });
});

describe('AppFlowMemory: a changes pass and the listing probe', () => {
  /** the probe PostgreSQL would answer for these rows (those with a state row: row_version not ending in ':') */
  function probeOf(rows: readonly ListedAppRow[]): ListingProbe {
    const buckets = new Map<number, { bucket: number; listed: number; ids: bigint; squares: bigint; with_state: number }>();
    for (const r of rows) {
      const bucket = Number(BigInt(r.id) % BigInt(LISTING_BUCKETS));
      const b = buckets.get(bucket) ?? { bucket, listed: 0, ids: 0n, squares: 0n, with_state: 0 };
      b.listed += 1;
      b.ids += BigInt(r.id);
      b.squares += BigInt(r.id) ** 2n;
      if (!r.row_version.endsWith(':')) b.with_state += 1;
      buckets.set(bucket, b);
    }
    return { xmin: '1000', buckets: [...buckets.values()].map((b) => ({ ...b, ids: String(b.ids), squares: String(b.squares) })) };
  }
  const changed = (r: ListedAppRow, listed = true): ChangedAppRow => ({ ...r, listed });
  /** a memory that read these rows in a full pass */
  async function knowing(rows: ListedAppRow[]) {
    const m = new AppFlowMemory();
    await m.settle(m.plan(rows, [], true), [rows], noTasks);
    return m;
  }
  const rows = [row('1', 'wiki'), row('2', 'blog'), row(String(1 + LISTING_BUCKETS), 'chat'), row('3', 'notes')];

  it('nothing written: nothing to read, nothing gone', async () => {
    const m = await knowing(rows);
    expect(m.planChanges([], [], [], probeOf(rows))).toMatchObject({ fresh: [], gone: new Set() });
  });

  it('a row one short in its bucket is named by the sums of ids, and leaves', async () => {
    const m = await knowing(rows);
    // chat shares its bucket with wiki
    const plan = m.planChanges([], [], [], probeOf(rows.filter((r) => r.app_name !== 'chat')))!;
    expect([...plan.gone]).toEqual([String(1 + LISTING_BUCKETS)]);
    const pass = m.settleChanges(plan, noTasks);
    expect(pass.removed).toEqual(['alice:market.olares:chat']);
    expect(pass.counters).toMatchObject({ rows: 3, apps: 3 });
    // the bucket left empty: the probe has no row for it
    const alone = await knowing([rows[1]!]);
    expect([...alone.planChanges([], [], [], probeOf([]))!.gone]).toEqual(['2']);
  });

  it('a changed row, a new one and one no longer listed count as the probe counts them', async () => {
    const m = await knowing(rows);
    const now = [row('1', 'wiki', '300:301', 'stopped'), rows[1]!, rows[2]!, row('9', 'vault')];
    const plan = m.planChanges([changed(now[0]!), changed(now[3]!), changed(rows[3]!, false)], [], [], probeOf(now))!;
    expect(plan.fresh.map((r) => r.id)).toEqual(['1', '9']);
    expect([...plan.gone]).toEqual(['3']);
  });

  it('two rows gone from one bucket are named by the sums of ids and squares; three are not', async () => {
    const m = await knowing(rows);
    // wiki and chat share a bucket
    expect([...m.planChanges([], [], [], probeOf([rows[1]!, rows[3]!]))!.gone].sort()).toEqual(['1', String(1 + LISTING_BUCKETS)]);
    const x = row(String(1 + 2 * LISTING_BUCKETS), 'x');
    expect((await knowing([...rows, x])).planChanges([], [], [], probeOf([rows[1]!, rows[3]!]))).toBeNull();
  });

  it('rowsGone answers exactly the rows a bucket lost, or null', async () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.bigInt({ min: 1n, max: 2n ** 62n }), { minLength: 0, maxLength: 8 }), fc.nat({ max: 3 }),
      (ids, lose) => {
        const lost = ids.slice(0, Math.min(lose, ids.length));
        const s = lost.reduce((a, b) => a + b, 0n);
        const q = lost.reduce((a, b) => a + b * b, 0n);
        const named = rowsGone(lost.length, s, q);
        if (lost.length > 2) expect(named).toBeNull();
        else expect(named!.sort()).toEqual(lost.map(String).sort());
      },
    ));
    // sums no set of lost rows can give (a row came back unseen): null
    expect(rowsGone(1, 5n, 24n)).toBeNull();
    expect(rowsGone(2, 5n, 12n)).toBeNull();
    expect(rowsGone(0, 3n, 9n)).toBeNull();
  });

  it('a state row gone alone, or a probe that did not read: the pass lists instead', async () => {
    const m = await knowing(rows);
    expect(m.planChanges([], [], [], probeOf([rows[0]!, row('2', 'blog'), row(String(2 + LISTING_BUCKETS), 'x'), rows[3]!]))).toBeNull();
    expect(m.planChanges([], [], [], probeOf([...rows.slice(0, 3), row('3', 'notes', '100:')]))).toBeNull();
    expect(m.planChanges([], [], [], { xmin: '1000', buckets: null })).toBeNull();
  });

  it('a known row whose active tasks moved with no write of its own (a task row deleted): the pass lists instead', async () => {
    const m = new AppFlowMemory();
    await m.settle(m.plan(rows, [task('wiki')], true), [rows], noTasks);
    expect(m.planChanges([], [], [task('wiki')], probeOf(rows))).not.toBeNull();
    expect(m.planChanges([], [], [], probeOf(rows))).toBeNull();
  });

  it('a row deleted with its active task: the probe names it, and the pass needs no listing', async () => {
    const m = new AppFlowMemory();
    await m.settle(m.plan(rows, [task('blog')], true), [rows], noTasks);
    const plan = m.planChanges([], [], [], probeOf(rows.filter((r) => r.app_name !== 'blog')))!;
    expect([...plan.gone]).toEqual(['2']);
    expect(m.settleChanges(plan, noTasks).removed).toEqual(['alice:market.olares:blog']);
  });

  describe('a row that stops fitting', () => {
    const misfit = (r: ListedAppRow, listed = true): MisfitAppRow => ({ id: r.id, row_version: '400:401', listed, problem: 'app_raw_name: too long' });
    /** a memory that knows `rows` and then read blog (id 2) not fitting, in a changes pass */
    async function blogUnfit() {
      const m = await knowing(rows);
      const pass = m.settleChanges(m.planChanges([], [], [], probeOf(rows), [misfit(rows[1]!)])!, noTasks);
      expect(pass.removed).toEqual([]);
      return m;
    }

    it('keeps the app the store shows, through changes passes, failed and periodic full passes alike', async () => {
      const m = await blogUnfit();
      expect(m.misfitDrops()).toEqual({ dropped: 1, firstProblem: 'app_raw_name: too long' });
      // a full pass after one that failed sends every app that fits; blog, still unfit, is kept (the store holds it)
      for (const sendAll of [true, false]) {
        const plan = m.plan(listing(rows[0]!, { ...rows[1]!, row_version: '400:401' }, rows[2]!, rows[3]!), [], true, sendAll);
        const pass = await m.settle(plan, [[rows[0]!, misfit(rows[1]!), rows[2]!, rows[3]!]], noTasks);
        expect(pass.keep).toContain('alice:market.olares:blog');
        expect(pass.items.map((a) => a.app_name)).not.toContain('blog');
      }
    });

    it('asked for again by the store and still unfit, it leaves on the changes pass that reads it; deleted, it is removed', async () => {
      const m = await blogUnfit();
      m.forget(['alice:market.olares:blog']);
      const again = m.settleChanges(m.planChanges([], [], [], probeOf(rows), [misfit(rows[1]!)])!, noTasks);
      expect(again.removed).toEqual(['alice:market.olares:blog']);

      const kept = await blogUnfit();
      const deleted = kept.planChanges([], [], [], probeOf(rows.filter((r) => r.id !== '2')))!;
      expect([...deleted.gone]).toEqual(['2']);
      expect(kept.settleChanges(deleted, noTasks).removed).toEqual(['alice:market.olares:blog']);
      expect(kept.misfitDrops()).toEqual({ dropped: 0 });
    });
  });
});
