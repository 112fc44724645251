// The demo market seeded at a size, in its own process (argv: installed apps, seed): its embedded
// PostgreSQL answers the sidecar's passes on its own event loop, not on the load generator's. Prints
// `DATABASE_URL=… CHART_REPO_SERVICE_HOST=…` once ready; stops on SIGTERM.
import { startDemoMarket } from '../../src/demo/market.ts';

const [apps, seed] = process.argv.slice(2).map(Number);
const demo = await startDemoMarket({ seedSize: { installedApps: apps! }, seed: seed ?? 42 });
process.stdout.write(`DATABASE_URL=${demo.databaseUrl} CHART_REPO_SERVICE_HOST=${demo.chartRepoHost}\n`);
process.once('SIGTERM', () => void demo.stop().finally(() => process.exit(0)));
