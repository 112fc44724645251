import { appKey, emptySummary } from '../model/index.ts';
import type { AppFilter, StateFilter } from '../protocol.ts';
import type { ChartRepoView } from './chart-repo-view.ts';
import type { EntityTable } from './entity-table.ts';
import { appMatches, appPageMatches, hasChartFilter, taskMatches } from './filter.ts';
import { encodeCursor } from './page-cursor.ts';
import { pageStamp, type SnapshotRenderer, type VersionStamp } from './snapshot-render.ts';
import { firstAfter, type SortedKeys } from './sorted-keys.ts';
import type { StoreTables } from './store-tables.ts';
import type { StuckWatch } from './stuck-watch.ts';
import { countApp, countTask } from './summary.ts';

/**
 * Reads of the store's state, answered from its indexes with the JSON each entity rendered when it changed
 * (always at the last committed version: the store thread commits first).
 */
export class StoreQueries {
  constructor(
    private readonly stamp: VersionStamp,
    private readonly tables: StoreTables,
    private readonly stuck: StuckWatch,
    private readonly chartRepo: ChartRepoView,
    private readonly snapshot: SnapshotRenderer,
  ) {}

  /** The snapshot narrowed by filters, with the summary recomputed over what was kept. */
  state(f: StateFilter): string {
    const out: string[] = [];
    this.stateInto(out, f);
    return out.join('');
  }

  /**
   * state(f) as pieces appended to `out`: the entities' and Chart Repo items' JSON as held, so the answer is
   * written into its bytes piece by piece (StoreActor) and never exists as one string in either thread.
   */
  stateInto(out: string[], f: StateFilter): string {
    const { apps, tasks, byUser, byAppName } = this.tables;
    const appKeys = pick(apps, this.appLists(f).map((l) => l?.keys), (a) => appMatches(a, f));
    const taskKeys = pick(tasks, [
      f.stuck ? this.stuck.watched.tasks : undefined,
      f.task_status === undefined ? undefined : this.tables.tasksByStatus.get(f.task_status),
      f.task_type === undefined ? undefined : this.tables.tasksByType.get(f.task_type),
      f.user_id === undefined ? undefined : byUser.tasks.get(f.user_id),
      f.app_name === undefined ? undefined : byAppName.tasks.get(f.app_name),
    ], (t) => taskMatches(t, f));
    const summary = emptySummary();
    for (const k of appKeys) countApp(summary, apps.rows.get(k)!.value, 1);
    for (const k of taskKeys) countTask(summary, tasks.rows.get(k)!.value, 1);
    summary.active_components = this.tables.summary.active_components;
    const held = this.chartRepo.held;
    const chart = held ? (o: string[]) => (hasChartFilter(f) ? held.filteredInto(o, f) : held.renderInto(o)) : undefined;
    const summaryJson = JSON.stringify(summary);
    this.snapshot.into(out, (o) => apps.renderInto(o, appKeys), (o) => tasks.renderInto(o, taskKeys), chart, summaryJson);
    // the Chart Repo view as this answer shows it: narrowed, it keeps its tag while other users' items move
    const chartContent = held ? (hasChartFilter(f) ? held.filteredContent(f) : held.content) : '';
    return this.snapshot.answerDigest(apps.rowsContent(appKeys, 'state'), tasks.rowsContent(taskKeys, 'state'), summaryJson, chartContent);
  }

  app(user_id: string, source_id: string, app_name: string): string | null {
    return this.tables.apps.json(appKey({ user_id, source_id, app_name })) ?? null;
  }

  /** What app() says, for its ETag (EntityTable.rowsContent): the same on every store holding the same row. */
  appContent(user_id: string, source_id: string, app_name: string): string {
    return this.tables.apps.rowsContent([appKey({ user_id, source_id, app_name })], 'app');
  }

  task(task_id: string): string | null {
    return this.tables.tasks.json(task_id) ?? null;
  }

  /** Tasks of an app (and optionally of one user): a JSON array. */
  tasksBy(f: { app_name?: string; user_id?: string }): string {
    const { tasks, byUser, byAppName } = this.tables;
    const keys = pick(tasks, [
      f.app_name === undefined ? undefined : byAppName.tasks.get(f.app_name),
      f.user_id === undefined ? undefined : byUser.tasks.get(f.user_id),
    ], (t) => taskMatches(t, f));
    return jsonArray(tasks, keys);
  }

  /** A user's apps in key order (the index keeps them in the order this store last saw each change). */
  appsByUser(user_id: string): string {
    return jsonArray(this.tables.apps, this.tables.byUser.apps.ordered(user_id).sorted());
  }

  /** What appsByUser() says, for its ETag (EntityTable.rowsContent). */
  appsByUserContent(user_id: string): string {
    return this.tables.apps.rowsContent(this.tables.byUser.apps.ordered(user_id).sorted(), 'user-apps');
  }

  /**
   * One page of apps in key order (…/apps): the first `limit` apps matching `f` whose key sorts after `after`,
   * at this version, and how many match in all. It walks, from `after` on, the smallest ordered list that holds
   * every match (all apps, one user's, one name's, one stage's or health's, the watched ones when only stuck
   * apps are asked for): a binary search, then about `limit` keys when the filter is that list's own.
   */
  appsPage(f: AppFilter, limit: number, after: string | null, withChart = false): string {
    return this.appsPageWithContent(f, limit, after, withChart).json;
  }

  /**
   * appsPage(), and what it says for its ETag (EntityTable.rowsContent) when it holds only what the sources
   * said; null with the Chart Repo's items, whose last_update is this store's (the version's content digest names it).
   */
  appsPageWithContent(f: AppFilter, limit: number, after: string | null, withChart: boolean): { json: string; content: string | null } {
    const { apps } = this.tables;
    const ordered = this.smallest(this.appLists(f)).sorted();
    const keys: string[] = [];
    let more = false;
    for (let i = after === null ? 0 : firstAfter(ordered, after); i < ordered.length; i++) {
      const row = apps.rows.get(ordered[i]!);
      if (!row || !appPageMatches(row.value, f)) continue;
      // one match past the page: there is a next page
      if (keys.length === limit) { more = true; break; }
      keys.push(ordered[i]!);
    }
    const cursor = more ? JSON.stringify(encodeCursor(keys[keys.length - 1]!)) : 'null';
    const chart = withChart ? `,"chart_repo":${this.chartOf(keys)}` : '';
    const total = this.countApps(f);
    return {
      json: `${pageStamp(this.stamp)}"total":${total},"items":${jsonArray(apps, keys)},"next_cursor":${cursor}${chart}}`,
      content: withChart ? null : apps.rowsContent(keys, `page ${total} ${cursor}`),
    };
  }

  /**
   * The Chart Repo items of these apps (keys user:source:app): its app entries and hydrator tasks, current and
   * recently failed. A lookup per key for the apps; a walk over the hydrator's lists, which hold its queue only.
   */
  private chartOf(keys: readonly string[]): string {
    const apps: string[] = [];
    const tasks: string[] = [];
    const held = this.chartRepo.held;
    if (held) {
      const items = held.index.lists.apps;
      for (const k of keys) {
        const item = items.get(k);
        if (item) apps.push(item.json);
      }
      const wanted = new Set(keys);
      for (const t of held.hydratorItems()) {
        if (wanted.has(`${t.facets.user_id}:${t.facets.source_id}:${t.facets.app_name}`)) tasks.push(t.json);
      }
    }
    return `{"apps":[${apps.join(',')}],"hydrator_tasks":[${tasks.join(',')}]}`;
  }

  /** the smallest of these ordered app lists, or every app */
  private smallest(lists: (SortedKeys | undefined)[]): SortedKeys {
    let best = this.tables.appOrder;
    for (const l of lists) if (l !== undefined && l.size < best.size) best = l;
    return best;
  }

  /** How many apps match: an index's size when the filter is just that index, else a count over the smallest. */
  private countApps(f: AppFilter): number {
    const given = (Object.keys(f) as (keyof AppFilter)[]).filter((k) => f[k] !== undefined);
    const lists = this.appLists(f);
    if (given.length === 0) return this.tables.apps.size;
    // source_id has no index; stuck's list (the watched apps) holds more than the stuck ones
    if (given.length === 1 && given[0] !== 'source_id' && given[0] !== 'stuck') return lists.find((l) => l !== undefined)!.size;
    return pick(this.tables.apps, lists.map((l) => l?.keys), (a) => appPageMatches(a, f)).length;
  }

  /** the ordered lists that hold every app matching `f` (undefined: that filter is not given or has no list) */
  private appLists(f: AppFilter): (SortedKeys | undefined)[] {
    const { byUser, byAppName, appsByStage, appsByHealth } = this.tables;
    return [
      f.stuck ? this.stuck.watched.app_states : undefined,
      f.user_id === undefined ? undefined : byUser.apps.ordered(f.user_id),
      f.app_name === undefined ? undefined : byAppName.apps.ordered(f.app_name),
      f.stage === undefined ? undefined : appsByStage.ordered(f.stage),
      f.health === undefined ? undefined : appsByHealth.ordered(f.health),
    ];
  }
}

/** Keys matching `test`, in key order, scanning the smallest applicable index (or everything when none applies). */
function pick<T extends object>(
  table: EntityTable<T>, candidates: (ReadonlySet<string> | undefined)[], test: (v: T) => boolean,
): string[] {
  let best: Iterable<string> | undefined;
  let bestSize = Infinity;
  for (const c of candidates) if (c !== undefined && c.size < bestSize) { best = c; bestSize = c.size; }
  const out: string[] = [];
  for (const k of best ?? table.rows.keys()) {
    const row = table.rows.get(k);
    if (row && test(row.value)) out.push(k);
  }
  // in key order: the indexes and the table keep keys in the order this store last saw each change, which
  // another replica, or this one after a restart, did not see alike (the same rows, the same bytes and tag)
  return out.sort();
}

function jsonArray<T extends object>(table: EntityTable<T>, keys: readonly string[]): string {
  // the JSON rendered when each entity changed, not a second stringify per query
  return '[' + keys.map((k) => table.json(k)!).join(',') + ']';
}
