import type { AppFlowState, TaskState } from '../model/index.ts';

/**
 * What the store saw happen to one app or task, newest last: each transition of stage (tasks: status),
 * health, reported progress or stage detail, with the market's own time where the source gives one and the
 * evidence (which poll, which pushed event). Answers "what happened before, and is anything still moving?".
 */
export interface TimelineEntry {
  /** the market's time of the change where the source gives one, else when the sidecar saw it */
  at: string;
  /** apps: stage; tasks: status; `removed` when it left the view */
  stage: string;
  health?: string;
  /** as the source reports it (an app's metadata.status.progress), never the sidecar's task estimate */
  progress?: string;
  detail?: string;
  /** `poll user_application_states`, `event <eventID>`, `poll task_records`, ... */
  evidence: string;
}

export interface History {
  /** entries are complete from this time on (the store's start for apps; tasks are rebuilt from their times) */
  since: string;
  /** set once the app or task left the view; the history is kept TIMELINE_LIMITS.keepGoneMs from when the store saw it go */
  gone_at?: string;
  entries: TimelineEntry[];
}

/** Bounds (docs/api.md states them): per entity, in total, and how long the history of a departed one is kept. */
export const TIMELINE_LIMITS = {
  perEntity: 50,
  /**
   * ≤ 16 MiB: measured ~350 bytes of heap an entry with its history around it (times, details and event ids are
   * strings of their own) at 10,000 apps, so 45,000 entries for apps and tasks together; past it, departed
   * histories go first, then the least recently changed lose their oldest entries
   */
  total: 45_000,
  /** of that total: what task histories may hold (tasks in view are the active ones and the last RECENT_TASK_LIMIT) */
  tasks: 5_000,
  keepGoneMs: 60 * 60_000,
};

export type TimelineKind = 'app_states' | 'tasks';

interface Track {
  history: History;
  /** the tracked fields of the last entry, to tell a transition from a repeat */
  last: string;
}

/**
 * Timelines of one kind (apps or tasks). Map order is least recently changed first, so the total bound trims
 * the quietest histories; departed histories expire keepGoneMs after they left, whether or not anything else
 * changes (expire() is cheap enough to call on every read and every pass).
 */
export class Timeline {
  private readonly tracks = new Map<string, Track>();
  private size = 0;
  /** departed keys, in the order the store saw them go, with when each expires (ms): oldest first */
  private readonly departed = new Map<string, number>();
  /** entries appended since the last take(), per key (the change stream sends them), while someone listens */
  private fresh = new Map<string, TimelineEntry[]>();
  /** a stream client asked for timeline entries: only then are they collected for versions */
  listening = false;

  constructor(
    private readonly since: string,
    private readonly limits: Pick<typeof TIMELINE_LIMITS, 'perEntity' | 'total' | 'keepGoneMs'> = TIMELINE_LIMITS,
  ) {}

  /** Records `entry` unless it repeats the last one; returns true when it was recorded. */
  record(key: string, entry: TimelineEntry, firstSince?: string, seed: TimelineEntry[] = []): boolean {
    let track = this.tracks.get(key);
    const sig = signature(entry);
    if (track && track.last === sig && track.history.gone_at === undefined) return false;
    if (!track) {
      track = { history: { since: firstSince ?? this.since, entries: [] }, last: '' };
      for (const s of seed) this.append(key, track, s);
    } else {
      this.tracks.delete(key); // re-inserted below: most recently changed last
      delete track.history.gone_at;
      this.departed.delete(key);
    }
    this.tracks.set(key, track);
    if (signature(track.history.entries.at(-1) ?? null) !== sig) this.append(key, track, entry);
    track.last = sig;
    this.trim();
    return true;
  }

  /** The entity left the view (the store saw it go at `seenMs`): one last entry, and the history is kept for keepGoneMs. */
  gone(key: string, at: string, evidence: string, seenMs: number): void {
    const track = this.tracks.get(key);
    if (!track || track.history.gone_at !== undefined) return;
    this.tracks.delete(key); // re-inserted: most recently changed last
    this.tracks.set(key, track);
    this.append(key, track, { at, stage: 'removed', evidence });
    track.history.gone_at = at;
    track.last = '';
    // timed from the store's clock, not `at` (a market time): the map stays in expiry order
    this.departed.set(key, seenMs + this.limits.keepGoneMs);
    this.trim();
  }

  get(key: string): History | undefined {
    return this.tracks.get(key)?.history;
  }

  /** Drops the departed histories whose keepGoneMs has passed at `nowMs`: walks only those. */
  expire(nowMs: number): void {
    for (const [key, until] of this.departed) {
      if (until >= nowMs) return;
      this.dropDeparted(key);
    }
  }

  /** Entries appended since the last call, per key. */
  take(): Map<string, TimelineEntry[]> {
    const out = this.fresh;
    this.fresh = new Map();
    return out;
  }

  get entries(): number {
    return this.size;
  }

  private append(key: string, track: Track, entry: TimelineEntry): void {
    const entries = track.history.entries;
    entries.push(entry);
    this.size += 1;
    if (entries.length > this.limits.perEntity) {
      entries.shift();
      this.size -= 1;
    }
    if (!this.listening) return;
    let fresh = this.fresh.get(key);
    if (!fresh) this.fresh.set(key, (fresh = []));
    fresh.push(entry);
  }

  /**
   * Past the total bound, down to 90 % of it (so the walk runs once per many records): departed histories go
   * first, the earliest departed first (they would expire anyway; the apps and tasks in view are what an
   * operator asks about), then the least recently changed lose their oldest entries, then (only when every
   * history is down to one entry) the least recently changed histories go whole.
   */
  private trim(): void {
    if (this.size <= this.limits.total) return;
    const target = Math.floor(this.limits.total * 0.9);
    for (const key of this.departed.keys()) {
      if (this.size <= target) return;
      this.dropDeparted(key);
    }
    for (const track of this.tracks.values()) {
      if (this.size <= target) return;
      const entries = track.history.entries;
      while (entries.length > 1 && this.size > target) {
        entries.shift();
        this.size -= 1;
      }
    }
    for (const [key, track] of this.tracks) {
      if (this.size <= target) return;
      this.tracks.delete(key);
      this.size -= track.history.entries.length;
    }
  }

  private dropDeparted(key: string): void {
    this.departed.delete(key);
    const track = this.tracks.get(key);
    if (!track) return;
    this.tracks.delete(key);
    this.size -= track.history.entries.length;
  }

}

function signature(e: TimelineEntry | null): string {
  return e === null ? '' : `${e.stage}\u0000${e.health ?? ''}\u0000${e.progress ?? ''}\u0000${e.detail ?? ''}`;
}

/** An app's entry: its stage, health, reported progress and stage detail, at the market's time of the state. */
export function appEntry(a: AppFlowState, evidence: string, at?: string): TimelineEntry {
  const entry: TimelineEntry = { at: at ?? a.last_update, stage: a.stage, evidence };
  if (a.health !== undefined) entry.health = a.health;
  const progress = (a.metadata as { status?: { progress?: unknown } } | undefined)?.status?.progress;
  if ((typeof progress === 'string' && progress !== '') || typeof progress === 'number') entry.progress = String(progress);
  if (a.stage_detail) entry.detail = a.stage_detail;
  return entry;
}

/**
 * What a poll of an app says moved it: the task that forces its stage (stage_task), at the task's own time
 * (stage_since as the collector sends it: the task's start, or its creation while pending), when the task
 * moved after the state row did; else the poll, at the state row's time.
 */
export function polledAppEvidence(a: AppFlowState, poll: string): { evidence: string; at?: string } {
  const { stage_task: task, stage_since: taskAt } = a;
  if (task === undefined || taskAt === undefined || !(Date.parse(taskAt) > Date.parse(a.last_update))) return { evidence: poll };
  return { evidence: `task override ${task}`, at: taskAt };
}

/** A task's entry for its current status, at the task_records time that status has. */
export function taskEntry(t: TaskState, evidence: string, now: string): TimelineEntry {
  const at = t.status === 'pending' ? t.created_at
    : t.status === 'running' ? t.started_at ?? now
      : t.completed_at ?? now;
  const entry: TimelineEntry = { at, stage: t.status, evidence };
  if (t.error_msg) entry.detail = t.error_msg;
  return entry;
}

/**
 * A task first seen (at start, or after a store restart): its past rebuilt from task_records times, so the
 * timeline does not start at the restart.
 */
export function taskPast(t: TaskState): TimelineEntry[] {
  const past: TimelineEntry[] = [{ at: t.created_at, stage: 'pending', evidence: 'task_records.created_at' }];
  if (t.started_at !== undefined) past.push({ at: t.started_at, stage: 'running', evidence: 'task_records.started_at' });
  return past;
}
