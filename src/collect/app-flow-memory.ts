import { sha256 } from '../content-digest.ts';
import { goInstantText } from '../model/go-time.ts';
import { appKey, type AppFlowState } from '../model/index.ts';
import type { LeftRow } from '../protocol.ts';
import { LISTING_BUCKETS } from '../sources/market-queries.ts';
import type { AppListingRow, ChangedAppRow, ListedAppRow, ListingProbe, MisfitAppRow, TaskRow } from '../sources/market-rows.ts';
import { countRows, normalizeAppFlow, type ActiveTasks, type AppFlowCounters, type RowCounts } from './app-flow.ts';
import type { UnknownStates } from './stage-table.ts';

/** What one listed row was read at, and what it gave the view and the counters. */
interface Known extends RowCounts {
  /** its app key (the store's key) */
  key: string;
  /** its user and app, which its active tasks are found by (userApp) */
  userApp: string;
  /** the row version it was read at (ListedAppRow.row_version); '' once the store asked for it again */
  version: string;
  /** it has a state row (the listing probe counts those) */
  hasState: boolean;
  /** its id modulo LISTING_BUCKETS (the probe's bucket), and its id as a number to sum */
  bucket: number;
  idValue: bigint;
  /** the active tasks of its user and app when it was read (taskVersions) */
  tasks: string;
  /** the last pass that listed it */
  pass: number;
  /** a digest of the app it gave ('' when none): a full pass that reads the row again sends it only if this moved */
  digest: string;
  /** why the row did not fit, when it did not at this version (what it showed before, if anything, stands) */
  problem?: string;
}

/** What a pass lists, and which of the listed rows it reads again. */
export interface ReadPlan {
  listing: readonly AppListingRow[];
  /** ids of the rows to read: new, or their row or their active tasks moved; all of them on a full pass */
  ids: string[];
  changed: ReadonlySet<string>;
  tasks: ReadonlyMap<string, string>;
  /**
   * send every app read, even one equal to what was sent before (a new store holds none of them); otherwise an
   * app read again that gives what it gave is kept, not sent: the periodic full pass re-reads the whole market to
   * catch what row versions cannot show, and the store then takes only what moved, in a short turn
   */
  sendAll: boolean;
}

/** Where a pass's apps go ahead of it, as soon as this many are ready (CollectContext.sendAhead). */
export interface SendAhead {
  items: number;
  send(items: AppFlowState[], first: boolean): Promise<void>;
}

export interface AppFlowPass {
  /** the apps of the rows read this pass, less those sent ahead */
  items: AppFlowState[];
  /** how many apps of the rows read were sent ahead of the pass (SendAhead) */
  ahead?: number;
  /** keys of the listed apps not read again: the store keeps what it holds for them (a listing pass) */
  keep: string[];
  /** keys of apps sent before that left: their row is gone, or no longer an install (a changes pass) */
  removed: string[];
  /** of those, the ones whose row was read: its state and time (the timeline's `removed` entry says them) */
  left?: LeftRow[];
  /** over everything listed (as a full pass counts), plus the rows read this pass */
  counters: AppFlowCounters & { changed_rows: number };
  /** of `keep`, the apps kept though their row no longer fits (they stand, unconfirmed: not rows that fit) */
  unfitKept?: number;
  newUnknownStates: string[];
}

/**
 * The app_flow collector's memory between passes, so that a pass costs in proportion to what changed: per
 * listed row (by user_applications.id) the row version and active tasks it was read at, and what it gave.
 * A pass reads and normalizes only the rows that are new or whose version or tasks moved; the others are
 * kept as the store holds them.
 */
export class AppFlowMemory {
  private readonly known = new Map<string, Known>();
  private pass = 0;

  /** The store cannot vouch for what was sent for these app keys (AppliedMessage.reread): read them again. */
  forget(keys: readonly string[]): void {
    if (keys.length === 0) return;
    const gone = new Set(keys);
    for (const [id, k] of this.known) {
      if (!gone.has(k.key)) continue;
      k.version = '';
      this.again.add(id);
    }
  }

  /** rows to read again whatever their version (forget), until a pass reads them */
  private readonly again = new Set<string>();
  /** the known rows per probe bucket (count, sums of ids and squares) and how many have a state row: kept as rows come and go */
  private readonly tally = new Map<number, BucketSums>();
  private withState = 0;
  /**
   * the listed rows that did not fit (by id: why), known at their version like the others: not read again until
   * they change (else the probe, which counts them, never adds up and every pass lists), named by every pass's warning
   */
  private readonly misfits = new Map<string, string>();

  private remember(id: string, k: Known): void {
    const before = this.known.get(id);
    if (before) this.count(before, -1);
    this.known.set(id, k);
    this.count(k, 1);
    if (k.problem === undefined) this.misfits.delete(id);
    else this.misfits.set(id, k.problem);
  }

  private drop(id: string): void {
    const k = this.known.get(id);
    if (!k) return;
    this.count(k, -1);
    this.known.delete(id);
    this.misfits.delete(id);
  }

  /**
   * A listed row that did not fit, known at its version. What the store shows for it stands (a listing keeps it) while
   * the store holds it: answers `stands`, the key to keep. A store that cannot vouch for it (a new one that lacks
   * it, or one holding an app event no poll confirmed) asks for the key again (AppliedMessage.reread), which forgets
   * the row's version; read again and still not fitting, nothing can be shown for it: answers `gone`, the key the
   * store may still hold, for a changes pass to remove (a listing simply does not keep it). A row never shown: neither.
   */
  private rememberMisfit(row: MisfitAppRow, tasks: ReadonlyMap<string, string>, pass: number): { stands?: string; gone?: string } {
    const before = this.known.get(row.id);
    const stands = before !== undefined && before.shown && before.version !== '';
    const idValue = BigInt(row.id);
    const at = { version: row.row_version, hasState: stateOf(row.row_version), pass, problem: row.problem };
    this.remember(row.id, stands
      ? { ...before, ...at, tasks: tasksOf(tasks, before.userApp) }
      : { key: '', userApp: '', bucket: bucketOf(idValue), idValue, tasks: '', shown: false, unknownState: false, badEntrances: 0, digest: '', ...at });
    if (stands) return { stands: before.key };
    return before?.shown ? { gone: before.key } : {};
  }

  /** The known rows that do not fit: how many, and why the first did not (every pass says so while they stay). */
  misfitDrops(): { dropped: number; firstProblem?: string } {
    const first = this.misfits.values().next();
    return first.done ? { dropped: 0 } : { dropped: this.misfits.size, firstProblem: first.value };
  }

  private count(k: Known, n: 1 | -1): void {
    const t = this.tally.get(k.bucket) ?? { listed: 0, ids: 0n, squares: 0n };
    addRow(t, k.idValue, n);
    if (t.listed === 0) this.tally.delete(k.bucket);
    else this.tally.set(k.bucket, t);
    if (k.hasState) this.withState += n;
  }

  /** The ids a changes pass reads by id besides what changed: the rows the store asked for again. */
  rereadIds(): string[] {
    return [...this.again];
  }

  /**
   * A pass from the rows changed since the watermark (and the rows read by id): which to normalize and which
   * left, or null when the listing cannot be told from them (a listing pass then finds out).
   *
   * Deleted rows leave nothing to read; the probe tells them. After the changes, the rows the collector knows
   * hold every listed row (a row cannot become listed without a write the changes show), so a bucket of the
   * probe one row short names that row: the difference of the sums of ids. More than one row short, a state row
   * count that does not add up (a state row deleted alone), or a known row whose active tasks moved with no row
   * of its own changing (a task row deleted): null.
   */
  planChanges(
    changed: readonly ChangedAppRow[], byId: readonly ListedAppRow[], tasks: readonly TaskRow[], probe: ListingProbe,
    misfits: readonly MisfitAppRow[] = [],
  ): ChangesPlan | null {
    if (probe.buckets === null) return null;
    const versions = taskVersions(tasks);
    const fresh: ListedAppRow[] = [];
    const gone = new Set<string>();
    const seen = new Set<string>();
    /** per bucket: rows and sums after this pass's changes (what is known, plus and minus the changes) */
    const counts = new Map<number, BucketSums>();
    this.tally.forEach((t, bucket) => counts.set(bucket, { ...t }));
    const add = (bucket: number, id: bigint, n: 1 | -1): void => {
      const c = counts.get(bucket) ?? { listed: 0, ids: 0n, squares: 0n };
      addRow(c, id, n);
      counts.set(bucket, c);
    };
    let withState = this.withState;
    const leave = (id: string, k: Known): void => {
      gone.add(id);
      add(k.bucket, k.idValue, -1);
      if (k.hasState) withState -= 1;
    };
    /** a row changed or read again: counted as the probe counts it; answers what is known of it when it is listed */
    const counted = (row: { id: string; row_version: string }, isListed: boolean): Known | undefined | null => {
      if (seen.has(row.id)) return null;
      seen.add(row.id);
      const k = this.known.get(row.id);
      if (!isListed) {
        if (k) leave(row.id, k);
        return null;
      }
      const hasState = stateOf(row.row_version);
      if (!k) {
        const id = BigInt(row.id);
        add(bucketOf(id), id, 1);
        if (hasState) withState += 1;
      } else if (k.hasState !== hasState) {
        withState += hasState ? 1 : -1;
      }
      return k;
    };
    const consider = (row: ListedAppRow, isListed: boolean): void => {
      const k = counted(row, isListed);
      if (k === null) return;
      if (!k || k.version !== row.row_version || k.tasks !== tasksOf(versions, userApp(row.user_id, row.app_name))) fresh.push(row);
    };
    const unfit: MisfitAppRow[] = [];
    for (const row of changed) consider(row, row.listed);
    for (const row of byId) consider(row, true);
    for (const row of misfits) if (counted(row, row.listed) !== null) unfit.push(row);
    // asked for again and not read back: no longer listed
    for (const id of this.again) {
      const k = this.known.get(id);
      if (!seen.has(id) && k) { seen.add(id); leave(id, k); }
    }
    // the probe against what the changes add up to: a bucket one or two rows short names the rows that left
    const named = (bucket: number, c: BucketSums, probed: BucketSums): boolean => {
      const ids = rowsGone(c.listed - probed.listed, c.ids - probed.ids, c.squares - probed.squares);
      if (ids === null) return false;
      for (const id of ids) {
        const k = this.known.get(id);
        if (!k || seen.has(id) || k.bucket !== bucket) return false;
        seen.add(id);
        leave(id, k);
      }
      return true;
    };
    const inProbe = new Set<number>();
    for (const b of probe.buckets) {
      inProbe.add(b.bucket);
      const probed = { listed: b.listed, ids: BigInt(b.ids), squares: BigInt(b.squares) };
      if (!named(b.bucket, counts.get(b.bucket) ?? { listed: 0, ids: 0n, squares: 0n }, probed)) return null;
    }
    // a bucket the probe lacks is empty: the known rows in it left
    const empty = { listed: 0, ids: 0n, squares: 0n };
    let unnamed = false;
    counts.forEach((c, bucket) => { if (!unnamed && !inProbe.has(bucket) && c.listed !== 0 && !named(bucket, c, empty)) unnamed = true; });
    if (unnamed) return null;
    // a row still listed whose active tasks moved with no write of its own (a task row deleted); the rows the
    // probe found gone are past asking (their tasks may have been deleted with them)
    // (forEach, not for-of: an entries iterator allocates a pair per row, every known row every pass)
    let tasksMoved = false;
    this.known.forEach((k, id) => { if (!tasksMoved && k.tasks !== tasksOf(versions, k.userApp) && !seen.has(id)) tasksMoved = true; });
    if (tasksMoved) return null;
    const probedState = probe.buckets.reduce((n, b) => n + b.with_state, 0);
    if (withState !== probedState) return null;
    return { fresh, gone, tasks: versions, misfits: unfit };
  }

  /**
   * A changes pass: the fresh rows normalized, the rows gone forgotten; `removed` names the apps the store holds
   * for them (and for rows whose app left or moved to another key).
   */
  settleChanges(plan: ChangesPlan, active: ActiveTasks, unknownStates?: UnknownStates): AppFlowPass {
    const pass = ++this.pass;
    const removed: string[] = [];
    const left: LeftRow[] = [];
    for (const id of plan.gone) {
      if (this.known.get(id)?.shown) removed.push(this.known.get(id)!.key);
      this.drop(id);
    }
    const { items, newUnknownStates } = this.read(plan.fresh, plan.tasks, active, pass, unknownStates, (k, app, row) => {
      if (!k?.shown || (app !== null && appKey(app) === k.key)) return;
      removed.push(k.key);
      // no longer an install (uninstalled, canceled…): when and how, as the market wrote it (to the microsecond,
      // in the text the app's updated_at and its other timeline entries have)
      if (app === null && row.state) {
        left.push({ key: k.key, at: goInstantText(row.state_updated_at ?? row.app_updated_at), state: row.state });
      }
    });
    for (const row of plan.misfits) {
      const { gone } = this.rememberMisfit(row, plan.tasks, pass);
      if (gone !== undefined) removed.push(gone);
    }
    this.again.clear();
    return {
      items, keep: [], removed, ...(left.length > 0 ? { left } : {}),
      counters: this.counters(plan.fresh.length, this.known.size), newUnknownStates,
    };
  }

  /** Which listed rows to read (`full`: all of them; `sendAll`: see ReadPlan). */
  plan(listing: readonly AppListingRow[], tasks: readonly TaskRow[], full: boolean, sendAll = full): ReadPlan {
    const versions = taskVersions(tasks);
    const ids: string[] = [];
    for (const row of listing) {
      // the row's key is the one it was read at: a row whose key changed has a new version
      const k = full ? undefined : this.known.get(row.id);
      if (k === undefined || k.version !== row.row_version || k.tasks !== tasksOf(versions, k.userApp)) ids.push(row.id);
    }
    return { listing, ids, changed: new Set(ids), tasks: versions, sendAll };
  }

  /**
   * The pass: the rows read (those of `plan.ids` that are still there), normalized chunk by chunk as they come (a
   * pass reads its rows by id a chunk at a time, so it never holds every row at once); the rest of the listing
   * kept. A planned row not read back (deleted, or no longer a possible install since it was listed) is neither
   * sent nor kept, so it leaves the store; the next listing tells again. A read that fails part way has left
   * what it read remembered: the caller lists everything next.
   */
  async settle(
    plan: ReadPlan, chunks: AsyncIterable<readonly (ListedAppRow | MisfitAppRow)[]> | Iterable<readonly (ListedAppRow | MisfitAppRow)[]>,
    active: ActiveTasks, unknownStates?: UnknownStates, ahead?: SendAhead,
  ): Promise<AppFlowPass> {
    const pass = ++this.pass;
    let items: AppFlowState[] = [];
    let sentAhead = 0;
    const newUnknownStates = new Set<string>();
    let rows = 0;
    const same: string[] = [];
    for await (const chunk of chunks) {
      const fit: ListedAppRow[] = [];
      for (const row of chunk) {
        if (!isMisfit(row)) fit.push(row);
        else {
          // (one that shows nothing now: not kept, so the store's listing removes it)
          const { stands } = this.rememberMisfit(row, plan.tasks, pass);
          if (stands !== undefined) same.push(stands);
        }
      }
      const read = this.read(fit, plan.tasks, active, pass, unknownStates, undefined, plan.sendAll ? undefined : same);
      for (const app of read.items) items.push(app);
      for (const s of read.newUnknownStates) newUnknownStates.add(s);
      rows += chunk.length;
      if (ahead && items.length >= ahead.items) {
        await ahead.send(items, sentAhead === 0);
        sentAhead += items.length;
        items = [];
      }
    }
    return { ...this.settled(plan, pass, items, rows, [...newUnknownStates], same), ahead: sentAhead };
  }

  /** The listed rows not read kept (and `same`: those read that gave what they gave), the rest forgotten (not listed, or planned and not read back). */
  private settled(plan: ReadPlan, pass: number, items: AppFlowState[], rowsRead: number, newUnknownStates: string[], same: string[]): AppFlowPass {
    const keep = same;
    for (const row of plan.listing) {
      if (plan.changed.has(row.id)) continue;
      const k = this.known.get(row.id)!;
      k.pass = pass;
      if (k.shown) keep.push(k.key);
    }
    for (const [id, k] of this.known) if (k.pass !== pass) this.drop(id);
    this.again.clear();
    // every misfit still known and shown is one this listing keeps
    const unfitKept = this.misfitsShown(true);
    return {
      items, keep, removed: [], counters: this.counters(rowsRead, plan.listing.length), newUnknownStates,
      ...(unfitKept > 0 ? { unfitKept } : {}),
    };
  }

  /**
   * Normalizes the rows read, remembering each; `onRead` sees what was known of a row before and its app now.
   * `same`: where the keys of apps equal to what they were when last sent go instead of the items (no `same`:
   * every app read is an item).
   */
  private read(
    rows: readonly ListedAppRow[], tasks: ReadonlyMap<string, string>, active: ActiveTasks, pass: number,
    unknownStates: UnknownStates | undefined, onRead?: (before: Known | undefined, app: AppFlowState | null, row: ListedAppRow) => void,
    same?: string[],
  ): { items: AppFlowState[]; newUnknownStates: string[] } {
    const { reads, newUnknownStates } = normalizeAppFlow(rows, active, unknownStates);
    const items: AppFlowState[] = [];
    rows.forEach((row, i) => {
      const { app, shown, unknownState, badEntrances } = reads[i]!;
      const before = this.known.get(row.id);
      onRead?.(before, app, row);
      const key = appKey(row);
      const digest = app === null ? '' : sha256(JSON.stringify(app));
      if (app !== null) {
        if (same && before?.shown && before.key === key && before.digest === digest && before.version !== '') same.push(key);
        else items.push(app);
      }
      const at = userApp(row.user_id, row.app_name);
      const idValue = BigInt(row.id);
      this.remember(row.id, {
        key, userApp: at, version: row.row_version, hasState: stateOf(row.row_version),
        bucket: bucketOf(idValue), idValue, tasks: tasksOf(tasks, at), shown, unknownState, badEntrances, pass, digest,
      });
    });
    return { items, newUnknownStates };
  }

  /** over every known row (as a full pass counts), plus the rows listed and the rows read this pass */
  private counters(changedRows: number, rows: number): AppFlowPass['counters'] {
    const counts = countRows(this.known);
    // a row that does not fit and shows nothing is no "not installed" row: `dropped` counts it
    counts.not_installed -= this.misfitsShown(false);
    return { rows, changed_rows: changedRows, ...counts };
  }

  /** How many known rows that do not fit show an app (`shown`), or show none. */
  private misfitsShown(shown: boolean): number {
    let n = 0;
    for (const id of this.misfits.keys()) if (this.known.get(id)?.shown === shown) n += 1;
    return n;
  }
}

/** What a changes pass reads: rows to normalize, rows gone (by id), the active tasks' text per user and app. */
export interface ChangesPlan {
  fresh: ListedAppRow[];
  gone: ReadonlySet<string>;
  tasks: ReadonlyMap<string, string>;
  /** listed rows changed or read again that do not fit: known at their version, the store's app for them kept */
  misfits: MisfitAppRow[];
}

function isMisfit(row: ListedAppRow | MisfitAppRow): row is MisfitAppRow {
  return 'problem' in row;
}

/** a probe bucket's rows: how many, the sum of their ids and of their squares */
interface BucketSums { listed: number; ids: bigint; squares: bigint }

function addRow(sums: BucketSums, id: bigint, n: 1 | -1): void {
  sums.listed += n;
  sums.ids += n === 1 ? id : -id;
  sums.squares += n === 1 ? id * id : -(id * id);
}

/**
 * The ids of the rows a bucket lost, from how many it lost and what their ids and squares add up to: none, one
 * (its id is the sum), or two (a + b = s and a^2 + b^2 = q give a - b = sqrt(2q - s^2)); null when more left or
 * the sums name no such rows (something else moved: the pass lists instead).
 */
export function rowsGone(short: number, s: bigint, q: bigint): string[] | null {
  if (short === 0) return s === 0n && q === 0n ? [] : null;
  if (short === 1) return q === s * s ? [String(s)] : null;
  if (short !== 2) return null;
  const d2 = 2n * q - s * s;
  if (d2 <= 0n) return null;
  const d = isqrt(d2);
  if (d * d !== d2 || (s + d) % 2n !== 0n) return null;
  return [String((s + d) / 2n), String((s - d) / 2n)];
}

/** floor(sqrt(n)) of a positive bigint: Newton's method from a power of two above it (it falls to the root) */
function isqrt(n: bigint): bigint {
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2));
  for (;;) {
    const y = (x + n / x) / 2n;
    if (y >= x) return x;
    x = y;
  }
}

/** the probe's bucket of a row id: PostgreSQL's `id % LISTING_BUCKETS` (the sign of the id, as BigInt's %) */
const bucketOf = (id: bigint): number => Number(id % BigInt(LISTING_BUCKETS));

/** row_version is `ua.xmin:s.xmin`; nothing after the colon: no state row */
const stateOf = (rowVersion: string): boolean => !rowVersion.endsWith(':');

const userApp = (user: string, app: string): string => `${user}\u0000${app}`;

/**
 * The active task rows of each (user, app) as text: a row whose tasks moved is read again (they may override
 * its stage). Rows as read, not TaskStates: a running task's estimated progress moves with the clock alone.
 */
function taskVersions(tasks: readonly TaskRow[]): Map<string, string> {
  const byApp = new Map<string, TaskRow[]>();
  for (const t of tasks) {
    const k = userApp(t.user_account, t.app_name);
    const list = byApp.get(k);
    if (list) list.push(t);
    else byApp.set(k, [t]);
  }
  const versions = new Map<string, string>();
  for (const [k, list] of byApp) versions.set(k, JSON.stringify(list));
  return versions;
}

function tasksOf(versions: ReadonlyMap<string, string>, at: string): string {
  return versions.get(at) ?? '';
}
