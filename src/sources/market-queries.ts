import { performance } from 'node:perf_hooks';
import type { ComponentStats } from '../collect/components.ts';
import {
  AppListingRow, CacheCountsRow, ChangedAppRow, ListedAppRow, listingBuckets, ListingProbeRow, RenderCountsRow, ROW_ID, SnapshotRow,
  SourceFreshnessRow, TaskCountsRow, TaskRow, validateAppRows, validateRows, XID8, type ListingProbe, type MisfitAppRow, type ValidRows,
} from './market-rows.ts';
import type { PgSource } from './postgres.ts';

/**
 * The sidecar's reads of the market database (docs/architecture.md, Sources). Each function is one PgSource.read: one
 * read-only snapshot. Every result is validated row by row; `dropped` counts the rows that did not fit.
 */

/** bounds a pathological backlog: the view shows at most this many active tasks (the oldest; readTasks says when more wait) */
export const ACTIVE_TASK_CAP = 10_000;

const TASK_COLUMNS = `task_id, type, status, app_name, user_account, op_id, metadata, result, error_msg,
  created_at, started_at, completed_at`;

const ACTIVE_TASKS = `SELECT TRUE AS active, ${TASK_COLUMNS} FROM task_records
  WHERE status IN (1, 2) ORDER BY created_at, id LIMIT ${ACTIVE_TASK_CAP + 1}`;

/**
 * When a finished task finished, for "most recent": a time that is not finite ('infinity', which no real task
 * has) sorts last, so hostile rows cannot push every real task out of the recent ones.
 */
const FINISHED_AT = `(CASE WHEN isfinite(COALESCE(completed_at, started_at, created_at))
    THEN COALESCE(completed_at, started_at, created_at) END)`;

/** Pending and running tasks, plus the `recentLimit` most recent others. */
function recentTasksSql(recentLimit: number): string {
  const limit = Math.max(0, Math.floor(recentLimit));
  return `SELECT FALSE AS active, ${TASK_COLUMNS} FROM task_records
    WHERE status NOT IN (1, 2)
    ORDER BY ${FINISHED_AT} DESC NULLS LAST, id DESC LIMIT ${limit}`;
}

export async function readTasks(pg: PgSource, signal: AbortSignal, recentLimit: number):
  Promise<ValidRows<TaskRow> & { activeCapped: boolean }> {
  const [active, recent] = await pg.read(signal, [ACTIVE_TASKS, recentTasksSql(recentLimit)]);
  // (one past the cap is read to tell a backlog that fits from one that does not)
  const activeCapped = active.length > ACTIVE_TASK_CAP;
  return { ...validateRows(TaskRow, [...active.slice(0, ACTIVE_TASK_CAP), ...recent]), activeCapped };
}

/**
 * user_applications with their state row, limited to rows that can be installs: a non-empty state, or
 * an active task for the same user and app. Catalog rows (one per user per catalog app) never are, and
 * there are far more of them.
 */
const APP_FROM = `FROM user_applications ua
  LEFT JOIN user_application_states s ON s.user_application_id = ua.id`;
const MAYBE_INSTALLED = `((s.state IS NOT NULL AND btrim(s.state) <> '')
    OR EXISTS (SELECT 1 FROM task_records t
               WHERE t.status IN (1, 2) AND t.user_account = ua.user_id AND t.app_name = ua.app_name))`;
/**
 * The version of both rows: PostgreSQL's xmin changes with every UPDATE (and a deleted or new state row
 * changes the text), whatever the market does with updated_at. Cheap: no column is decoded.
 */
const ROW_VERSION = `ua.xmin::text || ':' || COALESCE(s.xmin::text, '') AS row_version`;
const APP_COLUMNS = `ua.id, ${ROW_VERSION}, ua.user_id, ua.source_id, ua.app_id, ua.app_name, ua.app_raw_name,
    ua.manifest_type, ua.metadata, ua.entrances, ua.updated_at AS app_updated_at,
    s.state, s.installed_version, s.target_version, s.is_sys_app, s.reason, s.message, s.progress, s.op_id,
    s.op_type, s.event_create_time, s.shared_entrances, s.status_entrances, s.updated_at AS state_updated_at`;
const APP_ORDER = 'ORDER BY ua.user_id, ua.source_id, ua.app_name';

/**
 * The rows that can be installs, ids and versions only: a row's key cannot change without its version. Unordered:
 * the rows read by id come in APP_ORDER.
 */
const APP_LISTING = `SELECT ua.id, ${ROW_VERSION} ${APP_FROM} WHERE ${MAYBE_INSTALLED}`;

/** The app rows (APP_COLUMNS) of the given user_applications ids, inlined (PgSource.read takes no parameters): digits only. */
function appRowsByIdSql(ids: readonly string[]): string {
  for (const id of ids) if (!ROW_ID.test(id)) throw new Error(`not a row id: ${JSON.stringify(String(id).slice(0, 40))}`);
  return `SELECT ${APP_COLUMNS} ${APP_FROM}
    WHERE ua.id = ANY('{${ids.join(',')}}'::bigint[]) AND ${MAYBE_INSTALLED} ${APP_ORDER}`;
}

/**
 * The snapshot's xmin: every change a read did not see was made by a transaction whose id is at least that (those
 * that had ended were all visible to it), so it is the watermark the next pass reads changes from.
 */
const SNAPSHOT = 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin';

/**
 * Buckets of the listing probe. A pass names the rows deleted from a bucket when at most two of its rows left in
 * the same pass (sums of ids and of their squares); with d deletions a pass, three sharing a bucket is about
 * d^3 / (6 * buckets^2) likely. Measured at 10,000 apps with the demo's heavy churn (tens of deletions a pass):
 * sums of ids alone sent 1 pass in 3 to a full listing with 256 buckets and 1 in 5 with 2,048; with the squares
 * and 1,024 buckets, 3 passes in 66. Every bucket is read and validated every pass (in the probe's one row).
 */
export const LISTING_BUCKETS = 1024;

/**
 * The listing in buckets by id: per bucket its rows, the sum of their ids and of their squares, and how many have
 * a state row. A bucket one or two rows short of what the collector knows names the rows that left (from the
 * differences of the sums: app-flow-memory.ts rowsGone). One row: the buckets as text (ListingProbeRow).
 */
const LISTING_PROBE = `SELECT string_agg(concat_ws(' ', bucket, listed, ids, squares, with_state), ',') AS buckets FROM (
    SELECT (ua.id % ${LISTING_BUCKETS})::int AS bucket, count(*) AS listed, sum(ua.id)::text AS ids,
      sum(ua.id::numeric * ua.id)::text AS squares, count(s.user_application_id) AS with_state
    ${APP_FROM} WHERE ${MAYBE_INSTALLED} GROUP BY 1) b`;

/**
 * The app rows whose row, state row or a task of the same user and app was written by a transaction at or after
 * the watermark (a 64-bit xid, inlined: digits only), listed or not: what can have changed since the read that
 * took it. xmin is a 32-bit xid, compared by age(), which is wraparound-safe for the 2^31 transactions before
 * now; the watermark is checked to be within that by the caller.
 */
function changedAppRowsSql(watermark: string): string {
  if (!XID8.test(watermark)) throw new Error(`not a transaction id: ${JSON.stringify(String(watermark).slice(0, 40))}`);
  const xid = `'${BigInt(watermark) % 4294967296n}'::xid`;
  return `SELECT ${APP_COLUMNS}, ${MAYBE_INSTALLED} AS listed ${APP_FROM}
    WHERE age(ua.xmin) <= age(${xid}) OR age(s.xmin) <= age(${xid})
       OR EXISTS (SELECT 1 FROM task_records t
                  WHERE t.user_account = ua.user_id AND t.app_name = ua.app_name AND age(t.xmin) <= age(${xid}))
    ${APP_ORDER}`;
}

type Validated<T> = { rows: T[]; dropped: number };
/** app rows: those that do not fit and still say which row they are come apart (market-rows.ts validateAppRows) */
type WithMisfits<T> = Validated<T> & { firstProblem?: string; misfits: MisfitAppRow[] };

/** The snapshot row (one that does not validate fails the read: nothing can be judged without it). */
function xminOf(rows: readonly Record<string, unknown>[]): string {
  const { rows: [snapshot] } = validateRows(SnapshotRow, rows);
  if (!snapshot) throw new Error('the snapshot xmin did not read');
  return snapshot.xmin;
}

/**
 * From one snapshot: its xmin and the listing's buckets, the active tasks, the rows changed since `watermark`,
 * and the rows of `ids` (rows the collector reads again whatever their version).
 */
export async function readAppChanges(pg: PgSource, signal: AbortSignal, watermark: string, ids: readonly string[]): Promise<{
  probe: ListingProbe; changed: WithMisfits<ChangedAppRow>; byId: WithMisfits<ListedAppRow>; tasks: Validated<TaskRow>;
}> {
  const selects = [SNAPSHOT, LISTING_PROBE, ACTIVE_TASKS, changedAppRowsSql(watermark)];
  if (ids.length > 0) selects.push(appRowsByIdSql(ids));
  const [snapshot, buckets, tasks, changed, byId = []] = await pg.read(signal, selects);
  const [probe] = validateRows(ListingProbeRow, buckets!).rows;
  return {
    // a probe that does not validate cannot be judged: null, and the pass lists instead
    probe: { xmin: xminOf(snapshot!), buckets: probe === undefined ? null : listingBuckets(probe) },
    tasks: validateRows(TaskRow, tasks!), changed: validateAppRows(ChangedAppRow, changed!), byId: validateAppRows(ListedAppRow, byId),
  };
}

/** Every app row and the active tasks (for the override) from one snapshot. */
/** The app rows' ids and versions, and the active tasks, from one snapshot: what tells a pass what changed. */
export async function readAppListing(pg: PgSource, signal: AbortSignal): Promise<{
  listing: Validated<AppListingRow>; tasks: Validated<TaskRow>; xmin: string;
}> {
  const [listing, tasks, snapshot] = await pg.read(signal, [APP_LISTING, ACTIVE_TASKS, SNAPSHOT]);
  return { listing: validateRows(AppListingRow, listing!), tasks: validateRows(TaskRow, tasks!), xmin: xminOf(snapshot!) };
}

/** The app rows of the given ids that still can be installs (a row gone since it was listed is not answered). */
export async function readAppRows(pg: PgSource, signal: AbortSignal, ids: readonly string[]): Promise<WithMisfits<ListedAppRow>> {
  if (ids.length === 0) return { rows: [], dropped: 0, misfits: [] };
  const [rows] = await pg.read(signal, [appRowsByIdSql(ids)]);
  return validateAppRows(ListedAppRow, rows);
}

const ZERO_TASK_COUNTS: TaskCountsRow = { pending: 0, running: 0, oldest_pending_at: null };

const STATS = [
  `SELECT count(*) FILTER (WHERE status = 1) AS pending,
          count(*) FILTER (WHERE status = 2) AS running,
          min(created_at) FILTER (WHERE status = 1) AS oldest_pending_at
   FROM task_records WHERE status IN (1, 2)`,
  `SELECT render_status, count(*) AS apps, COALESCE(sum(render_consecutive_failures), 0) AS consecutive_failures,
          max(updated_at) FILTER (WHERE render_consecutive_failures > 0) AS newest_failure_at
   FROM user_applications GROUP BY render_status ORDER BY render_status`,
  `SELECT COALESCE(m.source_id, a.source_id) AS source_id, m.source_type, m.is_active,
          COALESCE(a.apps, 0) AS apps, a.newest_update
   FROM market_sources m
   FULL OUTER JOIN (SELECT source_id, count(*) AS apps, max(updated_at) AS newest_update
                    FROM applications GROUP BY source_id) a ON a.source_id = m.source_id
   ORDER BY 1`,
  `SELECT ua.user_id, ua.source_id, count(*) AS user_applications, count(s.id) AS states
   FROM user_applications ua LEFT JOIN user_application_states s ON s.user_application_id = ua.id
   GROUP BY ua.user_id, ua.source_id ORDER BY 1, 2`,
];

/** Everything the components need. Latency is a round trip of the smallest read, the version query. */
export async function readComponentStats(pg: PgSource, signal: AbortSignal):
  Promise<{ stats: ComponentStats; dropped: number }> {
  const t0 = performance.now();
  const [[version]] = await pg.read(signal, [`SELECT current_setting('server_version') AS server_version`]);
  const latency_ms = performance.now() - t0;
  const [tasks, renderRows, sourceRows, cacheRows] = await pg.read(signal, STATS);
  const taskCounts = validateRows(TaskCountsRow, tasks);
  const render = validateRows(RenderCountsRow, renderRows);
  const sources = validateRows(SourceFreshnessRow, sourceRows);
  const cache = validateRows(CacheCountsRow, cacheRows);
  const serverVersion = typeof version?.server_version === 'string' ? version.server_version : 'unknown';
  return {
    stats: {
      tasks: taskCounts.rows[0] ?? ZERO_TASK_COUNTS,
      render: render.rows,
      sources: sources.rows,
      cache: cache.rows,
      server_version: serverVersion.slice(0, 128),
      latency_ms,
    },
    dropped: taskCounts.dropped + render.dropped + sources.dropped + cache.dropped,
  };
}
