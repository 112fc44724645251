import { appKey, type AppFlowState } from '../model/index.ts';
import type { AppListingRow, ListedAppRow, TaskRow } from '../sources/market-rows.ts';
import { appFlowFromRow, type ActiveTasks, type AppFlowCounters } from './app-flow.ts';
import type { UnknownStates } from './stage-table.ts';

/** What one listed row was read at, and what it gave the view and the counters. */
interface Known {
  /** its app key (the store's key) */
  key: string;
  /** its user and app, which its active tasks are found by (userApp) */
  userApp: string;
  /** the row version it was read at (ListedAppRow.row_version) */
  version: string;
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
  /** keys of the listed apps not read again: the store keeps what it holds for them */
  keep: string[];
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
    for (const [id, k] of this.known) if (gone.has(k.key)) this.known.delete(id);
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
      const at = userApp(row.user_id, row.app_name);
      this.known.set(row.id, {
        key: appKey(row), userApp: at, version: row.row_version, tasks: tasksOf(plan.tasks, at),
        shown: app !== null, unknownState: seen.unknown, badEntrances, pass,
      });
      if (app !== null) items.push(app);
    }
    const keep: string[] = [];
    for (const row of plan.listing) {
      if (plan.changed.has(row.id)) continue;
      const k = this.known.get(row.id)!;
      k.pass = pass;
      if (k.shown) keep.push(k.key);
    }
    const counters = { rows: plan.listing.length, changed_rows: rows.length, apps: 0, not_installed: 0, unknown_state: 0, bad_entrances: 0 };
    for (const [id, k] of this.known) {
      // not listed, or planned and not read back
      if (k.pass !== pass) {
        this.known.delete(id);
        continue;
      }
      if (k.shown) counters.apps += 1;
      else counters.not_installed += 1;
      if (k.unknownState) counters.unknown_state += 1;
      counters.bad_entrances += k.badEntrances;
    }
    return { items, keep, counters, newUnknownStates: [...newUnknownStates] };
  }
}

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
