import * as v from 'valibot';
import { Id, JsonObject, StuckEntries, Text, Time } from './common.ts';

export const TASK_TYPES = ['install', 'uninstall', 'upgrade', 'cancel', 'clone', 'unknown'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'canceled', 'unknown'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** One background task of the market. Key: task_id. */
export const TaskState = v.object({
  task_id: Id,
  type: v.picklist(TASK_TYPES),
  status: v.picklist(TASK_STATUSES),
  app_name: Id,
  user_id: v.optional(Id),
  op_id: v.optional(Id),
  progress: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
  created_at: Time,
  started_at: v.optional(Time),
  completed_at: v.optional(Time),
  result: v.optional(Text),
  error_msg: v.optional(Text),
  metadata: v.optional(JsonObject),
  ...StuckEntries,
});
export type TaskState = v.InferOutput<typeof TaskState>;
