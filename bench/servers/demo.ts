// The demo market seeded at a size, in its own process (argv: installed apps, seed, and optionally the
// workload's events per second: without it the market is static, seeded two hours back (startDemoMarket's
// QUIET_FOR_MS: every estimate and stuck verdict the sidecar derives from its times has settled) and its Chart
// Repo answers the same content, telling only time passing; with it the market moves every second as
// `npm run demo -- --events-per-second N` does): its embedded
// PostgreSQL answers the sidecar's passes on its own event loop, not on the load generator's. Prints
// `DATABASE_URL=… CHART_REPO_SERVICE_HOST=…` once ready; stops on SIGTERM.
import { startDemoMarket } from '../../src/demo/market.ts';

const [apps, seed, eventsPerSecond] = process.argv.slice(2).map(Number);
const live = Number.isFinite(eventsPerSecond);
const demo = await startDemoMarket({ seedSize: { installedApps: apps! }, seed: seed ?? 42, ...(live ? { eventsPerSecond } : {}) });
process.stdout.write(`DATABASE_URL=${demo.databaseUrl} CHART_REPO_SERVICE_HOST=${demo.chartRepoHost}\n`);
process.once('SIGTERM', () => void demo.stop().finally(() => process.exit(0)));
