// first: V8 flags apply to threads started after they are set
import './v8-flags.ts';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, redactUrl, type Config } from './config.ts';
import { createLogger, type Logger } from './log.ts';
import { logWarningsAsJson } from './thread-warnings.ts';
import type { CollectorSpec } from './protocol.ts';
import { realCollectors } from './supervisor/collectors.ts';
import { Supervisor } from './supervisor/supervisor.ts';

export interface Sidecar {
  supervisor: Supervisor;
  stop(): Promise<void>;
}

/** Starts the sidecar: the embedded demo market when configured, then every thread. */
export async function startSidecar(config: Config, log: Logger, collectors?: CollectorSpec[]): Promise<Sidecar> {
  let demo: { databaseUrl: string; chartRepoHost: string; stop(): Promise<void> } | null = null;
  let endpoints = { databaseUrl: config.databaseUrl ?? '', chartRepoHost: config.chartRepoHost };
  if (!collectors && config.demo) {
    const { startDemoMarket } = await loadDemo();
    demo = await startDemoMarket({});
    endpoints = { databaseUrl: demo.databaseUrl, chartRepoHost: demo.chartRepoHost };
  }
  const supervisor = new Supervisor({
    port: config.port,
    host: config.host,
    collectIntervalMs: config.collectIntervalMs,
    demo: demo !== null,
    collectMaxIntervalMs: config.collectMaxIntervalMs,
    collectDeadlineMs: config.collectDeadlineMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    stuckLimits: config.stuckLimits,
    collectors: collectors ?? realCollectors(config, endpoints),
    log,
    security: { apiToken: config.apiToken, metricsRequireToken: config.metricsRequireToken, corsOrigins: config.corsOrigins },
    chaosPort: config.chaosPort,
    memoryLimitBytes: config.memoryLimitBytes,
  });
  await supervisor.start();
  const where = `http://${browsable(config.host)}:${supervisor.port}`;
  if (demo) {
    const why = config.databaseUrl === undefined ? 'no DATABASE_URL' : 'RUNTIME_DEMO=on: DATABASE_URL is not read';
    log.info(`running on the EMBEDDED DEMO MARKET (${why}): API ${where}/api/v2/runtime/state, `
      + `dashboards ${where}/api/v2/runtime/dashboard and ${where}/api/v2/runtime/dashboard-app`);
  } else {
    log.info({ database: redactUrl(endpoints.databaseUrl), chart_repo: endpoints.chartRepoHost },
      `market-runtime listening: API ${where}/api/v2/runtime/state`);
  }
  if (!config.apiToken) log.warn('RUNTIME_API_TOKEN is not set: the API is open to anyone who can reach the port');
  return {
    supervisor,
    async stop() {
      await supervisor.stop();
      await demo?.stop();
    },
  };
}

/** The listening host as a browser's URL names it: any-address as localhost, IPv6 in brackets. */
function browsable(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The embedded demo market's code, loaded only when the demo runs (never with RUNTIME_DEMO=off, nor with a
 * DATABASE_URL). A production install (`npm ci --omit=dev`) has no PGlite: asking it for the demo is a
 * configuration error (exit 2) that says what to set, not a "module not found".
 */
export async function loadDemo(load = () => import('./demo/market.ts')): Promise<typeof import('./demo/market.ts')> {
  try {
    return await load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new ConfigError(['DATABASE_URL: not set (or RUNTIME_DEMO=on), so the sidecar would run its '
      + 'embedded demo market, which this production install does not include (npm ci --omit=dev leaves out PGlite). '
      + 'Set DATABASE_URL to the market\'s PostgreSQL, or install the development dependencies (npm install) to run the demo.']);
  }
}

/**
 * A repeat of the first signal within this long is the same request: Ctrl-C on `npm start` reaches node twice,
 * from the terminal (npm and node share its process group) and again from npm, which forwards SIGINT and SIGTERM.
 */
export const SAME_SIGNAL_MS = 2000;

/**
 * SIGTERM/SIGINT: graceful stop within the shutdown budget, exit 0; a second signal (another one, or the same
 * one again after SAME_SIGNAL_MS) or overrun exits 1.
 */
export function stopOnSignals(sidecar: Sidecar, log: Logger, budgetMs: number): void {
  let first: { signal: string; at: number } | undefined;
  const onSignal = (signal: string) => {
    if (first) {
      if (signal === first.signal && Date.now() - first.at < SAME_SIGNAL_MS) return;
      process.exit(1);
    }
    first = { signal, at: Date.now() };
    log.info({ signal }, 'stopping');
    setTimeout(() => {
      log.error('graceful stop took too long; exiting');
      process.exit(1);
    }, budgetMs + 1500).unref();
    sidecar.stop().then(() => {
      log.info('stopped');
      process.exit(0);
    }, (err) => {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

/** The documented configuration error: one line a problem on stderr, then exit 2. */
function exitOnConfigError(err: unknown): void {
  if (!(err instanceof ConfigError)) return;
  process.stderr.write(err.problems.map((p) => `market-runtime: invalid configuration: ${p}\n`).join(''));
  process.exit(2);
}

/** What to do when the HTTP port cannot be opened: the usual reasons are PORT and HOST. */
export function startHint(message: string, config: Pick<Config, 'port' | 'host'>): string | undefined {
  if (/EADDRINUSE/.test(message)) return `port ${config.port} is taken: set PORT to a free port`;
  if (/EACCES/.test(message)) return `port ${config.port} needs privileges this user lacks: set PORT to 1024 or above`;
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return `HOST ${config.host} does not resolve: set HOST to an address of this machine (0.0.0.0 for all)`;
  if (/EADDRNOTAVAIL/.test(message)) return `HOST ${config.host} is not an address of this machine: set HOST to one (0.0.0.0 for all)`;
  return undefined;
}

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
  const log = createLogger(config.logLevel);
  // whatever escapes is logged as JSON too: nothing but the structured log reaches stdout and stderr
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  logWarningsAsJson(log);
  try {
    const sidecar = await startSidecar(config, log);
    stopOnSignals(sidecar, log, config.shutdownTimeoutMs);
  } catch (err) {
    exitOnConfigError(err);
    const message = err instanceof Error ? err.message : String(err);
    const hint = startHint(message, config);
    log.fatal({ err: message, ...(hint && { hint }) }, 'failed to start');
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
