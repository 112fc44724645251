import type { AppFlowState, TaskState } from '../model/index.ts';
import type { Domain, VersionChanges } from '../protocol.ts';
import { appEntry, taskEntry, taskPast, Timeline, TIMELINE_LIMITS, type TimelineKind } from './timeline.ts';

const KINDS = ['app_states', 'tasks'] as const satisfies readonly TimelineKind[];

/** What happened to each app and task (…/history): the two timelines and what the store records in them. */
export class EntityTimelines {
  private readonly of: Record<TimelineKind, Timeline>;

  constructor(since: string, private readonly clock: () => Date) {
    // one bound for both: apps get what tasks do not, and each may use what the other leaves of its share (the
    // other takes it back as it grows: record() fits the other kind to its bound after each entry)
    const { total, tasks } = TIMELINE_LIMITS;
    const share: Record<TimelineKind, number> = { app_states: total - tasks, tasks };
    const room = (other: TimelineKind) => () => total - Math.min(this.of[other].beyondLatest, share[other]);
    this.of = {
      app_states: new Timeline(since, { ...TIMELINE_LIMITS, total: share.app_states }, room('tasks')),
      tasks: new Timeline(since, { ...TIMELINE_LIMITS, total: share.tasks }, room('app_states')),
    };
  }

  /**
   * An entity changed: `evidence` (and the time it gives, if any) is what the entry records; `op`, the operation
   * an app began in the stage it was in (newOperationInStage).
   */
  record(domain: Domain, key: string, value: object, evidence: string, at?: string, op?: string): void {
    if (domain === 'app_states') {
      this.of.app_states.record(key, appEntry(value as AppFlowState, evidence, at, op), this.clock().toISOString());
      this.of.tasks.fit();
    } else if (domain === 'tasks') {
      const t = value as TaskState;
      const now = this.clock().toISOString();
      this.of.tasks.record(key, taskEntry(t, evidence, now), now, t.created_at, taskPast(t));
      this.of.app_states.fit();
    }
  }

  gone(domain: Domain, key: string, at: string, evidence: string, detail?: string): void {
    if (domain === 'components') return;
    this.of[domain].gone(key, at, evidence, this.clock().getTime(), detail);
    this.of[domain === 'app_states' ? 'tasks' : 'app_states'].fit();
  }

  /** Drops the histories of departed apps and tasks whose time is up: content of no version, so none is minted. */
  expire(): void {
    const now = this.clock().getTime();
    for (const kind of KINDS) this.of[kind].expire(now);
  }

  /** Entries recorded since the last call, as a version carries them (undefined: none). */
  take(): VersionChanges['timeline'] {
    const timeline: NonNullable<VersionChanges['timeline']> = { app_states: [], tasks: [] };
    for (const kind of KINDS) {
      for (const [key, entries] of this.of[kind].take()) timeline[kind].push({ key, json: JSON.stringify(entries) });
    }
    return timeline.app_states.length > 0 || timeline.tasks.length > 0 ? timeline : undefined;
  }

  /**
   * How many entries each kind holds, and how many of its histories are of apps or tasks in view (bounded by
   * TIMELINE_LIMITS: at most its share of the total plus one entry per history in view; bench/timeline-memory.ts
   * measures them full).
   */
  entries(): Record<TimelineKind, { entries: number; in_view: number; bound: number }> {
    const of = (t: Timeline) => ({ entries: t.entries, in_view: t.inView, bound: t.bound });
    return { app_states: of(this.of.app_states), tasks: of(this.of.tasks) };
  }

  /** What the store saw happen to one app or task (kept a while after it left the view), or null. */
  history(kind: TimelineKind, key: string): string | null {
    this.of[kind].expire(this.clock().getTime());
    const h = this.of[kind].get(key);
    return h ? JSON.stringify({ key, ...h }) : null;
  }
}
