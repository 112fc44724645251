import { appKey, type AppFlowState } from '../model/index.ts';
import type { AppListingRow, ChangedAppRow, ListedAppRow, ListingProbeRow, TaskRow } from '../sources/market-rows.ts';
import { appFlowFromRow, type ActiveTasks, type AppFlowCounters } from './app-flow.ts';
import type { UnknownStates } from './stage-table.ts';

/** What one listed row was read at, and what it gave the view and the counters. */
interface Known {
  /** its app key (the store's key) */
  key: string;
  /** its user and app, which its active tasks are found by (userApp) */
  userApp: string;
  /** the row version it was read at (ListedAppRow.row_version); '' once the store asked for it again */
  version: string;
  /** it has a state row (the listing probe counts those) */
  hasState: boolean;
  /** the active tasks of its user and app when it was read (taskVersions) */
  tasks: string;
  /** it gave an app (else: not an install) */
  shown: boolean;
  unknownState: boolean;
  badEntrances: number;
  /** the last pass that listed it */
  pass: number;
}

/** What a pass lists, and which of the listed rows it reads again. */
export interface ReadPlan {
  listing: readonly AppListingRow[];
  /** ids of the rows to read: new, or their row or their active tasks moved; all of them on a full pass */
  ids: string[];
  changed: ReadonlySet<string>;
  tasks: ReadonlyMap<string, string>;
}

export interface AppFlowPass {
  /** the apps of the rows read this pass */
  items: AppFlowState[];
  /** keys of the listed apps not read again: the store keeps what it holds for them (a listing pass) */
  keep: string[];
  /** keys of apps sent before that left: their row is gone, or no longer an install (a changes pass) */
  removed: string[];
  /** over everything listed (as a full pass counts), plus the rows read this pass */
  counters: AppFlowCounters & { changed_rows: number };
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

  /** The ids a changes pass reads by id besides what changed: the rows the store asked for again. */
  rereadIds(): string[] {
    return [...this.again];
  }

  /**
   * A pass from the rows changed since the watermark (and the rows read by id): which to normalize and which
   * left, or null when the listing cannot be told from them — the probe's counts differ from what the known
   * rows and the changes add up to (a row or a state row was deleted), or a known row's active tasks moved
   * with no row of its own changing (a task row was deleted): then a listing pass finds out.
   */
  planChanges(changed: readonly ChangedAppRow[], byId: readonly ListedAppRow[], tasks: readonly TaskRow[], probe: ListingProbeRow): ChangesPlan | null {
    const versions = taskVersions(tasks);
    const fresh: ListedAppRow[] = [];
    const gone = new Set<string>();
    const seen = new Set<string>();
    let listed = this.known.size;
    let withState = 0;
    for (const k of this.known.values()) if (k.hasState) withState += 1;
    const consider = (row: ListedAppRow, isListed: boolean): void => {
      if (seen.has(row.id)) return;
      seen.add(row.id);
      const k = this.known.get(row.id);
      if (!isListed) {
        if (k) { gone.add(row.id); listed -= 1; if (k.hasState) withState -= 1; }
        return;
      }
      const hasState = stateOf(row.row_version);
      if (!k) { listed += 1; if (hasState) withState += 1; }
      else if (k.hasState !== hasState) withState += hasState ? 1 : -1;
      if (!k || k.version !== row.row_version || k.tasks !== tasksOf(versions, userApp(row.user_id, row.app_name))) fresh.push(row);
    };
    for (const row of changed) consider(row, row.listed);
    for (const row of byId) consider(row, true);
    for (const id of this.again) {
      // asked for again and not read back: no longer listed
      if (!seen.has(id) && this.known.has(id)) {
        seen.add(id);
        gone.add(id);
        listed -= 1;
        if (this.known.get(id)!.hasState) withState -= 1;
      }
    }
    if (listed !== probe.listed || withState !== probe.with_state) return null;
    for (const [id, k] of this.known) if (!seen.has(id) && k.tasks !== tasksOf(versions, k.userApp)) return null;
    return { fresh, gone, tasks: versions };
  }

  /**
   * A changes pass: the fresh rows normalized, the rows gone forgotten; `removed` names the apps the store holds
   * for them (and for rows whose app left or moved to another key).
   */
  settleChanges(plan: ChangesPlan, active: ActiveTasks, unknownStates?: UnknownStates): AppFlowPass {
    const pass = ++this.pass;
    const removed: string[] = [];
    for (const id of plan.gone) {
      const k = this.known.get(id);
      if (k?.shown) removed.push(k.key);
      this.known.delete(id);
    }
    const { items, newUnknownStates } = this.read(plan.fresh, plan.tasks, active, pass, unknownStates, (k, app) => {
      if (k?.shown && (app === null || appKey(app) !== k.key)) removed.push(k.key);
    });
    this.again.clear();
    return { items, keep: [], removed, counters: this.counters(plan.fresh.length, this.known.size), newUnknownStates };
  }

  /** Which listed rows to read (`full`: all of them). */
  plan(listing: readonly AppListingRow[], tasks: readonly TaskRow[], full: boolean): ReadPlan {
    const versions = taskVersions(tasks);
    const ids: string[] = [];
    for (const row of listing) {
      // the row's key is the one it was read at: a row whose key changed has a new version
      const k = full ? undefined : this.known.get(row.id);
      if (k === undefined || k.version !== row.row_version || k.tasks !== tasksOf(versions, k.userApp)) ids.push(row.id);
    }
    return { listing, ids, changed: new Set(ids), tasks: versions };
  }

  /**
   * The pass: the rows read (those of `plan.ids` that are still there, in the order to send them) normalized,
   * the rest of the listing kept. A planned row not read back (deleted, or no longer a possible install since
   * it was listed) is neither sent nor kept, so it leaves the store; the next listing tells again.
   */
  settle(plan: ReadPlan, rows: readonly ListedAppRow[], active: ActiveTasks, unknownStates?: UnknownStates): AppFlowPass {
    const pass = ++this.pass;
    const { items, newUnknownStates } = this.read(rows, plan.tasks, active, pass, unknownStates);
    const keep: string[] = [];
    for (const row of plan.listing) {
      if (plan.changed.has(row.id)) continue;
      const k = this.known.get(row.id)!;
      k.pass = pass;
      if (k.shown) keep.push(k.key);
    }
    // not listed, or planned and not read back
    for (const [id, k] of this.known) if (k.pass !== pass) this.known.delete(id);
    this.again.clear();
    return { items, keep, removed: [], counters: this.counters(rows.length, plan.listing.length), newUnknownStates };
  }

  /** Normalizes the rows read, remembering each; `onRead` sees what was known of a row before and its app now. */
  private read(
    rows: readonly ListedAppRow[], tasks: ReadonlyMap<string, string>, active: ActiveTasks, pass: number,
    unknownStates: UnknownStates | undefined, onRead?: (before: Known | undefined, app: AppFlowState | null) => void,
  ): { items: AppFlowState[]; newUnknownStates: string[] } {
    const newUnknownStates = new Set<string>();
    const seen = { unknown: false };
    const onUnknown = (state: string): void => {
      seen.unknown = true;
      if (unknownStates?.note(state) ?? true) newUnknownStates.add(state);
    };
    const items: AppFlowState[] = [];
    for (const row of rows) {
      seen.unknown = false;
      const { app, badEntrances } = appFlowFromRow(row, active, { onUnknown });
      onRead?.(this.known.get(row.id), app);
      const at = userApp(row.user_id, row.app_name);
      this.known.set(row.id, {
        key: appKey(row), userApp: at, version: row.row_version, hasState: stateOf(row.row_version),
        tasks: tasksOf(tasks, at), shown: app !== null, unknownState: seen.unknown, badEntrances, pass,
      });
      if (app !== null) items.push(app);
    }
    return { items, newUnknownStates: [...newUnknownStates] };
  }

  /** over every known row (as a full pass counts), plus the rows listed and the rows read this pass */
  private counters(changedRows: number, rows: number): AppFlowPass['counters'] {
    const counters = { rows, changed_rows: changedRows, apps: 0, not_installed: 0, unknown_state: 0, bad_entrances: 0 };
    for (const k of this.known.values()) {
      if (k.shown) counters.apps += 1;
      else counters.not_installed += 1;
      if (k.unknownState) counters.unknown_state += 1;
      counters.bad_entrances += k.badEntrances;
    }
    return counters;
  }
}

/** What a changes pass reads: rows to normalize, rows gone (by id), the active tasks' text per user and app. */
export interface ChangesPlan {
  fresh: ListedAppRow[];
  gone: ReadonlySet<string>;
  tasks: ReadonlyMap<string, string>;
}

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
