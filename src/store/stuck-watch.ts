import type { AppFlowState, TaskState } from '../model/index.ts';
import type { Domain, DomainEntity } from '../protocol.ts';
import type { Row } from './entity-table.ts';
import { SortedKeys } from './sorted-keys.ts';
import type { StoreTables } from './store-tables.ts';
import {
  appVerdict, DEFAULT_STUCK_LIMITS, isWatchedApp, isWatchedTask, nextProgressMark, taskStuck, withStuck,
  type ProgressMark, type StuckLimits,
} from './stuck.ts';

type Timed = 'app_states' | 'tasks';

/**
 * Stuck timing: the verdict an app or task gets as it is stored, and the entities whose verdict can flip with
 * time alone (apps in a transitional stage, active tasks), re-judged as time passes.
 */
export class StuckWatch {
  limits: StuckLimits = DEFAULT_STUCK_LIMITS;
  /** apps in a transitional stage and active tasks: their stuck verdict changes with time alone (stuck apps are among them) */
  readonly watched = { app_states: new SortedKeys(), tasks: new Set<string>() };
  /** per app in a transitional stage that reports progress: that progress and since when (stalled progress) */
  private readonly progress = new Map<string, ProgressMark>();

  /**
   * What the store adds to apps and tasks: an app keeps its stage_since while its stage stays the same
   * (a poll or event inside one stage does not restart the clock), and both get their stuck verdict.
   */
  judge<D extends Domain>(domain: D, key: string, item: DomainEntity[D], prev: DomainEntity[D] | undefined, now: number): DomainEntity[D] {
    if (domain === 'app_states') {
      let a = item as AppFlowState;
      const before = prev as AppFlowState | undefined;
      if (before?.stage === a.stage && before.stage_since !== undefined && a.stage_since !== before.stage_since) {
        a = { ...a, stage_since: before.stage_since };
      }
      const mark = nextProgressMark(this.progress.get(key), a, now, this.limits) ?? undefined;
      if (mark) this.progress.set(key, mark);
      else this.progress.delete(key);
      return withStuck(a, appVerdict(a, mark, now, this.limits)) as DomainEntity[D];
    }
    if (domain === 'tasks') {
      const t = item as TaskState;
      return withStuck(t, taskStuck(t, now, this.limits)) as DomainEntity[D];
    }
    return item;
  }

  /** The stored value: watched while its verdict can still flip with time. */
  watch(domain: Domain, key: string, value: object): void {
    if (domain === 'app_states') {
      if (isWatchedApp(value as AppFlowState, this.limits)) this.watched.app_states.add(key);
      else this.watched.app_states.delete(key);
    } else if (domain === 'tasks') {
      if (isWatchedTask(value as TaskState)) this.watched.tasks.add(key);
      else this.watched.tasks.delete(key);
    }
  }

  /** The entity left the view. */
  forget(domain: Domain, key: string): void {
    if (domain !== 'components') this.watched[domain].delete(key);
    if (domain === 'app_states') this.progress.delete(key);
  }

  /** Time passes: hands `again` every watched row whose verdict crossed (or left) its limit at `now`. */
  recheck(tables: StoreTables, now: number, again: <D extends Timed>(domain: D, row: Row<DomainEntity[D]>) => void): void {
    for (const key of this.watched.app_states.keys) {
      const row = tables.apps.rows.get(key);
      if (!row) { this.watched.app_states.delete(key); continue; }
      // the reason too: stalled progress and the stage limit may come one after the other
      const verdict = appVerdict(row.value, this.progress.get(key), now, this.limits);
      if (verdict?.reason !== row.value.stuck_reason) again('app_states', row);
    }
    for (const key of this.watched.tasks) {
      const row = tables.tasks.rows.get(key);
      if (!row) { this.watched.tasks.delete(key); continue; }
      if (Boolean(taskStuck(row.value, now, this.limits)) !== Boolean(row.value.stuck)) again('tasks', row);
    }
  }
}
