import postgres from 'postgres';
import { MARKET_DDL } from '../sources/market-ddl.ts';
import { startChartRepoSim, type ChartRepoSim } from './chart-repo-sim.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';
import type { MarketModel, MarketOptions } from './market-model.ts';
import { createMarket, seedMarket, type SeedSize } from './market-seed.ts';
import { stepMarket, type StepReport } from './market-step.ts';
import { createMarketWriter, type WriteReport } from './market-writer.ts';

export { createMarket, seedMarket, type SeedOptions, type SeedSize } from './market-seed.ts';
export { stepMarket } from './market-step.ts';
export type { MarketModel, MarketOptions } from './market-model.ts';
export type { ChartRepoSim, FailMode, Injection } from './chart-repo-sim.ts';
export { hostileItems } from './chart-repo-sim.ts';

/**
 * The embedded demo market (docs/architecture.md, demo market): PostgreSQL with the market tables (embedded PGlite unless a
 * databaseUrl is given), a seeded market that already shows variety, the Chart Repo simulator, and a
 * workload timer that moves the market and writes each tick in one transaction.
 */

/** The model's own options it passes on (market-model.ts MarketOptions), plus how the demo runs. */
export interface DemoMarketOptions extends Pick<MarketOptions, 'seed' | 'users' | 'sources' | 'appsPerUser' | 'eventsPerSecond'> {
  /** a real PostgreSQL to write to (tables are created if missing); unset: embedded PGlite */
  databaseUrl?: string;
  /** workload period; 0 = no timer (call tick() yourself) */
  tickMs?: number;
  /** a market of an exact size (benchmarks); static unless eventsPerSecond is given */
  seedSize?: SeedSize;
  /**
   * the model's time when seeded (ms). Default: now for a live market; QUIET_FOR_MS back for a static one, so it
   * has been quiet that long and nothing the sidecar derives from its times (a running task's progress estimate,
   * a stuck verdict) is still moving
   */
  start?: number;
  chartRepoPort?: number;
  /** delete the simulated users' rows first (useful against a database a previous run wrote to) */
  reset?: boolean;
  onTick?: (report: StepReport & { write: WriteReport }) => void;
  onError?: (err: unknown) => void;
}

export interface DemoMarket {
  /** postgres://… the collectors read */
  databaseUrl: string;
  /** host:port of the Chart Repo simulator (CHART_REPO_SERVICE_HOST) */
  chartRepoHost: string;
  chartRepo: ChartRepoSim;
  model: MarketModel;
  /** what seeding wrote */
  seeded: WriteReport;
  /** one workload step at the current time, written in one transaction */
  tick(): Promise<WriteReport>;
  stop(): Promise<void>;
}

/** past the longest stuck limit (a task running 60 min) and a running task's progress estimate (5 min) */
export const QUIET_FOR_MS = 2 * 3_600_000;

export async function startDemoMarket(options: DemoMarketOptions = {}): Promise<DemoMarket> {
  const embedded: EmbeddedPostgres | null = options.databaseUrl ? null : await startEmbeddedPostgres();
  const databaseUrl = options.databaseUrl ?? (embedded as EmbeddedPostgres).url;
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  let sim: ChartRepoSim | null = null;
  try {
    const live = options.seedSize ? options.eventsPerSecond !== undefined : true;
    const start = options.start ?? (live ? Date.now() : Date.now() - QUIET_FOR_MS);
    const model = options.seedSize
      ? seedMarket({ ...options.seedSize, seed: options.seed, users: options.users, sources: options.sources,
        eventsPerSecond: options.eventsPerSecond, start })
      : createMarket({ seed: options.seed, users: options.users, sources: options.sources,
        appsPerUser: options.appsPerUser, eventsPerSecond: options.eventsPerSecond, start });
    // the Chart Repo's port first: a start that fails on it (taken) has written nothing into the database
    sim = await startChartRepoSim(model, { port: options.chartRepoPort });
    if (options.databaseUrl) await sql.unsafe(MARKET_DDL);
    const writer = createMarketWriter(sql);
    if (options.reset) await writer.resetUsers(model);
    const seeded = await writer.writeAll(model);

    let inFlight: Promise<WriteReport> | null = null;
    const tick = (): Promise<WriteReport> => {
      // ticks never overlap: a slow write delays the next step instead of racing it
      inFlight ??= (async () => {
        try {
          const step = stepMarket(model, Date.now());
          const write = await writer.flush(model);
          options.onTick?.({ ...step, write });
          return write;
        } finally {
          inFlight = null;
        }
      })();
      return inFlight;
    };
    const tickMs = live ? options.tickMs ?? 1000 : 0;
    const timer = tickMs > 0
      ? setInterval(() => { if (!inFlight) tick().catch((err) => options.onError?.(err)); }, tickMs)
      // a static market still tells time passing where the real Chart Repo does (its uptime, the analyzer's
      // last_check, a running item's processing.duration): only the model's clock moves, nothing is stepped or
      // written, so what the sidecar collects holds the same content pass after pass
      : live ? null : setInterval(() => { model.now = Date.now(); }, 1000);
    timer?.unref();

    const chartRepo = sim;
    let stopped = false;
    return {
      databaseUrl, chartRepoHost: chartRepo.host, chartRepo, model, seeded, tick,
      async stop() {
        if (stopped) return;
        stopped = true;
        if (timer) clearInterval(timer);
        await (inFlight as Promise<unknown> | null)?.catch(() => {});
        await chartRepo.stop();
        await sql.end({ timeout: 2 });
        await embedded?.close();
      },
    };
  } catch (err) {
    await sim?.stop();
    await sql.end({ timeout: 1 }).catch(() => {});
    await embedded?.close().catch(() => {});
    throw err;
  }
}
