import type { ResourceLimits } from 'node:worker_threads';

/**
 * V8 limits of every thread the sidecar starts, in one place (the process budget is in docs/performance.md, Scale:
 * 160 MiB at 1,000 apps, 256 MiB at 10,000).
 *
 * - Young generation: V8 lets each thread's young generation grow to 3 x 16 MiB semi-spaces when it
 *   allocates fast, and a collector parsing a 10,000-app result does; with seven threads that alone is
 *   up to ~300 MiB of RSS. Parsing and normalizing make short-lived garbage, so a small young generation
 *   costs a few more scavenges (measured: under 1 ms each) and saves most of that.
 * - Old generation: a ceiling, not a reservation (nothing is allocated up front). It is set with headroom
 *   over what each thread was measured holding at 50,000 apps, so it never trips in normal running; it is
 *   there so a runaway thread dies alone (ERR_WORKER_OUT_OF_MEMORY; the supervisor restarts it and counts
 *   it) instead of the kernel killing the whole pod.
 */
export const THREAD_LIMITS = {
  /** every entity, the indexes and the current /state body (about 4 MiB heap per 1,000 apps) */
  store: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 768 },
  /** current body (external), answer caches (bounded: http/response-cache.ts, remembered-answers.ts) */
  http: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 384 },
  /** one pass's rows, parsed and normalized, then posted and dropped */
  collector: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512 },
  /** one body in, its compressed copy out; started on demand, ends when idle */
  compress: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 },
} as const satisfies Record<string, ResourceLimits>;

export type LimitedThread = keyof typeof THREAD_LIMITS;

export function threadLimits(kind: LimitedThread): ResourceLimits {
  return { ...THREAD_LIMITS[kind] };
}
