import type { ComponentStatus } from '../../model/index.ts';
import { createPgSource, type PgOptions } from '../../sources/postgres.ts';
import { readComponentStats } from '../../sources/market-queries.ts';
import type { Collector, CollectContext, CollectResult, CreateCollector } from '../collector.ts';
import {
  DEFAULT_STALENESS_MS, FailureWindow, databaseDown, normalizeComponents, renderFailureSum,
} from '../components.ts';

export interface ComponentsCollectorOptions extends PgOptions {
  /** a remote source whose newest catalog row is older than this makes the syncer degraded (30 min) */
  syncerStalenessMs?: number;
  /** the hydrator is degraded while render failures grew within this window (10 min) */
  renderFailureWindowMs?: number;
}

export const DEFAULT_RENDER_FAILURE_WINDOW_MS = 10 * 60_000;

/**
 * The market's parts, judged from its database: task_module, hydrator, syncer, cache, postgres.
 *
 * When the database is down this collector does NOT throw: reporting that is its job. It returns an
 * upsert of `postgres` and `task_module` turned unhealthy (the other components keep their last values;
 * nothing is removed) and a warning with the scrubbed error. An aborted run (deadline) still throws.
 */
export const createCollector: CreateCollector = (options: ComponentsCollectorOptions): Collector => {
  const pg = createPgSource(options);
  const stalenessMs = options.syncerStalenessMs ?? DEFAULT_STALENESS_MS;
  const failures = new FailureWindow(options.renderFailureWindowMs ?? DEFAULT_RENDER_FAILURE_WINDOW_MS);
  const last = new Map<string, ComponentStatus>();
  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      let read;
      try {
        read = await readComponentStats(pg, ctx.signal);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const message = (err as Error).message;
        const items = databaseDown(message, ctx.now(), last);
        return { steps: [{ op: 'upsert', domain: 'components', items }], counters: { db_up: 0 }, warning: message };
      }
      const now = ctx.now();
      const baseline = failures.next(now, renderFailureSum(read.stats.render));
      const items = normalizeComponents(read.stats, now, { stalenessMs, renderFailuresBaseline: baseline });
      for (const c of items) last.set(c.name, c);
      return {
        steps: [{ op: 'replace', domain: 'components', items }],
        counters: { db_up: 1, dropped: read.dropped, latency_ms: Math.round(read.stats.latency_ms) },
      };
    },
    close: () => pg.close(),
  };
};
