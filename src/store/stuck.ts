import type { AppFlowState, AppStage, TaskState } from '../model/index.ts';

/** How long an app may stay in a transitional stage, and a task pending or running, before it is stuck. */
export interface StuckLimits {
  stages: Partial<Record<AppStage, number>>;
  taskPendingMs: number;
  taskRunningMs: number;
}

const MIN = 60_000;

/** Defaults: long enough for a large image pull or a slow chart, short enough to catch a hang. */
export const DEFAULT_STUCK_LIMITS: StuckLimits = {
  stages: { fetching: 15 * MIN, hydrating: 15 * MIN, installing: 30 * MIN, upgrading: 30 * MIN, uninstalling: 15 * MIN },
  taskPendingMs: 30 * MIN,
  taskRunningMs: 60 * MIN,
};

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % MIN === 0) return `${ms / MIN}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** stuck/stuck_reason for an app at `now`; the reason is stable (no running age), so it renders once. */
export function appStuck(a: AppFlowState, now: number, limits: StuckLimits): { stuck: true; reason: string } | null {
  const limit = limits.stages[a.stage];
  if (limit === undefined || a.stage_since === undefined) return null;
  const since = Date.parse(a.stage_since);
  if (Number.isNaN(since) || now - since <= limit) return null;
  return { stuck: true, reason: `${a.stage} for longer than ${formatDuration(limit)} (since ${a.stage_since})` };
}

export function taskStuck(t: TaskState, now: number, limits: StuckLimits): { stuck: true; reason: string } | null {
  const [limit, sinceText] = t.status === 'pending' ? [limits.taskPendingMs, t.created_at]
    : t.status === 'running' ? [limits.taskRunningMs, t.started_at ?? t.created_at]
    : [undefined, undefined];
  if (limit === undefined || sinceText === undefined) return null;
  const since = Date.parse(sinceText);
  if (Number.isNaN(since) || now - since <= limit) return null;
  return { stuck: true, reason: `${t.status} for longer than ${formatDuration(limit)} (since ${sinceText})` };
}

/** The entity with its stuck fields set or cleared. */
export function withStuck<T extends { stuck?: boolean; stuck_reason?: string }>(
  value: T, verdict: { stuck: true; reason: string } | null,
): T {
  if (verdict) return { ...value, stuck: true, stuck_reason: verdict.reason };
  if (value.stuck === undefined && value.stuck_reason === undefined) return value;
  const { stuck: _s, stuck_reason: _r, ...rest } = value;
  return rest as T;
}

/** Stages and task statuses whose entities must be re-checked as time passes. */
export function isWatchedApp(a: AppFlowState, limits: StuckLimits): boolean {
  return limits.stages[a.stage] !== undefined;
}

export function isWatchedTask(t: TaskState): boolean {
  return t.status === 'pending' || t.status === 'running';
}
