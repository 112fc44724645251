import type { ComponentStatus } from '../model/index.ts';
import type {
  CacheCountsRow, RenderCountsRow, SourceFreshnessRow, TaskCountsRow,
} from '../sources/market-rows.ts';
import { byCodeUnits } from '../model/code-units.ts';
import { goInstantText } from '../model/go-time.ts';
import { clip } from './tasks.ts';

/** What one components pass read from the market database. */
export interface ComponentStats {
  tasks: TaskCountsRow;
  render: RenderCountsRow[];
  sources: SourceFreshnessRow[];
  cache: CacheCountsRow[];
  server_version: string;
  latency_ms: number;
}

export interface ComponentOptions {
  /** a remote source whose newest catalog row is older than this makes the syncer degraded */
  stalenessMs: number;
  /** the hydrator is unhealthy while a render failed within this window (DEFAULT_RENDER_FAILURE_WINDOW_MS) */
  renderFailureWindowMs?: number;
}

const DEFAULT_RENDER_FAILURE_WINDOW_MS = 10 * 60_000;

export const DEFAULT_STALENESS_MS = 30 * 60_000;
/** cache metrics list at most this many (user, source) pairs, so metrics stay under LIMITS.jsonBytes */
export const CACHE_PAIRS_SHOWN = 300;

const seconds = (ms: number): number => Math.max(0, Math.floor(ms / 1000));

function taskModuleComponent(t: TaskCountsRow, now: Date): ComponentStatus {
  return {
    name: 'task_module',
    healthy: true,
    status: 'running',
    last_check: now.toISOString(),
    metrics: {
      pending_tasks: t.pending,
      running_tasks: t.running,
      // a time, not an age: an age would change (and mint a version) on every pass while nothing changed
      ...(t.oldest_pending_at === null ? {} : { oldest_pending_since: goInstantText(t.oldest_pending_at) }),
    },
  };
}

function renderFailureSum(render: readonly RenderCountsRow[]): number {
  return render.reduce((sum, r) => sum + r.consecutive_failures, 0);
}

/**
 * The market's hydrator, from what it writes (render_status). Unhealthy (with a message) while the market wrote
 * a failing render within the failure window: judged from the rows' own times, so every replica (and a
 * restarted collector) says the same of the same rows, and the verdict flips once when the window passes.
 * Its status stays Go's `running` (Go's hydrator is running or stopped, its loop, which is not visible from
 * outside). The Chart Repo's own hydrator is in `chart_repo`.
 */
function hydratorComponent(
  render: readonly RenderCountsRow[], now: Date, opts: Pick<ComponentOptions, 'renderFailureWindowMs'>,
): ComponentStatus {
  const by = (status: string): number => render.find((r) => r.render_status === status)?.apps ?? 0;
  const failures = renderFailureSum(render);
  const newest = render.reduce<Date | null>(
    (max, r) => (r.newest_failure_at !== null && (max === null || r.newest_failure_at > max) ? r.newest_failure_at : max), null);
  const windowMs = opts.renderFailureWindowMs ?? DEFAULT_RENDER_FAILURE_WINDOW_MS;
  const failing = newest !== null && now.getTime() - newest.getTime() <= windowMs;
  const metrics: Record<string, unknown> = {
    pending: by('pending'),
    success: by('success'),
    failed: by('failed'),
    total: render.reduce((sum, r) => sum + r.apps, 0),
    consecutive_failures: failures,
    // a time, not an age: the same on every pass until the market writes another failure
    ...(newest === null ? {} : { last_failure_at: goInstantText(newest) }),
    // Go's names for what the market's hydrator writes: renders waiting, succeeded, failed (docs/go-wire.md)
    queue_length: by('pending'),
    completed_tasks_count: by('success'),
    failed_tasks_count: by('failed'),
  };
  return {
    name: 'hydrator',
    healthy: !failing,
    status: 'running',
    last_check: now.toISOString(),
    metrics,
    ...(failing ? { message: `renders failing: ${by('failed')} apps, ${failures} consecutive failures, the latest at ${goInstantText(newest)}` } : {}),
  };
}

/** Active remote sources are synced by the market; local ones are uploads, so their age says nothing. */
function syncerWatches(s: SourceFreshnessRow): boolean {
  return s.is_active === true && s.source_type !== 'local';
}

function syncerComponent(sources: readonly SourceFreshnessRow[], now: Date, stalenessMs: number): ComponentStatus {
  const perSource: Record<string, unknown> = {};
  const stale: string[] = [];
  for (const s of [...sources].sort((a, b) => byCodeUnits(a.source_id, b.source_id))) {
    const age = s.newest_update === null ? null : seconds(now.getTime() - s.newest_update.getTime());
    const isStale = syncerWatches(s) && (age === null || age * 1000 > stalenessMs);
    perSource[s.source_id] = {
      source_type: s.source_type,
      is_active: s.is_active,
      apps: s.apps,
      newest_update: s.newest_update === null ? null : goInstantText(s.newest_update),
      stale: isStale,
    };
    // "since <time>", not an age in minutes: the message stays the same while nothing changes
    if (isStale) stale.push(s.newest_update === null ? `${s.source_id} (no catalog rows)` : `${s.source_id} (since ${goInstantText(s.newest_update)})`);
  }
  // Go's last_sync_time: the newest catalog row of the sources the syncer keeps (a time, not an age). Go's
  // other syncer keys (its steps, current source, counts, success rate, failures, details) are the state of
  // the market's syncer loop, which no table holds: left out, never guessed (README, Go keys a sidecar cannot know)
  const newest = sources.filter(syncerWatches).reduce<Date | null>(
    (max, s) => (s.newest_update !== null && (max === null || s.newest_update > max) ? s.newest_update : max), null);
  return {
    name: 'syncer',
    healthy: stale.length === 0,
    status: stale.length === 0 ? 'running' : 'degraded',
    last_check: now.toISOString(),
    metrics: {
      staleness_bound_s: seconds(stalenessMs), stale_sources: stale.length, sources: perSource,
      ...(newest === null ? {} : { last_sync_time: goInstantText(newest) }),
    },
    ...(stale.length === 0 ? {} : { message: clip(`catalog not updated: ${stale.join(', ')}`) }),
  };
}

function cacheComponent(cache: readonly CacheCountsRow[], now: Date, render: readonly RenderCountsRow[] = []): ComponentStatus {
  const users = new Set(cache.map((c) => c.user_id));
  const shown = [...cache]
    .sort((a, b) => b.user_applications - a.user_applications || byCodeUnits(a.user_id, b.user_id)
      || byCodeUnits(a.source_id, b.source_id))
    .slice(0, CACHE_PAIRS_SHOWN);
  const byUser: Record<string, Record<string, { user_applications: number; states: number }>> = {};
  for (const c of shown) {
    (byUser[c.user_id] ??= {})[c.source_id] = { user_applications: c.user_applications, states: c.states };
  }
  // per source over every pair (by_user holds the largest pairs only): what the pages show per source
  const bySource: Record<string, { user_applications: number; users: number }> = {};
  for (const c of cache) {
    const s = (bySource[c.source_id] ??= { user_applications: 0, users: 0 });
    s.user_applications += c.user_applications;
    s.users += 1;
  }
  return {
    name: 'cache',
    healthy: true,
    status: 'running',
    last_check: now.toISOString(),
    metrics: {
      users: users.size,
      user_applications: cache.reduce((sum, c) => sum + c.user_applications, 0),
      app_states: cache.reduce((sum, c) => sum + c.states, 0),
      pairs: cache.length,
      pairs_truncated: cache.length > shown.length,
      by_user: byUser,
      by_source: bySource,
      // Go's cache stats, from the same tables the market's cache is loaded from (docs/go-wire.md)
      total_users: users.size,
      total_sources: new Set(cache.map((c) => c.source_id)).size,
      total_apps: cache.reduce((sum, c) => sum + c.user_applications, 0),
      total_app_state_latest: cache.reduce((sum, c) => sum + c.states, 0),
      total_app_info_latest: render.find((r) => r.render_status === 'success')?.apps ?? 0,
      total_app_info_pending: render.find((r) => r.render_status === 'pending')?.apps ?? 0,
    },
  };
}

/** The query latency is freshness, not content: it travels in the components source's counters (latency_ms). */
function postgresComponent(stats: Pick<ComponentStats, 'server_version'>, now: Date): ComponentStatus {
  return {
    name: 'postgres',
    healthy: true,
    status: 'running',
    last_check: now.toISOString(),
    metrics: { server_version: stats.server_version },
  };
}

/** One pass's components from the database stats. */
export function normalizeComponents(stats: ComponentStats, now: Date, opts: ComponentOptions): ComponentStatus[] {
  return [
    taskModuleComponent(stats.tasks, now),
    hydratorComponent(stats.render, now, opts),
    syncerComponent(stats.sources, now, opts.stalenessMs),
    cacheComponent(stats.cache, now, stats.render),
    postgresComponent(stats, now),
  ];
}

/**
 * When the database cannot be read: postgres and task_module (whose health is "the database
 * answers") turn unhealthy, keeping their last metrics. task_module keeps Go's status (always `running`
 * in Go): the trouble is in `healthy` and `message`; postgres is ours and says `error`. The other
 * components are left as they were. `answered`: the server was reached and refused the query (a missing
 * table, a revoked grant), which an operator fixes elsewhere than a network.
 */
export function databaseDown(error: string, now: Date, last: ReadonlyMap<string, ComponentStatus>, answered = false): ComponentStatus[] {
  const message = clip(`${answered ? 'database query failed' : 'database unreachable'}: ${error}`);
  return ['postgres', 'task_module'].map((name) => {
    const prev = last.get(name);
    return {
      name,
      healthy: false,
      status: name === 'task_module' ? 'running' : 'error',
      last_check: now.toISOString(),
      ...(prev?.metrics ? { metrics: prev.metrics } : {}),
      message,
    };
  });
}

