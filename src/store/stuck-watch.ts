import type { AppFlowState, TaskState } from '../model/index.ts';
import type { Domain, DomainEntity } from '../protocol.ts';
import type { Row } from './entity-table.ts';
import { SortedKeys } from './sorted-keys.ts';
import type { StoreTables } from './store-tables.ts';
import { DeadlineQueue } from './deadline-queue.ts';
import { newOperationInStage } from './timeline.ts';
import {
  appVerdict, DEFAULT_STUCK_LIMITS, isWatchedApp, isWatchedTask, nextAppFlip, nextProgressMark, nextTaskFlip, taskStuck,
  withStuck, type ProgressMark, type StuckClock, type StuckLimits,
} from './stuck.ts';

type Timed = 'app_states' | 'tasks';

const sameClock = (a: StuckClock | undefined, b: StuckClock | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.stage === b.stage && a.stage_since === b.stage_since
    && a.mark?.stage === b.mark?.stage && a.mark?.progress === b.mark?.progress && a.mark?.since === b.mark?.since);

/**
 * Stuck timing: the verdict an app or task gets as it is stored, and the entities whose verdict can flip with
 * time alone (apps in a transitional stage, active tasks), re-judged as time passes — each at the moment it can
 * flip (a deadline queue), not all of them on every pass: at 50,000 apps thousands are watched.
 */
export class StuckWatch {
  limits: StuckLimits = DEFAULT_STUCK_LIMITS;
  /** apps in a transitional stage and active tasks: their stuck verdict changes with time alone (stuck apps are among them) */
  readonly watched = { app_states: new SortedKeys(), tasks: new Set<string>() };
  /** per app in a transitional stage that reports progress: that progress and since when (stalled progress) */
  private readonly progress = new Map<string, ProgressMark>();
  /** per watched entity, when its verdict can next flip by time alone (nextAppFlip / nextTaskFlip) */
  private readonly due = { app_states: new DeadlineQueue(), tasks: new DeadlineQueue() };
  /** per app, what a fresh store would not know (StuckClock) */
  private readonly clocks = new Map<string, StuckClock>();
  /** the apps whose clock changed (or went) since the supervisor last took them */
  private readonly clocksChanged = new Set<string>();
  /** the clocks of the store this one replaces, until the app is first judged here (or the store is ready) */
  private restored = new Map<string, StuckClock>();

  /**
   * What the store adds to apps and tasks: an app keeps its stage_since while its stage stays the same
   * (a poll or event inside one stage does not restart the clock), and both get their stuck verdict.
   */
  judge<D extends Domain>(domain: D, key: string, item: DomainEntity[D], prev: DomainEntity[D] | undefined, now: number): DomainEntity[D] {
    if (domain === 'app_states') {
      let a = item as AppFlowState;
      const before = (prev as AppFlowState | undefined) ?? this.takeRestored(key);
      // a new operation in the same stage (an install canceled and started again) starts both clocks again: the
      // stall clock of the one before is not this one's, even at the same progress
      const sameStage = before !== undefined && before.stage === a.stage;
      const newOperation = newOperationInStage(before, a) !== undefined;
      if (sameStage && !newOperation && before.stage_since !== undefined && a.stage_since !== before.stage_since) {
        a = { ...a, stage_since: before.stage_since };
      }
      const mark = nextProgressMark(newOperation ? undefined : this.progress.get(key), a, now, this.limits) ?? undefined;
      if (mark) this.progress.set(key, mark);
      else this.progress.delete(key);
      // the stage_since kept goes with the clock while it differs from the row's (a re-judging hands in the stored
      // value, not the row: a clock that has it keeps it through the stage)
      const had = this.clocks.get(key);
      const kept = a.stage_since !== undefined && (a.stage_since !== (item as AppFlowState).stage_since
        || (had?.stage === a.stage && had.stage_since === a.stage_since));
      this.noteClock(key, kept || mark
        ? { stage: a.stage, ...(kept ? { stage_since: a.stage_since } : {}), ...(mark && { mark }) }
        : undefined);
      return withStuck(a, appVerdict(a, mark, now, this.limits)) as DomainEntity[D];
    }
    if (domain === 'tasks') {
      const t = item as TaskState;
      return withStuck(t, taskStuck(t, now, this.limits)) as DomainEntity[D];
    }
    return item;
  }

  /** The stored value (judged at `now`): watched while its verdict can still flip with time, due when it can. */
  watch(domain: Domain, key: string, value: object, now: number): void {
    if (domain === 'app_states') {
      const a = value as AppFlowState;
      if (isWatchedApp(a, this.limits)) {
        this.watched.app_states.add(key);
        this.due.app_states.schedule(key, nextAppFlip(a, this.progress.get(key), now, this.limits));
      } else {
        this.watched.app_states.delete(key);
        this.due.app_states.cancel(key);
      }
    } else if (domain === 'tasks') {
      const t = value as TaskState;
      if (isWatchedTask(t)) {
        this.watched.tasks.add(key);
        this.due.tasks.schedule(key, nextTaskFlip(t, now, this.limits));
      } else {
        this.watched.tasks.delete(key);
        this.due.tasks.cancel(key);
      }
    }
  }

  /** The entity left the view. */
  forget(domain: Domain, key: string): void {
    if (domain === 'components') return;
    this.watched[domain].delete(key);
    this.due[domain].cancel(key);
    if (domain === 'app_states') {
      this.progress.delete(key);
      this.noteClock(key, undefined);
    }
  }

  /**
   * The clocks that changed since the last call, a gone one as null (`all`: every clock, for a taker that
   * lost track): what the supervisor keeps for a store that replaces this one.
   */
  takeClocks(all = false): [string, StuckClock | null][] {
    const keys = all ? this.clocks.keys() : this.clocksChanged;
    const out: [string, StuckClock | null][] = [];
    for (const key of keys) out.push([key, this.clocks.get(key) ?? null]);
    this.clocksChanged.clear();
    return out;
  }

  /**
   * A dead store's clocks (its takeClocks, as the supervisor kept them), given before any pass: an app judged
   * here for the first time starts from its clock, as if this store had seen it before. They are also where
   * takeClocks counts changes from, since the supervisor holds them already.
   */
  restoreClocks(clocks: Iterable<[string, StuckClock]>): void {
    this.restored = new Map(clocks);
    for (const [key, clock] of this.restored) this.clocks.set(key, clock);
  }

  /** This store is ready (a pass of every source): a restored clock whose app it has not seen is of an app gone. */
  dropRestored(): void {
    for (const key of this.restored.keys()) this.noteClock(key, undefined);
    this.restored.clear();
  }

  /** The dead store's view of an app first judged here: its stage and the stage_since it kept, and its mark. */
  private takeRestored(key: string): Pick<AppFlowState, 'stage' | 'stage_since'> | undefined {
    const clock = this.restored.get(key);
    if (clock === undefined) return undefined;
    this.restored.delete(key);
    if (clock.mark) this.progress.set(key, clock.mark);
    return { stage: clock.stage, ...(clock.stage_since === undefined ? {} : { stage_since: clock.stage_since }) };
  }

  private noteClock(key: string, clock: StuckClock | undefined): void {
    if (sameClock(this.clocks.get(key), clock)) return;
    if (clock === undefined) this.clocks.delete(key);
    else this.clocks.set(key, clock);
    this.clocksChanged.add(key);
  }

  /** Time passes: hands `again` every watched row whose verdict crossed (or left) its limit at `now`. */
  recheck(tables: StoreTables, now: number, again: <D extends Timed>(domain: D, row: Row<DomainEntity[D]>) => void): void {
    for (const key of this.due.app_states.takeDue(now)) {
      const row = tables.apps.rows.get(key);
      if (!row) continue;
      // the reason and time too: stalled progress and the stage limit may come one after the other
      const verdict = appVerdict(row.value, this.progress.get(key), now, this.limits);
      if (verdict?.reason !== row.value.stuck_reason || verdict?.since !== row.value.stuck_since) again('app_states', row);
      else this.watch('app_states', key, row.value, now);
    }
    for (const key of this.due.tasks.takeDue(now)) {
      const row = tables.tasks.rows.get(key);
      if (!row) continue;
      if (Boolean(taskStuck(row.value, now, this.limits)) !== Boolean(row.value.stuck)) again('tasks', row);
      else this.watch('tasks', key, row.value, now);
    }
  }
}
