import * as v from 'valibot';
import { JsonObject, LIMITS, type TaskState, type TaskStatus, type TaskType } from '../model/index.ts';
import { goInstantText, isSetGoInstant } from '../model/go-time.ts';
import type { TaskRow } from '../sources/market-rows.ts';

/** task_records.type (the market's task.TaskType) */
export const TASK_TYPE_BY_INT: Readonly<Record<number, TaskType>> = {
  1: 'install', 2: 'uninstall', 3: 'cancel', 4: 'upgrade', 5: 'clone',
};
/** task_records.status (the market's task.TaskStatus) */
export const TASK_STATUS_BY_INT: Readonly<Record<number, TaskStatus>> = {
  1: 'pending', 2: 'running', 3: 'completed', 4: 'failed', 5: 'canceled',
};

export interface TaskCounters {
  rows: number;
  unknown_type: number;
  unknown_status: number;
  bad_metadata: number;
}

/**
 * The Go module's estimate: a running task is assumed to take ~5 minutes, so elapsed minutes / 5 × 100,
 * held at 90 until it completes; completed 100; pending, failed, canceled 0. It moves in steps of 10, read at
 * the clock's 30 s marks: an estimate from the clock alone must not mint a version on every pass. (Go's `progress` is
 * omitempty: taskFromRow leaves a 0 out.)
 */
const PROGRESS_STEP_MS = 30_000;

export function taskProgress(status: TaskStatus, startedAt: Date | null, now: Date): number | undefined {
  switch (status) {
    case 'running': {
      if (startedAt === null) return 0;
      // read at the last 30 s mark of the clock, not now: every running task steps at the same instant (one
      // version for all of them, the same on every replica) rather than each 30 s from its own start
      const at = Math.floor(now.getTime() / PROGRESS_STEP_MS) * PROGRESS_STEP_MS;
      const minutes = (at - startedAt.getTime()) / 60_000;
      return Math.min(90, Math.max(0, Math.floor((minutes / 5) * 10) * 10));
    }
    case 'completed': return 100;
    case 'pending':
    case 'failed':
    case 'canceled': return 0;
    default: return undefined;
  }
}

/** metadata TEXT holding a JSON object; undefined + bad when it is anything else. Empty text = none. */
export function parseMetadata(text: string | null): { value?: JsonObject; bad: boolean } {
  if (text === null || text.trim() === '') return { bad: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { bad: true };
  }
  const r = v.safeParse(JsonObject, parsed);
  if (!r.success || Array.isArray(parsed)) return { bad: true };
  return { value: Object.keys(r.output).length > 0 ? r.output : undefined, bad: false };
}

/** At most `max` UTF-16 units, ending in `…` when cut; never half of a surrogate pair (strict decoders refuse one). */
export function clip(text: string, max: number = LIMITS.text): string {
  if (text.length <= max) return text;
  const end = max - 1;
  const high = text.charCodeAt(end - 1);
  return text.slice(0, high >= 0xd800 && high <= 0xdbff ? end - 1 : end) + '…';
}

/** A time that may be absent: one that is not set counts as absent (the key is omitempty). */
const isSet = (d: Date | null): d is Date => d !== null && isSetGoInstant(d.getTime());

/** One task row -> TaskState; counts what it could not map. */
function taskFromRow(row: TaskRow, now: Date, counters: TaskCounters): TaskState {
  const type = TASK_TYPE_BY_INT[row.type] ?? 'unknown';
  const status = TASK_STATUS_BY_INT[row.status] ?? 'unknown';
  if (type === 'unknown') counters.unknown_type += 1;
  if (status === 'unknown') counters.unknown_status += 1;
  const metadata = parseMetadata(row.metadata);
  if (metadata.bad) counters.bad_metadata += 1;
  const started = isSet(row.started_at) ? row.started_at : null;
  const progress = taskProgress(status, started, now);
  const task: TaskState = {
    task_id: row.task_id,
    type,
    status,
    app_name: row.app_name,
    created_at: goInstantText(row.created_at),
  };
  if (row.user_account !== '') task.user_id = row.user_account;
  if (row.op_id !== '') task.op_id = row.op_id;
  if (progress !== undefined && progress !== 0) task.progress = progress;
  if (started) task.started_at = goInstantText(started);
  if (isSet(row.completed_at)) task.completed_at = goInstantText(row.completed_at);
  if (row.result !== '') task.result = clip(row.result);
  if (row.error_msg !== '') task.error_msg = clip(row.error_msg);
  if (metadata.value !== undefined) task.metadata = metadata.value;
  return task;
}

function emptyTaskCounters(): TaskCounters {
  return { rows: 0, unknown_type: 0, unknown_status: 0, bad_metadata: 0 };
}

/**
 * Active rows plus recent rows -> one TaskState per row. Both reads share one REPEATABLE READ snapshot, split
 * by status, and task_id is UNIQUE in task_records, so a task comes once.
 */
export function normalizeTasks(rows: readonly TaskRow[], now: Date): { items: TaskState[]; counters: TaskCounters } {
  const counters = emptyTaskCounters();
  counters.rows = rows.length;
  const items = rows.map((row) => taskFromRow(row, now, counters));
  return { items, counters };
}
