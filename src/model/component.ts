import * as v from 'valibot';
import { Id, JsonObject, Text, Time } from './common.ts';

export const COMPONENT_STATUSES = ['running', 'stopped', 'degraded', 'error'] as const;

/** Health of one part of the store (or of one of our own collectors). Key: name. */
export const ComponentStatus = v.object({
  name: Id,
  healthy: v.boolean(),
  status: v.picklist(COMPONENT_STATUSES),
  metrics: v.optional(JsonObject),
  last_check: Time,
  message: v.optional(Text),
});
export type ComponentStatus = v.InferOutput<typeof ComponentStatus>;
