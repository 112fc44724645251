import { totalmem } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import type { AnswerCacheBytes } from './protocol.ts';

/**
 * V8 limits of every thread the sidecar starts, in one place (the process budget is in docs/performance.md, Scale:
 * 160 MiB at 1,000 apps, 256 MiB at 10,000).
 *
 * - Young generation: V8 grows a thread's young generation with its allocation rate, up to 3 x 16 MiB
 *   semi-spaces by default, and keeps it grown: with seven threads that alone was up to ~300 MiB of RSS.
 *   The store and the HTTP thread get V8's smallest, 3 MiB (two 1 MiB semi-spaces and a large-object share):
 *   at 8 MiB they still held ~6 MiB more between them at 1,000 apps (steady RSS 167 MiB against 161,
 *   bench:scale). So do the collectors. app_flow and the Chart Repo, whose passes grow with the market, get
 *   8 MiB in a pod of 1 GiB or more (LARGE_PASS_SOURCES): at 50,000 apps, parsing their passes with 3 MiB promoted
 *   most of them (a JSON-parsing worker measured 10-15 % more CPU, and Chart Repo passes ran past their
 *   deadline). Up to 10,000 apps their 8 MiB cost ~5 MiB of RSS each (V8 keeps a grown young generation
 *   committed) for no CPU bench:scale could tell apart (app_flow 0.015-0.019 core at 10,000 apps in runs of
 *   either; 1,000 apps: steady RSS 163.7 against 153.6 MiB, 2026-12-05).
 * - In a pod of 1 GiB or more (the manifest's size for ~50,000 apps) the store gets a 16 MiB young generation:
 *   with 3 MiB its queries' garbage was promoted into a ~300 MiB old generation whose collections every query
 *   waited for (at 50,000 apps `?user_id=` p99 137-196 ms and 290-384 req/s against 80 ms and 570 req/s with
 *   16 MiB, and the peak under that load 1.41x steady against 1.22x). Below that size its 3 MiB keeps the small
 *   markets' budget (at 1,000 apps 16 MiB took steady RSS from 160 to 165 MiB).
 * - Old generation: a ceiling, not a reservation (nothing is allocated up front). It is there so a runaway
 *   thread dies alone (ERR_WORKER_OUT_OF_MEMORY; the supervisor restarts it and counts it) instead of the
 *   kernel killing the whole pod, so it must trip before the container's memory limit does: with a limit
 *   (MEMORY_LIMIT_MB, by default the container's own), each thread gets at most its share of it
 *   (MEMORY_SHARES). Without one, the ceilings below: headroom over what each thread was measured holding at
 *   50,000 apps.
 */
/** V8's smallest young generation (two 1 MiB semi-spaces and a large-object share) */
const SMALLEST_YOUNG_GENERATION_MB = 3;

/** a pod this large holds a market large enough that the store's queries and the big passes need bigger young generations (above) */
export const LARGE_POD_BYTES = 1024 * 2 ** 20;
const isLargePod = (memoryLimitBytes: number | undefined): boolean => memoryLimitBytes !== undefined && memoryLimitBytes >= LARGE_POD_BYTES;
const STORE_YOUNG_GENERATION_LARGE_POD_MB = 16;
const LARGE_PASS_YOUNG_GENERATION_LARGE_POD_MB = 8;

export const THREAD_LIMITS = {
  /** every entity, the indexes and the current /state body (about 4 MiB heap per 1,000 apps) */
  store: { maxYoungGenerationSizeMb: SMALLEST_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: 768 },
  /** current body (external), answer caches (bounded: http/response-cache.ts, remembered-answers.ts) */
  http: { maxYoungGenerationSizeMb: SMALLEST_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: 384 },
  /** one pass's rows, parsed and normalized, then posted and dropped */
  collector: { maxYoungGenerationSizeMb: SMALLEST_YOUNG_GENERATION_MB, maxOldGenerationSizeMb: 512 },
  /** one body in, its compressed copy out; started on demand, ends when idle */
  compress: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 256 },
} as const satisfies Record<string, ResourceLimits>;

export type LimitedThread = keyof typeof THREAD_LIMITS;

/**
 * The share of the container's memory one thread's old generation may take. A runaway store stops at half:
 * the rest of the process (at most ~40 % of the manifest's limits at every size measured) still fits. Shares
 * add up past 1 on purpose: they bound one runaway thread, not all of them at once.
 */
export const MEMORY_SHARES: Record<LimitedThread, number> = { store: 0.5, http: 0.25, collector: 0.25, compress: 0.125 };

/** below this an old generation is too small to start a thread and read a pass: a tiny limit gets this */
const MIN_OLD_GENERATION_MB = 32;

/** V8 limits of one thread, within `memoryLimitBytes` of the whole process when there is such a limit. */
export function threadLimits(kind: LimitedThread, memoryLimitBytes: number | undefined = containerMemoryLimit()): ResourceLimits {
  const limits: ResourceLimits = { ...THREAD_LIMITS[kind] };
  if (memoryLimitBytes === undefined) return limits;
  if (kind === 'store' && isLargePod(memoryLimitBytes)) limits.maxYoungGenerationSizeMb = STORE_YOUNG_GENERATION_LARGE_POD_MB;
  const share = Math.max(MIN_OLD_GENERATION_MB, Math.floor((memoryLimitBytes * MEMORY_SHARES[kind]) / 2 ** 20));
  return { ...limits, maxOldGenerationSizeMb: Math.min(limits.maxOldGenerationSizeMb!, share) };
}

/**
 * The byte bounds of the HTTP thread's answer caches (its share of the budget, docs/operations.md, Memory): 16 and
 * 8 MiB, and in a pod of 1 GiB or more 48 and 24 MiB. At 50,000 apps the 200-user `?user_id=` load asks answers of
 * ~190 kB on average (a few users hold thousands of apps): 16 MiB kept ~80 of them a version, so the store
 * computed most answers twice a version (its doorkeeper's first miss and the one past the bound).
 * The two hold mostly the same bytes (an answer Hono served is the one the raw path repeats).
 */
export function answerCacheBytes(memoryLimitBytes: number | undefined = containerMemoryLimit()): AnswerCacheBytes {
  return isLargePod(memoryLimitBytes) ? LARGE_POD_ANSWER_CACHES : SMALL_POD_ANSWER_CACHES;
}

/** the answer caches' bounds below a large pod: also each cache's own default (response-cache.ts, remembered-answers.ts) */
export const SMALL_POD_ANSWER_CACHES: AnswerCacheBytes = { cached: 16 * 2 ** 20, remembered: 8 * 2 ** 20 };
const LARGE_POD_ANSWER_CACHES: AnswerCacheBytes = { cached: 48 * 2 ** 20, remembered: 24 * 2 ** 20 };

/** Collectors whose passes grow with the market: every install's row, every (user, source) Chart Repo answer. */
const LARGE_PASS_SOURCES: ReadonlySet<string> = new Set(['app_flow', 'chart_repo']);

/** A collector thread's limits: a larger young generation for a big pass in a large market's pod (above). */
export function collectorLimits(source: string, memoryLimitBytes: number | undefined = containerMemoryLimit()): ResourceLimits {
  const limits = threadLimits('collector', memoryLimitBytes);
  return isLargePod(memoryLimitBytes) && LARGE_PASS_SOURCES.has(source) ? { ...limits, maxYoungGenerationSizeMb: LARGE_PASS_YOUNG_GENERATION_LARGE_POD_MB } : limits;
}

/** The container's memory limit (cgroup), or undefined when the process has none (libuv then answers a huge value). */
export function containerMemoryLimit(): number | undefined {
  const limit = process.constrainedMemory?.();
  return typeof limit === 'number' && limit > 0 && limit < totalmem() ? limit : undefined;
}
