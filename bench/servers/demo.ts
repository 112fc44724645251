// The demo market seeded at a size, in its own process (argv: installed apps, seed, and optionally the
// workload's events per second: without it the market is static, seeded two hours back (it has been quiet
// that long: every estimate and stuck verdict the sidecar derives from its times has settled) and its Chart
// Repo answers the same content; with it the market moves every second as
// `npm run demo -- --events-per-second N` does): its embedded
// PostgreSQL answers the sidecar's passes on its own event loop, not on the load generator's. Prints
// `DATABASE_URL=… CHART_REPO_SERVICE_HOST=…` once ready; stops on SIGTERM.
import { startDemoMarket } from '../../src/demo/market.ts';

const [apps, seed, eventsPerSecond] = process.argv.slice(2).map(Number);
const live = Number.isFinite(eventsPerSecond);
/** past the longest stuck limit (a task running 60 min) and a running task's progress estimate (5 min) */
const QUIET_FOR_MS = 2 * 3_600_000;
const demo = await startDemoMarket({
  seedSize: { installedApps: apps! }, seed: seed ?? 42,
  ...(live ? { eventsPerSecond } : { start: Date.now() - QUIET_FOR_MS }),
});
// a static market still tells time passing where the real Chart Repo does (its uptime, the analyzer's
// last_check, a running item's processing.duration): only the model's clock moves, nothing is stepped or
// written, so what the sidecar collects holds the same content pass after pass
const clock = live ? null : setInterval(() => { demo.model.now = Date.now(); }, 1000);
clock?.unref();
process.stdout.write(`DATABASE_URL=${demo.databaseUrl} CHART_REPO_SERVICE_HOST=${demo.chartRepoHost}\n`);
process.once('SIGTERM', () => void demo.stop().finally(() => process.exit(0)));
