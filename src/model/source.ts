import * as v from 'valibot';
import { Count, Text, Time } from './common.ts';

export const SOURCE_NAMES = ['tasks', 'app_flow', 'components', 'chart_repo', 'nats'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/**
 * A source's health as the versioned snapshot shows it (its additive `sources` block): content, so it changes
 * the version only when the source goes down, comes back, or its error or warning text changes.
 */
export const SourceHealth = v.object({
  ok: v.boolean(),
  last_error: v.nullable(Text),
  /** what an otherwise good pass could not do (e.g. some Chart Repo pairs failed), or that passes take longer than the interval (store/slow-source.ts) */
  warning: v.optional(v.nullable(Text)),
});
export type SourceHealth = v.InferOutput<typeof SourceHealth>;

/**
 * Health and freshness of one collector: its health plus when it last ran and succeeded, how long a pass took
 * and its counters. Freshness moves on every pass, so it is never in the versioned snapshot: it is served by
 * `…/sources`, the `X-Runtime-Fresh-As-Of` header and the change stream's `freshness` events.
 */
export const SourceStatus = v.object({
  ok: v.boolean(),
  last_success: v.nullable(Time),
  last_error: v.nullable(Text),
  consecutive_failures: Count,
  /** rounded where it is recorded (store/source-book.ts) */
  duration_ms: Count,
  /** additive: when the last attempt (good or bad) finished */
  last_attempt: v.optional(v.nullable(Time)),
  /** additive: as SourceHealth's warning */
  warning: v.optional(v.nullable(Text)),
  /** additive: collector-specific counters (drops, rows, events/s ...) */
  counters: v.optional(v.record(v.string(), v.number())),
});
export type SourceStatus = v.InferOutput<typeof SourceStatus>;
