import type { ComponentStatus } from '../../model/index.ts';
import { createPgSource, type PgOptions } from '../../sources/postgres.ts';
import { readComponentStats } from '../../sources/market-queries.ts';
import type { Collector, CollectContext, CollectResult, CreateCollector } from '../collector.ts';
import { DEFAULT_STALENESS_MS, databaseDown, normalizeComponents } from '../components.ts';

interface ComponentsCollectorOptions extends PgOptions {
  /** a remote source whose newest catalog row is older than this makes the syncer degraded (30 min) */
  syncerStalenessMs?: number;
  /** the hydrator is unhealthy while the market wrote a failing render within this window (10 min) */
  renderFailureWindowMs?: number;
}

/**
 * The market's parts, judged from its database: task_module, hydrator, syncer, cache, postgres.
 *
 * When the database is down this collector does NOT throw: reporting that is its job. It returns an
 * upsert of `postgres` and `task_module` turned unhealthy (the other components keep their last values;
 * nothing is removed) and a warning with the scrubbed error. A database that hangs (no answer by the run's
 * deadline) is down too: the same upsert, the run failed — else the components said healthy throughout a hang.
 */
export const createCollector: CreateCollector = (options: ComponentsCollectorOptions): Collector => {
  const pg = createPgSource(options);
  const stalenessMs = options.syncerStalenessMs ?? DEFAULT_STALENESS_MS;
  const last = new Map<string, ComponentStatus>();
  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      let read;
      try {
        read = await readComponentStats(pg, ctx.signal);
      } catch (err) {
        const message = (err as Error).message;
        // postgres.js names an error the server sent PostgresError (it carries a SQLSTATE)
        const items = databaseDown(message, ctx.now(), last, (err as Error).name === 'PostgresError');
        const steps: CollectResult['steps'] = [{ op: 'upsert', domain: 'components', items }];
        if (ctx.signal.aborted) return { steps, counters: { db_up: 0 }, failed: message };
        return { steps, counters: { db_up: 0 }, warning: message };
      }
      const now = ctx.now();
      const items = normalizeComponents(read.stats, now, { stalenessMs, renderFailureWindowMs: options.renderFailureWindowMs });
      for (const c of items) last.set(c.name, c);
      return {
        steps: [{ op: 'replace', domain: 'components', items }],
        counters: { db_up: 1, dropped: read.dropped, latency_ms: Math.round(read.stats.latency_ms) },
      };
    },
    close: () => pg.close(),
  };
};
