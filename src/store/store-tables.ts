import { appHealth, appKey, emptySummary, type AppFlowState, type ComponentStatus, type TaskState } from '../model/index.ts';
import type { Domain, DomainEntity } from '../protocol.ts';
import { EntityTable } from './entity-table.ts';
import { MultiIndex } from './multi-index.ts';
import { SortedIndex, SortedKeys } from './sorted-keys.ts';
import { countApp, countComponent, countTask } from './summary.ts';

/**
 * The store's three entity tables, with what they keep up to date as rows come and go: the summary counts and
 * the indexes queries read (by user, by app name, task status and type, every app key in order).
 */
export class StoreTables {
  readonly summary = emptySummary();
  /** apps by user and by name are read in key order too (…/apps pages) */
  readonly byUser = { apps: new SortedIndex(), tasks: new MultiIndex() };
  readonly byAppName = { apps: new SortedIndex(), tasks: new MultiIndex() };
  /** apps by stage and by health (appHealth: every app is in one), in key order: …/apps?stage=&health= walk one instead of every app */
  readonly appsByStage = new SortedIndex();
  readonly appsByHealth = new SortedIndex();
  /** every app key in string order, re-sorted only as keys come and go (…/apps pages) */
  readonly appOrder = new SortedKeys();
  readonly tasksByStatus = new MultiIndex();
  readonly tasksByType = new MultiIndex();

  readonly apps = new EntityTable<AppFlowState>(appKey, {
    onAdd: (k, a) => {
      countApp(this.summary, a, 1);
      this.appOrder.add(k);
      this.byUser.apps.add(a.user_id, k);
      this.byAppName.apps.add(a.app_name, k);
      this.appsByStage.add(a.stage, k);
      this.appsByHealth.add(appHealth(a), k);
    },
    onDelete: (k, a) => {
      countApp(this.summary, a, -1);
      this.appOrder.delete(k);
      this.byUser.apps.delete(a.user_id, k);
      this.byAppName.apps.delete(a.app_name, k);
      this.appsByStage.delete(a.stage, k);
      this.appsByHealth.delete(appHealth(a), k);
    },
  }, carryLastUpdate);

  readonly tasks = new EntityTable<TaskState>((t) => t.task_id, {
    onAdd: (k, t) => {
      countTask(this.summary, t, 1);
      this.byUser.tasks.add(t.user_id, k);
      this.byAppName.tasks.add(t.app_name, k);
      this.tasksByStatus.add(t.status, k);
      this.tasksByType.add(t.type, k);
    },
    onDelete: (k, t) => {
      countTask(this.summary, t, -1);
      this.byUser.tasks.delete(t.user_id, k);
      this.byAppName.tasks.delete(t.app_name, k);
      this.tasksByStatus.delete(t.status, k);
      this.tasksByType.delete(t.type, k);
    },
  });

  readonly components = new EntityTable<ComponentStatus>((c) => c.name, {
    onAdd: (_k, c) => countComponent(this.summary, c, 1),
    onDelete: (_k, c) => countComponent(this.summary, c, -1),
  }, carryLastCheck);

  of<D extends Domain>(domain: D): EntityTable<DomainEntity[D]> {
    const tables = { app_states: this.apps, tasks: this.tasks, components: this.components };
    return tables[domain] as unknown as EntityTable<DomainEntity[D]>;
  }

  /** How many of `values` each index holds (0 for a value it has none of): a count per value, not a walk over rows. */
  static counts(index: MultiIndex | SortedIndex, values: readonly string[]): Record<string, number> {
    return Object.fromEntries(values.map((v) => [v, index.get(v).size]));
  }

  /** about how many bytes the three rendered together take (at most that many) */
  get chars(): number {
    return this.apps.chars + this.tasks.chars + this.components.chars;
  }
}

/** A component whose content is unchanged keeps its last_check: the time its content last changed (docs/api.md, Compatibility). */
function carryLastCheck(prev: ComponentStatus, next: ComponentStatus): ComponentStatus {
  return next.last_check === prev.last_check ? next : { ...next, last_check: prev.last_check };
}

/** An app whose content is unchanged keeps its last_update: it says when content changed, not when polled. */
function carryLastUpdate(prev: AppFlowState, next: AppFlowState): AppFlowState {
  return next.last_update === prev.last_update ? next : { ...next, last_update: prev.last_update };
}
