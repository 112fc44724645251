import { clip } from '../collect/tasks.ts';
import { APP_STAGES, HEALTH, TASK_STATUSES, type AppFlowState, type TaskState } from '../model/index.ts';

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
  /** the stage detail (tasks: error_msg), clipped to TIMELINE_LIMITS.detail characters */
  detail?: string;
  /**
   * apps: set on the entry where a new operation began in the same stage (an install canceled and begun again):
   * its id (app-service's opID, else the task forcing the stage). It restarts the stuck clocks, so the reason's
   * time is an entry's
   */
  op?: string;
  /** `poll user_application_states`, `event <eventID>`, `poll task_records`, ... */
  evidence: string;
}

export interface History {
  /**
   * entries are complete from this time on: the store's start, or when the history was begun if the store had
   * already let go of a departed one by then (this could be it, back); tasks: their creation (rebuilt from their
   * times); never later than the first entry (an app's state row dated before the store started). Moves to the
   * oldest kept entry's time when older ones are dropped for the bounds.
   */
  since: string;
  /** set once the app or task left the view; the history is kept TIMELINE_LIMITS.keepGoneMs from when the store saw it go */
  gone_at?: string;
  entries: TimelineEntry[];
}

/** Bounds (docs/api.md states them): per entity, in total, and how long the history of a departed one is kept. */
export const TIMELINE_LIMITS = {
  perEntity: 50,
  /**
   * characters of an entry's detail (a stage detail or error_msg may hold 8,192; the row keeps it whole): with
   * it the total below bounds bytes, not only entries. Past it the detail ends in `…`
   */
  detail: 128,
  /**
   * entries beyond the latest of each app and task in view (those are never dropped: an app in view always
   * has a history), so at most total + one per app and task in view are held. ≤ 16 MiB: full at 10,000 apps and
   * 1,000 tasks in view (29,000 entries) with every detail at its bound, 15.5 MiB of heap (~560 bytes an entry: a two-byte detail
   * of 128 characters is 272 of them; bench/timeline-memory.ts, which prints it
   * against 16 MiB; test/store/timeline-memory.test.ts holds the entry counts). Past it, entries go in the order trim() gives
   */
  total: 18_000,
  /**
   * of that total: what task histories may hold (tasks in view are the active ones and the last RECENT_TASK_LIMIT),
   * the rest the apps'. Each kind may use what the other leaves of its share, and gives it back as the other grows
   * (EntityTimelines): a small market whose tasks come and go fast (the demo's: ~80 a minute) keeps their
   * departures for the hour in the room its few apps leave
   */
  tasks: 4_000,
  /**
   * A smaller market holds less: each kind's bound is this many entries per app (task) in view, at least
   * `floor`, at most its share of the total, so memory follows the market's size rather than filling to the
   * 10,000-app bound on a small market whose apps come and go (the demo's churn fills 18,000 in ~25 minutes)
   */
  perInView: 4,
  /** and this many per app (task) that left the view within keepGoneMs: its last state and `removed`, and one before */
  perGone: 3,
  floor: 1_000,
  keepGoneMs: 60 * 60_000,
};

export type TimelineKind = 'app_states' | 'tasks';

/**
 * Timelines of one kind (apps or tasks). Map order is least recently changed first, so each step of trim()
 * takes the quietest histories first; departed histories expire keepGoneMs after they left, whether or not anything else
 * changes (expire() is cheap enough to call on every read and every pass).
 */
export class Timeline {
  private readonly tracks = new Map<string, History>();
  private size = 0;
  /** departed keys, in the order the store saw them go, with when each expires (ms): oldest first */
  private readonly departed = new Map<string, number>();
  /** a departed history was dropped: a history begun since may be one of those, back, so it is not complete from the start */
  private forgot = false;
  /**
   * entries appended since the last take(), per key: every version carries them, so a stream client that
   * resumes with Last-Event-ID gets the entries of the versions it missed (the store commits, and takes, often)
   */
  private fresh = new Map<string, TimelineEntry[]>();

  /**
   * `start`: when the store started (or restarted). `room`: what the bound may be at most now, when it moves with
   * what another timeline holds (else `limits.total`)
   */
  constructor(
    private readonly start: string,
    private readonly limits: Pick<typeof TIMELINE_LIMITS, 'perEntity' | 'total' | 'keepGoneMs'>
      & Partial<Pick<typeof TIMELINE_LIMITS, 'perInView' | 'perGone' | 'floor'>> = TIMELINE_LIMITS,
    private readonly room: () => number = () => limits.total,
  ) {}

  /**
   * The bound on entries beyond the latest of each history in view, now: it follows what is in view (perInView)
   * and what left it within keepGoneMs (perGone), so a small market whose apps come and go keeps an hour of
   * departures and holds no more than that.
   */
  get bound(): number {
    const { perInView, perGone = 0, floor = 0 } = this.limits;
    const total = this.room();
    return perInView === undefined ? total : Math.min(total, Math.max(floor, perInView * this.inView + perGone * this.departed.size));
  }

  /** The entries the bound counts: all but the latest of each history in view. */
  get beyondLatest(): number {
    return this.size - this.inView;
  }

  /** Trims to the bound, which may have moved with another timeline (room) since this one last recorded. */
  fit(): void {
    this.trim();
  }

  /**
   * Records `entry` unless it repeats the last one; returns true when it was recorded. `past`: the entity's
   * earlier states as its source dates them (a task's pending and running from task_records): a history begun
   * here starts with them, and one that missed a state between two polls (pending, then already completed)
   * gains the ones dated after its last entry. `now` (the store's clock) and `firstSince` (a task's creation)
   * only matter to a history begun here. An entry dated before the last one (an app back to running when a task
   * override ended, dated by its older state row) is dated when the store saw it: a history never runs backwards.
   */
  record(key: string, entry: TimelineEntry, now: string, firstSince?: string, past: TimelineEntry[] = []): boolean {
    let history = this.tracks.get(key);
    // (a departed history's last entry is `removed`: whatever comes back is a transition)
    if (history && sameState(history.entries.at(-1), entry)) return false;
    if (!history) {
      history = { since: firstSince ?? (this.forgot ? now : this.start), entries: [] };
      for (const s of past) this.append(key, history, s);
    } else {
      this.tracks.delete(key); // re-inserted below: most recently changed last
      delete history.gone_at;
      this.departed.delete(key);
      for (const s of past) {
        const last = history.entries.at(-1);
        // (a status the source dates at the same instant as the next one — a task that failed as it started — is kept)
        if (last !== undefined && ms(s.at) > ms(last.at) && ms(s.at) <= ms(entry.at) && s.stage !== last.stage) this.append(key, history, s);
      }
    }
    this.tracks.set(key, history);
    const last = history.entries.at(-1);
    const begun = last === undefined;
    if (!sameState(last, entry)) {
      this.append(key, history, { ...entry, at: forwardOf(last, entry.at, entry.evidence, now) });
    }
    if (begun) sinceNoLaterThanFirst(history);
    this.trim();
    return true;
  }

  /**
   * The entity left the view (the store saw it go at `seenMs`; `at`, the market's time of it when the source read
   * it, else then): one last entry — with `detail`, the state it left in (`uninstalled`) — and the history is
   * kept for keepGoneMs.
   */
  gone(key: string, at: string, evidence: string, seenMs: number, detail?: string): void {
    const history = this.tracks.get(key);
    if (!history || history.gone_at !== undefined) return;
    this.tracks.delete(key); // re-inserted: most recently changed last
    this.tracks.set(key, history);
    const when = forwardOf(history.entries.at(-1), at, evidence, new Date(seenMs).toISOString());
    this.append(key, history, { at: when, stage: 'removed', ...(detail ? { detail: entryDetail(detail) } : {}), evidence });
    history.gone_at = when;
    // timed from the store's clock, not `at` (a market time): the map stays in expiry order
    this.departed.set(key, seenMs + this.limits.keepGoneMs);
    this.trim();
  }

  get(key: string): History | undefined {
    return this.tracks.get(key);
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

  /** Histories of apps or tasks in view: the latest entry of each is kept whatever the total bound. */
  get inView(): number {
    return this.tracks.size - this.departed.size;
  }

  private append(key: string, history: History, entry: TimelineEntry): void {
    const entries = history.entries;
    entries.push(entry);
    this.size += 1;
    if (entries.length > this.limits.perEntity) {
      entries.shift();
      this.size -= 1;
      keptFrom(history);
    }
    let fresh = this.fresh.get(key);
    if (!fresh) this.fresh.set(key, (fresh = []));
    fresh.push(entry);
  }

  /**
   * Past the bound (which counts all but the latest entry of each history in view), what an operator asks about
   * least goes first:
   * 1. departed histories lose their oldest entries down to their last perGone ("uninstalling, then removed at
   *    10:42" stays answerable for keepGoneMs), the earliest departed first;
   * 2. settled histories in view (running or stopped and not unhealthy; a finished task) lose their oldest
   *    entries down to their latest, the least recently changed first;
   * 3. only when the room binds (the total, or what the other kind leaves), or the bound keeps no entries of
   *    departed histories (perGone 0): departed histories go whole, the earliest departed first;
   * 4. the rest in view — in a transitional stage, failed or unhealthy: the ones a "why is it stuck?" is about,
   *    which by being stuck are the least recently changed — lose their oldest entries, down to their latest.
   * An app or task in view never loses its latest entry, however many there are: they bring their own bound.
   * So that the walk runs once per many records, a trim goes a margin (10 % of the share of the histories in
   * view) below the room when the room binds, and else may be passed by that margin before it trims back to the
   * bound: a bound that follows the departures (perGone each) holds them whole, so dropping one would only lower
   * it as much, and a margin below it would take every departure down to the floor.
   */
  private trim(): void {
    const bound = this.bound;
    const room = this.room();
    // 10 % of what the apps in view may hold, not of the bound: the departures' share is theirs to keep
    const { perInView, floor = 0 } = this.limits;
    const inViewShare = perInView === undefined ? bound : Math.min(bound, Math.max(floor, perInView * this.inView));
    const margin = Math.max(1, Math.floor(inViewShare * 0.1));
    const capped = bound >= room;
    if (this.size - this.inView <= (capped ? bound : Math.min(room, bound + margin))) return;
    const target = capped ? bound - margin : bound;
    const over = () => this.size - this.inView - target;
    const keepGone = this.limits.perGone ?? 0;
    if (keepGone > 0) {
      for (const key of this.departed.keys()) {
        if (over() <= 0) return;
        this.dropOldest(this.tracks.get(key), keepGone, over());
      }
    }
    for (const [key, history] of this.tracks) {
      if (over() <= 0) return;
      if (!this.departed.has(key) && settled(history.entries.at(-1))) this.dropOldest(history, 1, over());
    }
    // (a bound that counts no entries per departure is not lowered by dropping one)
    if (capped || keepGone === 0) {
      for (const key of this.departed.keys()) {
        if (over() <= 0) return;
        this.dropDeparted(key);
      }
    }
    // only histories in view are left (and, below the room, departed ones at their last perGone)
    for (const [key, history] of this.tracks) {
      if (over() <= 0) return;
      if (!this.departed.has(key)) this.dropOldest(history, 1, over());
    }
  }

  /** Drops up to `most` of the history's oldest entries, keeping at least its last `keep`. */
  private dropOldest(history: History | undefined, keep: number, most: number): void {
    if (!history) return;
    const drop = Math.min(history.entries.length - keep, most);
    if (drop <= 0) return;
    history.entries.splice(0, drop);
    this.size -= drop;
    keptFrom(history);
  }

  private dropDeparted(key: string): void {
    this.departed.delete(key);
    const history = this.tracks.get(key);
    if (!history) return;
    this.tracks.delete(key);
    this.size -= history.entries.length;
    this.forgot = true;
  }

}

/** The oldest entries were dropped: the history is complete from its oldest kept entry's time (never earlier than it said). */
function keptFrom(history: History): void {
  const first = history.entries[0];
  if (first !== undefined && Date.parse(first.at) > Date.parse(history.since)) history.since = first.at;
}

/**
 * A history begun with an entry the market dates before its `since` (an app's state row older than the store's
 * start, a task's created_at after a clock skew): it is complete from that entry on, not from later, as nothing
 * moved it between that time and the store's first look. `since` is never later than the first entry.
 */
function sinceNoLaterThanFirst(history: History): void {
  const first = history.entries[0];
  if (first !== undefined && ms(first.at) < ms(history.since)) history.since = first.at;
}

/** Stages (task statuses) an app (task) rests in when all is well: their histories are the first trimmed. */
const SETTLED = new Set<string>(['running', 'stopped', 'completed', 'canceled']);
function settled(e: TimelineEntry | undefined): boolean {
  return e !== undefined && SETTLED.has(e.stage) && e.health !== 'unhealthy';
}

/** Whether `e` says what `next` says (its time and evidence aside): `next` would repeat it. A new operation never does. */
function sameState(e: TimelineEntry | undefined, next: TimelineEntry): boolean {
  return e !== undefined && e.stage === next.stage && e.health === next.health && e.progress === next.progress && e.detail === next.detail
    && next.op === undefined;
}

/**
 * An entry's time as the history keeps it: never back from the last entry's. A source time at or before it (a
 * task override ended and the state row is older; progress rewritten without updated_at) is dated when the
 * store saw it, `now`, or at the last entry's time should the store's clock be behind it (a task_records time
 * equal to the last entry's is kept).
 */
function forwardOf(last: TimelineEntry | undefined, at: string, evidence: string, now: string): string {
  if (last === undefined || ms(at) > ms(last.at)) return at;
  // a task_records time equal to the last entry's is the market's own (a task that ended as it started, or was
  // canceled as it was created): kept, so the entry says what its evidence names, and a history read live, rebuilt
  // after a restart or on another replica is the same (and keeps its ETag)
  if (ms(at) === ms(last.at) && evidence.startsWith('task_records.')) return at;
  return ms(now) > ms(last.at) ? now : last.at;
}

/** A time as milliseconds (RFC 3339 texts of other forms do not compare as strings); an unreadable one is 0. */
function ms(at: string): number {
  const t = Date.parse(at);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * One copy of each short value entries repeat: stages, statuses, healths and progress values. A pass crosses to
 * the store as a structured clone, so without this every entry would hold strings of its own for them.
 */
const SHARED = new Map<string, string>([...APP_STAGES, ...HEALTH, ...TASK_STATUSES].map((v) => [v, v]));
function shared(value: string): string {
  const known = SHARED.get(value);
  if (known !== undefined) return known;
  // progress values ("12", "64.5"): few distinct ones; longer or past the cap, the entry keeps its own
  if (value.length <= 6 && SHARED.size < 4096) SHARED.set(value, value);
  return value;
}

/**
 * An app's entry: its stage, health, reported progress and stage detail, at the market's time of the state;
 * `op` when a new operation began in the same stage (newOperationInStage).
 */
export function appEntry(a: AppFlowState, evidence: string, at?: string, op?: string): TimelineEntry {
  const entry: TimelineEntry = { at: at ?? a.last_update, stage: shared(a.stage), evidence };
  if (a.health !== undefined) entry.health = shared(a.health);
  const progress = (a.metadata as { status?: { progress?: unknown } } | undefined)?.status?.progress;
  if ((typeof progress === 'string' && progress !== '') || typeof progress === 'number') entry.progress = shared(String(progress));
  if (a.stage_detail) entry.detail = entryDetail(a.stage_detail);
  if (op !== undefined) entry.op = op;
  return entry;
}

/** The operation an app's state belongs to (app-service's opID), when it names one. */
function operationOf(a: Partial<Pick<AppFlowState, 'metadata'>>): string | undefined {
  const id = (a.metadata as { status?: { opID?: unknown } } | undefined)?.status?.opID;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/**
 * The operation `a` began, when it is a new one in the stage `before` was in: an install canceled and started
 * again (a new opID, or a new task forcing the stage), whether or not the store saw the app leave in between.
 * Unknown on either side: the same (a dead store's clock names none). Both stuck clocks start again, and the
 * timeline gets an entry naming it.
 */
export function newOperationInStage(before: Partial<AppFlowState> | undefined, a: AppFlowState): string | undefined {
  if (before === undefined || before.stage !== a.stage) return undefined;
  const [was, is] = [operationOf(before), operationOf(a)];
  if (was !== undefined && is !== undefined && was !== is) return is;
  return before.stage_task !== undefined && a.stage_task !== undefined && before.stage_task !== a.stage_task ? a.stage_task : undefined;
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

/**
 * A task's entry for its current status, at the task_records time that status has, named as its evidence (as
 * taskPast names it: a history seen live and one rebuilt after a restart read the same, and so keep their ETag);
 * `evidence` when the row has no such time and the entry is dated when seen.
 */
export function taskEntry(t: TaskState, evidence: string, now: string): TimelineEntry {
  const column = t.status === 'pending' ? 'created_at' : t.status === 'running' ? 'started_at' : 'completed_at';
  const recorded = t[column];
  const entry: TimelineEntry = recorded === undefined
    ? { at: now, stage: shared(t.status), evidence }
    : { at: recorded, stage: shared(t.status), evidence: `task_records.${column}` };
  if (t.error_msg) entry.detail = entryDetail(t.error_msg);
  return entry;
}

/**
 * A detail as an entry keeps it: at most TIMELINE_LIMITS.detail characters, and past it a string of its own
 * (a slice would keep the whole text alive; a structured clone copies it).
 */
function entryDetail(text: string): string {
  return text.length <= TIMELINE_LIMITS.detail ? text : structuredClone(clip(text, TIMELINE_LIMITS.detail));
}

/**
 * A task's past from its task_records times: a history begun at start or after a store restart starts with it
 * (it does not start at the restart), and one that missed a status between two polls gains it (Timeline.record).
 */
export function taskPast(t: TaskState): TimelineEntry[] {
  const past: TimelineEntry[] = [{ at: t.created_at, stage: 'pending', evidence: 'task_records.created_at' }];
  if (t.started_at !== undefined) past.push({ at: t.started_at, stage: 'running', evidence: 'task_records.started_at' });
  return past;
}
