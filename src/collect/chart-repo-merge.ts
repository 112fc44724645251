/**
 * The answers of every (user, source) pair merged into one Chart Repo view, as the market's Go module merges
 * them (docs/go-wire.md "chart_repo"). Pure.
 */
import type { ChartRepoStatus, HydratorStatus } from '../model/index.ts';
import type { ChartRepoAnswer } from './chart-repo.ts';
import { put } from './omit-empty.ts';

/** A pair's hydrator counters as its answer gives them (each pair's held beside its items). */
export const HYDRATOR_COUNTERS = ['queue_length', 'active_tasks', 'completed_tasks', 'failed_tasks', 'worker_count'] as const;
type HydratorCounts = Pick<HydratorStatus, (typeof HYDRATOR_COUNTERS)[number]>;

/**
 * The merged hydrator's counters, Go's way: queue_length, active_tasks, completed_tasks and failed_tasks
 * summed over the pairs; worker_count left at 0, as Go leaves it; the pairs' worker counts summed in our
 * additive worker_count_total (left out when 0, like the struct's other optional keys). One builder for
 * mergeAnswers and the store's renderer (store/chart-repo-pairs.ts), so both write the same keys in the same order.
 */
export function mergedHydratorCounters(pairs: readonly HydratorCounts[]): HydratorStatus {
  const sum = (k: keyof HydratorCounts) => counterSum(pairs.map((h) => h[k]));
  const h: HydratorStatus = {
    queue_length: sum('queue_length'),
    active_tasks: sum('active_tasks'),
    completed_tasks: sum('completed_tasks'),
    failed_tasks: sum('failed_tasks'),
    worker_count: 0,
  };
  put(h, 'worker_count_total', sum('worker_count'));
  return h;
}

/**
 * The pairs' counters summed, saturated at 2^53 - 1: each is a safe integer, but their sum may not be, and a
 * number past it is no longer exact (a Go int64 client would decode a count we cannot vouch for).
 */
function counterSum(values: readonly number[]): number {
  return Math.min(Number.MAX_SAFE_INTEGER, values.reduce((sum, n) => sum + n, 0));
}

/**
 * Merges the answers of every pair, in pair order: apps, images and hydrator tasks concatenated, hydrator
 * counters merged as Go merges them (mergedHydratorCounters; worker_count 0, the sum in worker_count_total), the
 * first image_analyzer and the first system block kept. The store writes the same JSON from the pairs' rendered
 * items (store/chart-repo-pairs.ts) and is tested against this; fixtures build whole views with it.
 */
export function mergeAnswers(answers: readonly ChartRepoAnswer[], lastUpdate: string): ChartRepoStatus {
  const out: ChartRepoStatus = { last_update: lastUpdate };
  const system = answers.find((a) => a.system)?.system;
  if (system) out.system = system;
  put(out, 'apps', answers.flatMap((a) => a.apps));
  put(out, 'images', answers.flatMap((a) => a.images));
  const hydrators = answers.flatMap((a) => (a.hydrator ? [a.hydrator] : []));
  const analyzer = answers.find((a) => a.image_analyzer)?.image_analyzer;
  if (hydrators.length > 0 || analyzer) {
    out.tasks = {};
    if (hydrators.length > 0) {
      const hydrator = mergedHydratorCounters(hydrators);
      put(hydrator, 'tasks', hydrators.flatMap((h) => h.tasks ?? []));
      put(hydrator, 'recent_failed', hydrators.flatMap((h) => h.recent_failed ?? []));
      out.tasks.hydrator = hydrator;
    }
    if (analyzer) out.tasks.image_analyzer = analyzer;
  }
  return out;
}
