import { parseArgs } from 'node:util';
import { startDemoMarket, type DemoMarket } from './market.ts';
import { TASK_STATUS } from './market-model.ts';
import { redactUrl } from '../config.ts';
import { createLogger } from '../log.ts';

/**
 * `npm run demo -- --database-url postgres://… [--seed N --users N --apps-per-user N --events-per-second N
 * --installed-apps N --chart-repo-port N --reset]`: runs the demo market standalone against a real PostgreSQL
 * (tables are created if missing) and serves the Chart Repo simulator, to feed a staging sidecar. Without
 * --database-url it starts the embedded PostgreSQL and prints its URL. `--installed-apps N` seeds a market of
 * exactly N installed apps that stays still (a quiet market: nothing moves but time) unless
 * --events-per-second is given too.
 */

const USAGE = `usage: npm run demo -- [--database-url URL] [--seed N] [--users N] [--sources N] [--apps-per-user N]
  [--events-per-second N] [--tick-ms N] [--chart-repo-port N]
  [--installed-apps N]   a market of exactly N app rows that stays still (nothing moves but time)
                         unless --events-per-second is given too; seed an empty database, or pass
                         --reset (rows left by another run keep moving)
  [--reset]              first delete the demo users' apps and tasks
  --database-url names a database that exists (the demo creates its tables, not the database); without it the
  demo starts an embedded PostgreSQL. Start the sidecar with the DATABASE_URL and CHART_REPO_SERVICE_HOST it prints.`;

/** what the command line asked for, to name it when the start fails */
const asked: { databaseUrl?: string; chartRepoPort?: string } = {};

/** the sidecar's log format (ISO times, secrets redacted), named for the demo */
const log = createLogger(process.env.LOG_LEVEL ?? 'info', 'demo-market');

function int(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function summary(demo: DemoMarket): Record<string, unknown> {
  const states: Record<string, number> = {};
  for (const i of demo.model.installs.values()) states[i.state.state] = (states[i.state.state] ?? 0) + 1;
  const names = Object.fromEntries(Object.entries(TASK_STATUS).map(([k, v]) => [v, k]));
  const tasks: Record<string, number> = {};
  for (const t of demo.model.tasks.values()) tasks[names[t.status]] = (tasks[names[t.status]] ?? 0) + 1;
  let hydrating = 0;
  for (const h of demo.model.hydrations.values()) if (h.state === 'processing') hydrating++;
  return { installs: demo.model.installs.size, states, tasks, chart_repo_hydrating: hydrating, images: demo.model.images.size };
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        'database-url': { type: 'string' }, seed: { type: 'string' }, users: { type: 'string' },
        sources: { type: 'string' }, 'apps-per-user': { type: 'string' }, 'events-per-second': { type: 'string' },
        'tick-ms': { type: 'string' }, 'chart-repo-port': { type: 'string' }, reset: { type: 'boolean' },
        'installed-apps': { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const databaseUrl = args['database-url'];
  asked.databaseUrl = databaseUrl;
  asked.chartRepoPort = args['chart-repo-port'];
  const installedApps = int('installed-apps', args['installed-apps'], 1, 1_000_000);
  const demo = await startDemoMarket({
    ...(installedApps === undefined ? {} : { seedSize: { installedApps } }),
    databaseUrl,
    seed: int('seed', args.seed, 0, 2 ** 31),
    users: int('users', args.users, 1, 100_000),
    sources: int('sources', args.sources, 1, 20),
    appsPerUser: int('apps-per-user', args['apps-per-user'], 1, 1000),
    eventsPerSecond: int('events-per-second', args['events-per-second'], 0, 10_000),
    tickMs: int('tick-ms', args['tick-ms'], 50, 60_000),
    chartRepoPort: int('chart-repo-port', args['chart-repo-port'], 0, 65_535),
    reset: args.reset ?? false,
    onTick: (r) => log.debug({ events: r.events, installs: r.installs, tasks: r.tasks, write: r.write }, 'tick'),
    onError: (err) => log.error({ err }, 'workload tick failed; retrying next tick'),
  });
  log.info({
    database: databaseUrl ? redactUrl(databaseUrl) : demo.databaseUrl,
    embedded: !databaseUrl,
    chart_repo: `http://${demo.chartRepoHost}/chart-repo/api/v2/status?user=${demo.model.users[0]}&source=${demo.model.sources[0].source_id}`,
    seeded: demo.seeded,
  }, `demo market running; point the sidecar at DATABASE_URL=${databaseUrl ? redactUrl(databaseUrl) : demo.databaseUrl} CHART_REPO_SERVICE_HOST=${demo.chartRepoHost}`);

  const every = setInterval(() => log.info(summary(demo), 'market'), 10_000);
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping demo market');
    clearInterval(every);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await demo.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** What to do about the usual reasons the demo cannot start, in one line (a stack trace helps no user). */
function startHint(message: string): string | undefined {
  if (/database "[^"]*" does not exist/.test(message)) return 'create the database first (createdb NAME): the demo creates its tables, not the database';
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(message)) {
    return `no PostgreSQL answers at ${asked.databaseUrl ? redactUrl(asked.databaseUrl) : 'the embedded PostgreSQL'}: check the host and port of --database-url`;
  }
  if (/EADDRINUSE/.test(message)) return `--chart-repo-port ${asked.chartRepoPort ?? ''} is taken: give a free port, or 0 for any`;
  return undefined;
}

main().catch((err) => {
  const message = err instanceof Error ? err.message : String(err);
  const hint = startHint(message);
  log.fatal({ err: message, ...(hint && { hint }) }, 'demo market failed to start');
  process.exit(1);
});
