import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/demo/embedded-postgres.ts';
import type { MarketModel } from '../../src/demo/market-model.ts';
import { createMarket, seedMarket } from '../../src/demo/market-seed.ts';
import { stepMarket } from '../../src/demo/market-step.ts';
import { createMarketWriter } from '../../src/demo/market-writer.ts';

let pg: EmbeddedPostgres;
let sql: Sql;

beforeAll(async () => {
  pg = await startEmbeddedPostgres();
  sql = postgres(pg.url, { max: 1, onnotice: () => {} });
}, 60_000);
afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await pg?.close();
});

async function clear(): Promise<void> {
  await sql`TRUNCATE market_sources, applications, user_applications, user_application_states, task_records`;
}

async function count(table: string): Promise<number> {
  const [row] = await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`);
  return row.n as number;
}

/** what the PostgreSQL collectors will see, reduced to comparable counts */
async function dbView(): Promise<{ states: Record<string, number>; tasks: Record<string, number> }> {
  const states = await sql`SELECT s.state, count(*)::int AS n FROM user_applications ua
    JOIN user_application_states s ON s.user_application_id = ua.id GROUP BY s.state`;
  const tasks = await sql`SELECT status, count(*)::int AS n FROM task_records GROUP BY status`;
  return {
    states: Object.fromEntries(states.map((r) => [r.state, r.n])),
    tasks: Object.fromEntries(tasks.map((r) => [String(r.status), r.n])),
  };
}

function modelView(m: MarketModel): { states: Record<string, number>; tasks: Record<string, number> } {
  const states: Record<string, number> = {};
  for (const i of m.installs.values()) states[i.state.state] = (states[i.state.state] ?? 0) + 1;
  const tasks: Record<string, number> = {};
  for (const t of m.tasks.values()) tasks[String(t.status)] = (tasks[String(t.status)] ?? 0) + 1;
  return { states, tasks };
}

describe('market writer against the embedded PostgreSQL', () => {
  it('seeds 1,000 installed apps with 300 tasks (counts visible via SQL)', async () => {
    await clear();
    const m = seedMarket({ installedApps: 1000, tasks: 300, chartRepoApps: 200, images: 100, nodesPerImage: 2 });
    const t0 = performance.now();
    await createMarketWriter(sql).writeAll(m);
    console.log(`seeded 1,000 apps + 300 tasks in ${Math.round(performance.now() - t0)} ms`);
    expect(await count('user_applications')).toBe(1000);
    expect(await count('user_application_states')).toBe(1000);
    expect(await count('task_records')).toBe(300);
    expect(await count('applications')).toBe(m.catalog.size);
    expect(await count('market_sources')).toBe(2);
    expect(await dbView()).toEqual(modelView(m));
  }, 60_000);

  it('seeds 10,000 installed apps', async () => {
    await clear();
    const t0 = performance.now();
    const m = seedMarket({ installedApps: 10_000, tasks: 3000, chartRepoApps: 2000, images: 1000 });
    const built = performance.now();
    await createMarketWriter(sql).writeAll(m);
    console.log(`seeded 10,000 apps + 3,000 tasks: model ${Math.round(built - t0)} ms, write ${Math.round(performance.now() - built)} ms`);
    expect(await count('user_applications')).toBe(10_000);
    expect(await count('user_application_states')).toBe(10_000);
    expect(await count('task_records')).toBe(3000);
    const [pairs] = await sql`SELECT count(*)::int AS n FROM (SELECT DISTINCT user_id, source_id FROM user_applications) p`;
    expect(pairs.n).toBeGreaterThan(500);
  }, 60_000);

  it('writes rows in the shapes the collectors read', async () => {
    await clear();
    const m = createMarket({ seed: 3 });
    await createMarketWriter(sql).writeAll(m);
    const tasks = await sql`SELECT type, status, metadata, started_at, completed_at FROM task_records`;
    expect(tasks).toHaveLength(m.tasks.size);
    // finished ones among them, whose completed_at is checked
    expect(tasks.filter((t) => t.status >= 3).length).toBeGreaterThan(0);
    for (const t of tasks) {
      expect([1, 2, 3, 4, 5]).toContain(t.type);
      expect([1, 2, 3, 4, 5]).toContain(t.status);
      expect(typeof JSON.parse(t.metadata as string)).toBe('object');
      if (t.status >= 3) expect(t.completed_at).toBeInstanceOf(Date);
    }
    const entrances = await sql`SELECT status_entrances FROM user_application_states WHERE state = 'running'`;
    expect(entrances.length).toBeGreaterThan(0);
    for (const e of entrances) expect(Array.isArray(e.status_entrances)).toBe(true);
    const each = entrances.flatMap((e) => e.status_entrances as object[]);
    expect(each.length).toBeGreaterThan(0);
    for (const x of each) expect(Object.keys(x).sort()).toEqual(['name', 'state']);
    const [render] = await sql`SELECT count(*)::int AS n FROM user_applications WHERE render_status = 'success'`;
    expect(render.n).toBeGreaterThan(0);
  });

  it('follows the workload tick by tick, each tick one transaction of only what changed', async () => {
    await clear();
    const m = createMarket({ seed: 12, eventsPerSecond: 6 });
    const writer = createMarketWriter(sql);
    await writer.writeAll(m);
    let removed = 0;
    for (let s = 1; s <= 90; s++) {
      stepMarket(m, m.options.start + s * 1000);
      const report = await writer.flush(m);
      removed += report.removedInstalls;
      expect(report.installs).toBeLessThan(m.installs.size + 1);
    }
    expect(removed).toBeGreaterThan(0);
    expect(await dbView()).toEqual(modelView(m));
    expect(await count('user_applications')).toBe(m.installs.size);
    const [fresh] = await sql`SELECT max(updated_at) AS t FROM applications`;
    expect((fresh.t as Date).getTime()).toBeGreaterThan(m.options.start);
  }, 60_000);

  it('upserts over rows a previous run wrote, and resets the simulated users on request', async () => {
    await clear();
    const m1 = createMarket({ seed: 30 });
    const writer = createMarketWriter(sql);
    await writer.writeAll(m1);
    const m2 = createMarket({ seed: 30 });
    await writer.writeAll(m2); // the same rows again: no unique violation
    expect(await count('user_applications')).toBe(m2.installs.size);
    await writer.resetUsers(m2);
    expect(await count('user_applications')).toBe(0);
    expect(await count('user_application_states')).toBe(0);
    expect(await count('task_records')).toBe(0);
    expect(await count('applications')).toBe(m2.catalog.size);
  });
});
