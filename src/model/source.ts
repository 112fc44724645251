import * as v from 'valibot';
import { Text, Time } from './common.ts';

export const SOURCE_NAMES = ['tasks', 'app_flow', 'components', 'chart_repo', 'nats'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** Freshness of one collector, shown in the snapshot's additive `sources` block. */
export const SourceStatus = v.object({
  ok: v.boolean(),
  last_success: v.nullable(Time),
  last_error: v.nullable(Text),
  consecutive_failures: v.number(),
  duration_ms: v.number(),
  /** additive: when the last attempt (good or bad) finished */
  last_attempt: v.optional(v.nullable(Time)),
  /** additive: what an otherwise good pass could not do (e.g. some Chart Repo pairs failed) */
  warning: v.optional(v.nullable(Text)),
  /** additive: collector-specific counters (drops, rows, events/s ...) */
  counters: v.optional(v.record(v.string(), v.number())),
});
export type SourceStatus = v.InferOutput<typeof SourceStatus>;
