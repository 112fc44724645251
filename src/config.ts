import { isIP } from 'node:net';
import * as v from 'valibot';
import type { StuckLimits } from './store/stuck.ts';

/** The only reader of process.env: environment -> validated Config (README.md, Configuration). */

const int = (name: string, min: number, max: number) => v.pipe(
  v.string(),
  v.trim(),
  // the README writes the STUCK_* limits as durations (90s, 30m): a *_MS or *_MB value is a plain number
  v.regex(/^\d+$/, `${name} must be a whole number${name.endsWith('_MS') ? ' of milliseconds (5000 for 5 s)'
    : name.endsWith('_MB') ? ' of MiB (1024 for 1 GiB)' : ''}`),
  v.transform(Number),
  v.minValue(min, `${name} must be at least ${min}`),
  v.maxValue(max, `${name} must be at most ${max}`),
);

const duration = (name: string) => v.pipe(
  v.string(), v.trim(),
  v.regex(/^\d+(ms|s|m|h)$/, `${name} must be a duration like 90s, 30m or 2h`),
  v.transform((s) => {
    const [, n, unit] = /^(\d+)(ms|s|m|h)$/.exec(s)!;
    return Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }),
  v.minValue(1000, `${name} must be at least 1s`),
);

const hostPort = v.pipe(
  v.string(), v.trim(),
  v.regex(/^[A-Za-z0-9.\-_]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/, 'CHART_REPO_SERVICE_HOST must be host or host:port'),
  v.check((s) => {
    const port = /\]?:(\d+)$/.exec(s)?.[1];
    return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
  }, 'CHART_REPO_SERVICE_HOST must have a port from 1 to 65535'),
);

/** what node:net listens on: an IP address or a host name */
const listenHost = v.pipe(
  v.string(), v.trim(),
  v.check((s) => isIP(s) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9\-_.]*[A-Za-z0-9])?$/.test(s),
    'HOST must be an IP address (0.0.0.0, ::) or a host name'),
);

/**
 * A secret read from a file (a Kubernetes Secret, `--from-file`) often ends in a newline: trimmed, as every
 * other variable. What remains must be one header-safe word, or no client could ever send it.
 */
const apiToken = v.pipe(
  v.string(), v.trim(),
  v.minLength(16, 'RUNTIME_API_TOKEN must be at least 16 characters (spaces around it do not count)'),
  v.regex(/^[\x21-\x7e]+$/, 'RUNTIME_API_TOKEN must be printable ASCII without spaces (a client sends it in the Authorization header)'),
);

const url = (name: string, protocols: string[], hostRequired = true) => v.pipe(
  v.string(), v.trim(),
  v.check((s) => {
    try {
      const u = new URL(s);
      return protocols.includes(u.protocol) && (hostRequired === false || u.hostname !== '');
    } catch {
      return false;
    }
  }, `${name} must be a URL with scheme ${protocols.map((p) => p.replace(':', '')).join(' or ')}${hostRequired ? ' and a host' : ''}`),
);

const EnvSchema = v.object({
  PORT: v.optional(int('PORT', 0, 65535), '8080'),
  HOST: v.optional(listenHost, '0.0.0.0'),
  /** no host required: `postgres:///market?host=/run/postgresql` (a Unix socket) is the libpq form */
  DATABASE_URL: v.optional(url('DATABASE_URL', ['postgres:', 'postgresql:'], false)),
  RUNTIME_DEMO: v.optional(v.picklist(['auto', 'on', 'off'], 'RUNTIME_DEMO must be auto, on or off'), 'auto'),
  CHART_REPO_SERVICE_HOST: v.optional(hostPort, 'localhost:82'),
  NATS_URL: v.optional(url('NATS_URL', ['nats:', 'tls:', 'ws:', 'wss:'])),
  NATS_SUBJECT_SYSTEM_APP_STATE: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^[^\s]+$/, 'NATS_SUBJECT_SYSTEM_APP_STATE must be a subject without spaces')),
    'os.application.*',
  ),
  COLLECT_INTERVAL_MS: v.optional(int('COLLECT_INTERVAL_MS', 100, 3_600_000), '5000'),
  COLLECT_DEADLINE_MS: v.optional(int('COLLECT_DEADLINE_MS', 100, 3_600_000)),
  /** the longest a source may go between passes when its passes are slow (supervisor/collector-pacing.ts) */
  COLLECT_MAX_INTERVAL_MS: v.optional(int('COLLECT_MAX_INTERVAL_MS', 100, 3_600_000), '30000'),
  RECENT_TASK_LIMIT: v.optional(int('RECENT_TASK_LIMIT', 0, 100_000), '100'),
  CHART_REPO_TIMEOUT_MS: v.optional(int('CHART_REPO_TIMEOUT_MS', 100, 600_000), '5000'),
  /** Chart Repo requests in flight at once */
  CHART_REPO_CONCURRENCY: v.optional(int('CHART_REPO_CONCURRENCY', 1, 64), '4'),
  /** the Chart Repo's passes are spaced so that on average no more than this many requests go per second */
  CHART_REPO_MAX_RPS: v.optional(int('CHART_REPO_MAX_RPS', 1, 100_000), '30'),
  /** an active remote source whose newest catalog row is older than this makes the syncer degraded */
  SYNCER_STALE_AFTER_MS: v.optional(int('SYNCER_STALE_AFTER_MS', 1000, 30 * 24 * 3_600_000), '1800000'),
  RUNTIME_API_TOKEN: v.optional(apiToken),
  LOG_LEVEL: v.optional(
    v.picklist(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'),
    'info',
  ),
  SHUTDOWN_TIMEOUT_MS: v.optional(int('SHUTDOWN_TIMEOUT_MS', 100, 60_000), '8000'),
  STUCK_FETCHING: v.optional(duration('STUCK_FETCHING'), '15m'),
  STUCK_HYDRATING: v.optional(duration('STUCK_HYDRATING'), '15m'),
  STUCK_INSTALLING: v.optional(duration('STUCK_INSTALLING'), '30m'),
  STUCK_UPGRADING: v.optional(duration('STUCK_UPGRADING'), '30m'),
  STUCK_UNINSTALLING: v.optional(duration('STUCK_UNINSTALLING'), '15m'),
  STUCK_TASK_PENDING: v.optional(duration('STUCK_TASK_PENDING'), '30m'),
  STUCK_TASK_RUNNING: v.optional(duration('STUCK_TASK_RUNNING'), '60m'),
  STUCK_STALLED: v.optional(duration('STUCK_STALLED'), '10m'),
  /** the process's memory budget; default: the container's limit (cgroup). Each thread's heap limit is a share of it */
  MEMORY_LIMIT_MB: v.optional(int('MEMORY_LIMIT_MB', 128, 1_048_576)),
  RUNTIME_CHAOS_PORT: v.optional(int('RUNTIME_CHAOS_PORT', 1, 65535)),
  METRICS_REQUIRE_TOKEN: v.optional(v.picklist(['true', 'false'], 'METRICS_REQUIRE_TOKEN must be true or false'), 'true'),
  CORS_ORIGINS: v.optional(v.pipe(
    v.string(),
    v.transform((s) => s.split(',').map((o) => o.trim()).filter((o) => o !== '')),
    v.check((list) => list.every((o) => o === '*' || /^https?:\/\/[^\s/]+$/.test(o)),
      'CORS_ORIGINS must be * or a comma-separated list of origins like https://market.example.com'),
  )),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  demo: boolean;
  chartRepoHost: string;
  natsUrl: string | undefined;
  natsSubject: string;
  collectIntervalMs: number;
  /** COLLECT_MAX_INTERVAL_MS, at least collectIntervalMs: slow passes space out up to this */
  collectMaxIntervalMs: number;
  /** a run is told to stop at this; its thread is replaced if it has not ended 2 s later */
  collectDeadlineMs: number;
  recentTaskLimit: number;
  chartRepoTimeoutMs: number;
  /** CHART_REPO_CONCURRENCY: requests in flight at once */
  chartRepoConcurrency: number;
  /** CHART_REPO_MAX_RPS: requests per second on average over passes (the freshness bound wins: collectMaxIntervalMs) */
  chartRepoMaxRps: number;
  /** SYNCER_STALE_AFTER_MS: catalog age after which the syncer component is degraded */
  syncerStaleAfterMs: number;
  apiToken: string | undefined;
  logLevel: string;
  shutdownTimeoutMs: number;
  /** when transitional stages and active tasks count as stuck */
  stuckLimits: StuckLimits;
  /** with RUNTIME_API_TOKEN set, /metrics needs the token too (default true) */
  metricsRequireToken: boolean;
  /** origins allowed by CORS; undefined = CORS off (no CORS headers at all) */
  corsOrigins: string[] | undefined;
  /** chaos testing only: a loopback port where `POST /kill?thread=…` kills a thread (off when unset) */
  chaosPort: number | undefined;
  /** MEMORY_LIMIT_MB in bytes; undefined = the container's own limit, if any (thread-limits.ts) */
  memoryLimitBytes: number | undefined;
}

/** One line a problem: `invalid configuration: <VARIABLE>: <why>` (main prefixes `market-runtime: `). */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.map((p) => `invalid configuration: ${p}`).join('\n'));
  }
}

/** Validates the environment. Empty strings count as unset (a common artefact of templated manifests). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(EnvSchema.entries)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = v.safeParse(EnvSchema, input);
  if (!parsed.success) {
    throw new ConfigError(parsed.issues.map((i) => {
      const key = i.path?.[0]?.key;
      if (typeof key !== 'string') return `environment: ${i.message}`;
      // the messages name their variable (they read well alone); the line names it once
      return `${key}: ${i.message.startsWith(`${key} `) ? i.message.slice(key.length + 1) : i.message}`;
    }));
  }
  const e = parsed.output;
  const demo = e.RUNTIME_DEMO === 'on' || (e.RUNTIME_DEMO === 'auto' && e.DATABASE_URL === undefined);
  if (!demo && e.DATABASE_URL === undefined) {
    throw new ConfigError(['DATABASE_URL: required when RUNTIME_DEMO is off']);
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    demo,
    chartRepoHost: e.CHART_REPO_SERVICE_HOST,
    natsUrl: e.NATS_URL,
    natsSubject: e.NATS_SUBJECT_SYSTEM_APP_STATE,
    collectIntervalMs: e.COLLECT_INTERVAL_MS,
    collectMaxIntervalMs: Math.max(e.COLLECT_INTERVAL_MS, e.COLLECT_MAX_INTERVAL_MS),
    collectDeadlineMs: e.COLLECT_DEADLINE_MS ?? Math.max(3 * e.COLLECT_INTERVAL_MS, e.CHART_REPO_TIMEOUT_MS * 3, 15_000),
    recentTaskLimit: e.RECENT_TASK_LIMIT,
    chartRepoTimeoutMs: e.CHART_REPO_TIMEOUT_MS,
    chartRepoConcurrency: e.CHART_REPO_CONCURRENCY,
    chartRepoMaxRps: e.CHART_REPO_MAX_RPS,
    syncerStaleAfterMs: e.SYNCER_STALE_AFTER_MS,
    apiToken: e.RUNTIME_API_TOKEN,
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    stuckLimits: {
      stages: {
        fetching: e.STUCK_FETCHING, hydrating: e.STUCK_HYDRATING, installing: e.STUCK_INSTALLING,
        upgrading: e.STUCK_UPGRADING, uninstalling: e.STUCK_UNINSTALLING,
      },
      taskPendingMs: e.STUCK_TASK_PENDING,
      taskRunningMs: e.STUCK_TASK_RUNNING,
      progressStalledMs: e.STUCK_STALLED,
    },
    metricsRequireToken: e.METRICS_REQUIRE_TOKEN === 'true',
    corsOrigins: e.CORS_ORIGINS && e.CORS_ORIGINS.length > 0 ? e.CORS_ORIGINS : undefined,
    chaosPort: e.RUNTIME_CHAOS_PORT,
    memoryLimitBytes: e.MEMORY_LIMIT_MB === undefined ? undefined : e.MEMORY_LIMIT_MB * 2 ** 20,
  };
}

/** A URL with its password replaced, for logs and error messages. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
