import type { AppFlowState, AppStage, TaskState } from '../model/index.ts';

/** How long an app may stay in a transitional stage, and a task pending or running, before it is stuck. */
export interface StuckLimits {
  stages: Partial<Record<AppStage, number>>;
  taskPendingMs: number;
  taskRunningMs: number;
  /** an app in a transitional stage whose reported progress has not moved for this long is stuck (STUCK_STALLED) */
  progressStalledMs: number;
}

const MIN = 60_000;

/** Defaults: long enough for a large image pull or a slow chart, short enough to catch a hang. */
export const DEFAULT_STUCK_LIMITS: StuckLimits = {
  stages: { fetching: 15 * MIN, hydrating: 15 * MIN, installing: 30 * MIN, upgrading: 30 * MIN, uninstalling: 15 * MIN },
  taskPendingMs: 30 * MIN,
  taskRunningMs: 60 * MIN,
  progressStalledMs: 10 * MIN,
};

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % MIN === 0) return `${ms / MIN}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * A verdict: stuck, why, and since when it has been stuck where it is (RFC 3339; pages count its age from it).
 * Both are fixed points (no running age), so an entity renders once per verdict.
 */
export interface StuckVerdict {
  stuck: true;
  reason: string;
  since: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** stuck/stuck_reason/stuck_since for an app at `now`. */
function appStuck(a: AppFlowState, now: number, limits: StuckLimits): StuckVerdict | null {
  const limit = limits.stages[a.stage];
  if (limit === undefined || a.stage_since === undefined) return null;
  const since = Date.parse(a.stage_since);
  if (Number.isNaN(since) || now - since <= limit) return null;
  return { stuck: true, reason: `${a.stage} for longer than ${formatDuration(limit)} (since ${clockTime(since)})`, since: iso(since) };
}

/** An active task's limit and the time it counts from (null: not active, or no time to count from). */
function taskClock(t: TaskState, limits: StuckLimits): { limit: number; since: number } | null {
  const [limit, sinceText] = t.status === 'pending' ? [limits.taskPendingMs, t.created_at]
    : t.status === 'running' ? [limits.taskRunningMs, t.started_at ?? t.created_at]
    : [undefined, undefined];
  if (limit === undefined || sinceText === undefined) return null;
  const since = Date.parse(sinceText);
  return Number.isNaN(since) ? null : { limit, since };
}

export function taskStuck(t: TaskState, now: number, limits: StuckLimits): StuckVerdict | null {
  const c = taskClock(t, limits);
  if (c === null || now - c.since <= c.limit) return null;
  return { stuck: true, reason: `${t.status} for longer than ${formatDuration(c.limit)} (since ${clockTime(c.since)})`, since: iso(c.since) };
}

/** The entity with its stuck fields set or cleared. */
export function withStuck<T extends { stuck?: boolean; stuck_reason?: string; stuck_since?: string }>(
  value: T, verdict: StuckVerdict | null,
): T {
  if (verdict) return { ...value, stuck: true, stuck_reason: verdict.reason, stuck_since: verdict.since };
  if (value.stuck === undefined && value.stuck_reason === undefined && value.stuck_since === undefined) return value;
  const { stuck: _s, stuck_reason: _r, stuck_since: _t, ...rest } = value;
  return rest as T;
}

/**
 * The first time after `now` at which the app's verdict (its reason included) can differ with nothing else
 * changing: its stage limit passed, its progress stalled, or — once stalled — the next UTC midnight (the reason
 * names the day once it is not today's). Infinity: never by time alone. The store re-judges it then.
 */
export function nextAppFlip(a: AppFlowState, mark: ProgressMark | undefined, now: number, limits: StuckLimits): number {
  const limit = limits.stages[a.stage];
  if (limit === undefined) return Infinity;
  let next = Infinity;
  const since = a.stage_since === undefined ? NaN : Date.parse(a.stage_since);
  if (!Number.isNaN(since) && now - since <= limit) next = since + limit + 1;
  if (mark !== undefined && mark.stage === a.stage && mark.progress === reportedProgress(a)) {
    const stalledAt = mark.since + limits.progressStalledMs + 1;
    if (now < stalledAt) next = Math.min(next, stalledAt);
    else if (dayOf(mark.since) === dayOf(now)) next = Math.min(next, (dayOf(now) + 1) * DAY);
  }
  return next;
}

/** The first time after `now` at which the task's verdict can flip by time alone (Infinity: never). */
export function nextTaskFlip(t: TaskState, now: number, limits: StuckLimits): number {
  const c = taskClock(t, limits);
  return c !== null && now - c.since <= c.limit ? c.since + c.limit + 1 : Infinity;
}

const DAY = 86_400_000;
const dayOf = (ms: number) => Math.floor(ms / DAY);

/** Stages and task statuses whose entities must be re-checked as time passes. */
export function isWatchedApp(a: AppFlowState, limits: StuckLimits): boolean {
  return limits.stages[a.stage] !== undefined;
}

export function isWatchedTask(t: TaskState): boolean {
  return t.status === 'pending' || t.status === 'running';
}

/**
 * What the store remembers per app to tell stalled progress: the progress its source last reported, in which
 * stage, and since when (ms) it has had that value. Kept only while the app is in a transitional stage and
 * reports a progress.
 */
export interface ProgressMark {
  stage: AppStage;
  progress: string;
  since: number;
}

/**
 * What this store knows of an app that a fresh store reading the same rows would not (docs/architecture.md,
 * "What a store restart keeps"): the stage_since it kept through the stage (a later event's time would restart
 * it) and the progress mark of a stall clock. Kept only where it differs from what the rows say, handed to the
 * supervisor (takeClocks) and given to a store that replaces this one (restoreClocks), so that a restart alone
 * changes no verdict, no stage_since and no ETag.
 */
export interface StuckClock {
  stage: AppStage;
  /** the stage_since kept, when the row's own differs */
  stage_since?: string;
  mark?: ProgressMark;
}

/**
 * The app's progress as its source reports it (app-service's `progress`, kept in metadata.status), or null
 * when it reports none. The sidecar's own estimates (tasks) never count here.
 */
export function reportedProgress(a: AppFlowState): string | null {
  const status = (a.metadata as { status?: { progress?: unknown } } | undefined)?.status;
  const p = status?.progress;
  if (typeof p === 'number' && Number.isFinite(p)) return String(p);
  if (typeof p !== 'string') return null;
  const text = p.trim();
  return text === '' ? null : text;
}

/**
 * The mark after seeing `a` at `now`: the same mark while stage and progress stay the same; a new one when
 * either changes, dated from the market's record of the new state (its last_update, never later than now), so
 * a restarted sidecar does not start the clock again; at `now` when that record is no later than the last mark. Null: not in a transitional stage, or no progress
 * (or 100 %) to watch.
 */
export function nextProgressMark(prev: ProgressMark | undefined, a: AppFlowState, now: number, limits: StuckLimits): ProgressMark | null {
  if (limits.stages[a.stage] === undefined) return null;
  const progress = reportedProgress(a);
  // complete progress cannot move any more: what follows (pods starting) is judged by time in stage alone
  if (progress === null || Number(progress) >= 100) return null;
  if (prev !== undefined && prev.stage === a.stage && prev.progress === progress) return prev;
  const recorded = Date.parse(a.last_update);
  // a move the record's time did not follow (the market may rewrite progress without touching updated_at; the
  // poll sees the row by xmin) cannot be dated by it: it moved when seen
  const moved = prev === undefined || recorded > prev.since;
  const since = Number.isNaN(recorded) || !moved ? now : Math.min(now, recorded);
  return { stage: a.stage, progress, since };
}

/** "12 %" for a number, else the text as the source gave it. */
function progressText(progress: string): string {
  const n = Number(progress);
  return Number.isFinite(n) ? `${n} %` : JSON.stringify(progress);
}

/**
 * "2026-12-06 10:02 UTC": a fixed point in time, never a running age, and never relative to now either (a
 * verdict held since yesterday reads as one judged afresh today: same text, same ETag, on every replica).
 */
export function clockTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** "progress 12 % since 2026-12-06 10:02 UTC" when the reported progress has not moved for `progressStalledMs`, else null. */
function stalledProgress(a: AppFlowState, mark: ProgressMark | undefined, now: number, limits: StuckLimits): string | null {
  if (mark === undefined || mark.stage !== a.stage || mark.progress !== reportedProgress(a)) return null;
  if (now - mark.since <= limits.progressStalledMs) return null;
  return `progress ${progressText(mark.progress)} since ${clockTime(mark.since)}`;
}

/**
 * The app's whole verdict: too long in its stage, progress stalled, or both (one reason naming both; stuck
 * since the progress stalled, where it is now). This is what the store sets with withStuck, and compares
 * (reason and time) when time passes.
 */
export function appVerdict(a: AppFlowState, mark: ProgressMark | undefined, now: number, limits: StuckLimits): StuckVerdict | null {
  const inStage = appStuck(a, now, limits);
  const stalled = stalledProgress(a, mark, now, limits);
  if (stalled === null) return inStage;
  const since = iso(mark!.since);
  return { stuck: true, reason: inStage ? `${inStage.reason}, ${stalled}` : `${a.stage}, ${stalled}`, since };
}
