import * as v from 'valibot';
import { Id } from '../model/index.ts';

/**
 * Shapes of the rows the market queries return (sources/market-queries.ts). Validated at the boundary:
 * a row that does not fit is dropped and counted, never thrown. Free text is not bounded here (the
 * normalizers cut it to LIMITS.text) so a long error message never costs the whole row.
 */
const date = v.date();
const nullableDate = v.nullable(v.date());
const int = v.pipe(v.number(), v.integer());
/**
 * A count: postgres.js gives an int8 as a string, an int4 as a number. A check, not a union: a union builds an issue
 * (message, path) for every value not of its first type, one for every count(*) a read validates.
 */
const isCountLike = (x: unknown): x is number | string | bigint => typeof x === 'number' || typeof x === 'string' || typeof x === 'bigint';
const count = v.pipe(v.custom<number | string | bigint>(isCountLike, 'Invalid type: Expected number | string | bigint'), v.transform(Number), v.number(), v.finite());
const text = v.string();
/** columns that are NOT NULL in our DDL but may be NULL in an older market schema */
const textOrNull = v.pipe(v.nullable(v.string()), v.transform((s) => s ?? ''));
/** an optional identifier column: NULL reads as '' (Go's zero string) */
const idOrEmpty = v.pipe(v.nullable(Id), v.transform((s) => s ?? ''));

export const TaskRow = v.object({
  /** true for rows of the active query (status pending or running) */
  active: v.boolean(),
  task_id: Id,
  type: int,
  status: int,
  app_name: Id,
  user_account: idOrEmpty,
  op_id: idOrEmpty,
  metadata: v.nullable(text),
  result: textOrNull,
  error_msg: textOrNull,
  created_at: date,
  started_at: nullableDate,
  completed_at: nullableDate,
});
export type TaskRow = v.InferOutput<typeof TaskRow>;

/** user_applications LEFT JOIN user_application_states: state columns are null without a state row */
export const AppRow = v.object({
  user_id: Id,
  source_id: Id,
  app_id: Id,
  app_name: Id,
  app_raw_name: idOrEmpty,
  manifest_type: idOrEmpty,
  /** JSONB {icon, title}; read leniently by the normalizer (a bad value loses the icon/title, not the row) */
  metadata: v.unknown(),
  /** JSONB: the manifest's entrance declarations; validated item by item by the normalizer */
  entrances: v.unknown(),
  app_updated_at: date,
  /** null = no user_application_states row */
  state: v.nullable(text),
  installed_version: idOrEmpty,
  target_version: idOrEmpty,
  is_sys_app: v.pipe(v.nullable(v.boolean()), v.transform((b) => b ?? false)),
  reason: textOrNull,
  message: textOrNull,
  progress: textOrNull,
  op_id: textOrNull,
  op_type: textOrNull,
  event_create_time: nullableDate,
  /** JSONB, passed on as the market sends it (bounded by the normalizer) */
  shared_entrances: v.unknown(),
  /** JSONB; validated item by item by the normalizer */
  status_entrances: v.unknown(),
  state_updated_at: nullableDate,
});
export type AppRow = v.InferOutput<typeof AppRow>;

/** an int8 in decimal: what may be inlined in SQL as a row id */
export const ROW_ID = /^-?[0-9]{1,19}$/;
/** user_applications.id as postgres.js gives an int8 (a string) */
const RowId = v.pipe(v.union([v.string(), v.number(), v.bigint()]), v.transform(String), v.regex(ROW_ID));

/** which row, and its version: PostgreSQL's xmin of the app row and of its state row (any UPDATE moves it) */
const listed = { id: RowId, row_version: text };

/** One row of the app listing: which row, at which version (sources/market-queries.ts readAppListing). */
export const AppListingRow = v.object(listed);
export type AppListingRow = v.InferOutput<typeof AppListingRow>;

/** An app row with its row id and version. */
export const ListedAppRow = v.object({ ...AppRow.entries, ...listed });
export type ListedAppRow = v.InferOutput<typeof ListedAppRow>;

/** An app row changed since a watermark, listed or not (`listed`: it can be an install: it is in the listing). */
export const ChangedAppRow = v.object({ ...ListedAppRow.entries, listed: v.boolean() });
export type ChangedAppRow = v.InferOutput<typeof ChangedAppRow>;

/** What still says which row and version a listed app row is when the rest of it does not fit. */
const MisfitKey = v.object({ ...listed, listed: v.optional(v.boolean(), true) });

/**
 * A listed app row that does not fit ListedAppRow: which row, at which version, listed or not, and why. The
 * collector knows it at its version (not read again until it changes) and names it in its warning.
 */
export interface MisfitAppRow {
  id: string;
  row_version: string;
  listed: boolean;
  problem: string;
}

/** a 64-bit transaction id in decimal (pg_snapshot_xmin as text) */
export const XID8 = /^[0-9]{1,20}$/;

/** A read's snapshot xmin (pg_snapshot_xmin as text). */
export const SnapshotRow = v.object({ xmin: v.pipe(v.string(), v.regex(XID8)) });
export type SnapshotRow = v.InferOutput<typeof SnapshotRow>;

/** One bucket of the listing (rows by id modulo LISTING_BUCKETS): how many rows, the sums of their ids and of their squares, how many have a state row. */
export interface ListingBucket {
  bucket: number;
  listed: number;
  ids: string;
  squares: string;
  with_state: number;
}

/** one bucket as the probe's text gives it: `bucket listed ids squares with_state` */
const BUCKET_TEXT = '-?[0-9]{1,5} [0-9]{1,19} -?[0-9]{1,40} [0-9]{1,80} [0-9]{1,19}';

/**
 * The listing probe as one row: its buckets as text, comma-separated (NULL: no rows listed). One row, not one per
 * bucket: a thousand rows a pass, each decoded and validated, were a fifth of what the app_flow collector spent.
 */
export const ListingProbeRow = v.object({
  buckets: v.nullable(v.pipe(v.string(), v.regex(new RegExp(`^${BUCKET_TEXT}(?:,${BUCKET_TEXT})*$`)))),
});
export type ListingProbeRow = v.InferOutput<typeof ListingProbeRow>;

/** The buckets of a probe row that validated (ListingProbeRow). */
export function listingBuckets(row: ListingProbeRow): ListingBucket[] {
  if (row.buckets === null) return [];
  return row.buckets.split(',').map((b) => {
    const [bucket, listed, ids, squares, withState] = b.split(' ') as [string, string, string, string, string];
    return { bucket: Number(bucket), listed: Number(listed), ids, squares, with_state: Number(withState) };
  });
}

/** What a changes read says about the listing: its snapshot's xmin and its buckets (empty buckets absent). */
export interface ListingProbe {
  xmin: string;
  /** null: the probe did not read whole */
  buckets: ListingBucket[] | null;
}

export const TaskCountsRow = v.object({
  pending: count,
  running: count,
  oldest_pending_at: nullableDate,
});
export type TaskCountsRow = v.InferOutput<typeof TaskCountsRow>;

export const RenderCountsRow = v.object({
  render_status: text,
  apps: count,
  consecutive_failures: count,
  /** when the market last wrote a row of this status whose renders are failing (null: none fails) */
  newest_failure_at: nullableDate,
});
export type RenderCountsRow = v.InferOutput<typeof RenderCountsRow>;

export const SourceFreshnessRow = v.object({
  source_id: Id,
  source_type: idOrEmpty,
  /** null = the source has catalog rows but no market_sources row */
  is_active: v.nullable(v.boolean()),
  apps: count,
  newest_update: nullableDate,
});
export type SourceFreshnessRow = v.InferOutput<typeof SourceFreshnessRow>;

export const CacheCountsRow = v.object({
  user_id: Id,
  source_id: Id,
  user_applications: count,
  states: count,
});
export type CacheCountsRow = v.InferOutput<typeof CacheCountsRow>;

/** Rows read and those left out, with why the first was (a column that changed type shows in every row). */
export interface ValidRows<T> {
  rows: T[];
  dropped: number;
  /** the first dropped row's first problem, `column: message` (undefined when none was dropped) */
  firstProblem?: string;
}

/** validateRows for app rows: of those that do not fit, the ones that still say which row they are come apart (misfits). */
export function validateAppRows<S extends v.GenericSchema>(schema: S, rows: readonly unknown[]): ValidRows<v.InferOutput<S>> & { misfits: MisfitAppRow[] } {
  const misfits: MisfitAppRow[] = [];
  const valid = validateRows(schema, rows, (row, problem) => {
    const key = v.safeParse(MisfitKey, row);
    if (key.success) misfits.push({ ...key.output, problem });
    return key.success;
  });
  return { ...valid, misfits };
}

/** Keeps the rows that fit `schema`; counts the rest (those `misfit` does not take), with the first one's problem. */
export function validateRows<S extends v.GenericSchema>(
  schema: S, rows: readonly unknown[], misfit?: (row: unknown, problem: string) => boolean,
): ValidRows<v.InferOutput<S>> {
  const out: v.InferOutput<S>[] = [];
  let dropped = 0;
  let firstProblem: string | undefined;
  for (const row of rows) {
    const r = v.safeParse(schema, row);
    if (r.success) { out.push(r.output); continue; }
    const problem = problemOf(r.issues[0]);
    if (misfit?.(row, problem)) continue;
    dropped += 1;
    firstProblem ??= problem;
  }
  return firstProblem === undefined ? { rows: out, dropped } : { rows: out, dropped, firstProblem };
}

function problemOf(issue: v.BaseIssue<unknown>): string {
  const column = issue.path?.map((p) => String(p.key)).join('.') ?? 'row';
  return `${column}: ${issue.message}`.slice(0, 200);
}

/** Drops over the several reads of one pass: how many, and the first reason. */
export class Drops {
  dropped = 0;
  firstProblem?: string;

  add(read: { dropped: number; firstProblem?: string }): this {
    this.dropped += read.dropped;
    this.firstProblem ??= read.firstProblem;
    return this;
  }
}

/**
 * What a read's dropped rows mean for the pass. Some: a warning naming how many and the first reason (they are
 * left out of the view). More than it kept: the pass fails, so the store keeps what it had — a column whose
 * type changed under us fails every row, and must not read as an emptied market.
 */
export function judgeDrops(table: string, kept: number, drops: { dropped: number; firstProblem?: string }): string | undefined {
  const text = dropsWarning(table, drops);
  if (text !== undefined && drops.dropped > kept) throw new Error(`${text}; more than were read well (${kept}): the view keeps what it had`);
  return text;
}

/** The warning of a pass that left rows out (undefined: none was). */
export function dropsWarning(table: string, drops: { dropped: number; firstProblem?: string }): string | undefined {
  if (drops.dropped === 0) return undefined;
  return `${drops.dropped} ${table} rows did not fit the expected shape and were left out (first: ${drops.firstProblem ?? 'unknown'})`;
}
