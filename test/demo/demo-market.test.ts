import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collect/collector.ts';
import { createCollector as createAppFlow } from '../../src/collect/collectors/app-flow.ts';
import { createCollector as createChartRepo } from '../../src/collect/collectors/chart-repo.ts';
import { createCollector as createComponents } from '../../src/collect/collectors/components.ts';
import { createCollector as createTasks } from '../../src/collect/collectors/tasks.ts';
import { startDemoMarket, type DemoMarket } from '../../src/demo/market.ts';
import type { SourceName } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { expectGoWire } from '../helpers/go-wire.ts';
import { eventually, LIVENESS_MS } from '../helpers/sidecar.ts';
import { pass } from '../helpers/store-fixtures.ts';

let demo: DemoMarket;
let sql: Sql;

beforeAll(async () => {
  demo = await startDemoMarket({ seed: 99, tickMs: 200, eventsPerSecond: 10 });
  sql = postgres(demo.databaseUrl, { max: 1, onnotice: () => {} });
}, 60_000);
afterAll(async () => {
  await sql?.end({ timeout: 2 });
  await demo?.stop();
});

async function snapshot(): Promise<string> {
  const rows = await sql`SELECT ua.app_name, ua.user_id, s.state, s.updated_at FROM user_applications ua
    JOIN user_application_states s ON s.user_application_id = ua.id ORDER BY 1, 2`;
  const tasks = await sql`SELECT task_id, status FROM task_records ORDER BY 1`;
  return JSON.stringify([rows, tasks]);
}

describe('startDemoMarket (embedded)', () => {
  it('serves PostgreSQL and the Chart Repo on loopback ports', () => {
    expect(demo.databaseUrl).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(demo.chartRepoHost).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('seeds a market that already shows variety', async () => {
    const statuses = await sql`SELECT DISTINCT status FROM task_records`;
    const states = await sql`SELECT DISTINCT state FROM user_application_states`;
    expect(statuses.length).toBeGreaterThanOrEqual(3);
    expect(states.length).toBeGreaterThanOrEqual(4);
    expect(demo.seeded.installs).toBe(48); // 8 users x 6 apps, 2 sources
    const sources = await sql`SELECT DISTINCT source_id FROM user_applications`;
    expect(sources.map((s) => s.source_id).sort()).toEqual(['local', 'market.olares']);
  });

  it('answers the Chart Repo collector for every (user, source) of user_applications, with apps in progress', async () => {
    const pairs = await sql`SELECT DISTINCT user_id, source_id FROM user_applications`;
    let processing = 0;
    for (const p of pairs) {
      const res = await fetch(`http://${demo.chartRepoHost}/chart-repo/api/v2/status?user=${p.user_id}&source=${p.source_id}&include=apps,images,tasks`);
      const body = await res.json();
      expect(body.success).toBe(true);
      processing += (body.data.apps ?? []).filter((a: { state: string }) => a.state === 'processing').length;
    }
    expect(processing).toBeGreaterThan(0);
  });

  it('every snapshot of the demo market decodes as a Go client decodes it, with titles, icons and entrance URLs', async () => {
    const store = new RuntimeStore();
    const collectors: [SourceName, Collector][] = [
      ['app_flow', await createAppFlow({ databaseUrl: demo.databaseUrl })],
      ['tasks', await createTasks({ databaseUrl: demo.databaseUrl })],
      ['components', await createComponents({ databaseUrl: demo.databaseUrl })],
      ['chart_repo', await createChartRepo({ databaseUrl: demo.databaseUrl, chartRepoHost: demo.chartRepoHost, chartRepoTimeoutMs: 5000 })],
    ];
    try {
      // two rounds: the second sees the market moved on
      for (let round = 0, seq = 0; round < 2; round++) {
        for (const [source, c] of collectors) {
          const r = await c.collect({ signal: AbortSignal.timeout(20_000), now: () => new Date(), full: false });
          store.apply(pass(source, r.steps, { finished_at: new Date().toISOString() }, ++seq));
        }
        store.commit();
        const whole = JSON.parse(store.state({}));
        expectGoWire(whole);
        expectGoWire(store.state({ user_id: Object.values(whole.app_states as Record<string, { user_id: string }>)[0].user_id }));
        const statuses = Object.values(whole.app_states as Record<string, { metadata: { status: Record<string, any> } }>)
          .map((a) => a.metadata.status);
        expect(statuses.filter((s) => s.title !== '').length).toBe(statuses.length);
        expect(statuses.some((s) => typeof s.icon === 'string')).toBe(true);
        expect(statuses.some((s) => (s.entranceStatuses ?? []).some((e: { url?: string; state?: string }) => e.url && e.state))).toBe(true);
        expect(whole.chart_repo.apps.length).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await Promise.all(collectors.map(([, c]) => c.close?.()));
    }
  }, 60_000);

  it('moves the market on its own: the tables change between two reads', async () => {
    const before = await snapshot();
    await eventually(async () => expect(await snapshot()).not.toBe(before), LIVENESS_MS);
  });

  it('feeds another database the same way (databaseUrl given): a benchmark market of exact size', async () => {
    // the other database: a second embedded market whose own workload is still (no timer), so nothing but the
    // benchmark market writes to it while the rows are counted
    const host = await startDemoMarket({ seed: 5, tickMs: 0 });
    const hostSql = postgres(host.databaseUrl, { max: 1, onnotice: () => {} });
    const bench = await startDemoMarket({
      databaseUrl: host.databaseUrl, reset: true, seed: 1,
      seedSize: { installedApps: 1000, tasks: 300, chartRepoApps: 200, images: 100, nodesPerImage: 2 },
    });
    try {
      expect(bench.seeded.installs).toBe(1000);
      const keys = JSON.stringify([...bench.model.installs.values()].map(({ user_id, source_id, app_name }) => ({ user_id, source_id, app_name })));
      const [{ n }] = await hostSql`SELECT count(*)::int AS n FROM user_applications ua
        JOIN json_to_recordset(${keys}::text::json) AS k(user_id text, source_id text, app_name text)
          ON ua.user_id = k.user_id AND ua.source_id = k.source_id AND ua.app_name = k.app_name`;
      expect(n).toBe(1000);
      const res = await fetch(`http://${bench.chartRepoHost}/chart-repo/api/v2/status?user=alice`);
      expect(res.status).toBe(200);
    } finally {
      await bench.stop();
      await hostSql.end({ timeout: 2 });
      await host.stop();
    }
    await expect(fetch(`http://${bench.chartRepoHost}/chart-repo/api/v2/status?user=alice`)).rejects.toThrow();
  }, 120_000);

  it('a start that fails on its Chart Repo port (taken) writes nothing into the database it was given', async () => {
    const host = await startDemoMarket({ seed: 5, tickMs: 0 });
    const hostSql = postgres(host.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      // every row of the tables the demo writes, as text: a write that only updates a row shows too
      const digest = async () => (await hostSql`SELECT
        (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM user_applications t) ||
        (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM user_application_states t) ||
        (SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM task_records t) AS digest`)[0]!.digest as string;
      const before = await digest();
      const takenPort = Number(host.chartRepoHost.split(':').pop());
      await expect(startDemoMarket({ databaseUrl: host.databaseUrl, seed: 6, chartRepoPort: takenPort })).rejects.toThrow();
      expect(await digest()).toBe(before);
    } finally {
      await hostSql.end({ timeout: 2 });
      await host.stop();
    }
  }, 120_000);
});
