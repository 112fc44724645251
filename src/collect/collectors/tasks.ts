import { createPgSource, type PgOptions } from '../../sources/postgres.ts';
import { ACTIVE_TASK_CAP, readTasks } from '../../sources/market-queries.ts';
import { judgeDrops } from '../../sources/market-rows.ts';
import type { Collector, CollectContext, CollectResult, CreateCollector } from '../collector.ts';
import { normalizeTasks } from '../tasks.ts';

interface TasksCollectorOptions extends PgOptions {
  /** finished tasks kept in view (RECENT_TASK_LIMIT) */
  recentTaskLimit?: number;
}

const DEFAULT_RECENT_TASK_LIMIT = 100;

/**
 * task_records -> the whole `tasks` domain. A task gone from the table is gone from the next replace;
 * a failed query throws, so the store keeps what it had.
 */
export const createCollector: CreateCollector = (options: TasksCollectorOptions): Collector => {
  const pg = createPgSource(options);
  const limit = options.recentTaskLimit ?? DEFAULT_RECENT_TASK_LIMIT;
  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      const read = await readTasks(pg, ctx.signal, limit);
      const warnings = [judgeDrops('task_records', read.rows.length, read)];
      if (read.activeCapped) warnings.push(`more than ${ACTIVE_TASK_CAP} tasks pending or running: the oldest ${ACTIVE_TASK_CAP} are shown`);
      const { items, counters } = normalizeTasks(read.rows, ctx.now());
      const warning = warnings.filter((w) => w !== undefined).join('; ');
      return {
        steps: [{ op: 'replace', domain: 'tasks', items }],
        counters: { ...counters, dropped: read.dropped, tasks: items.length, active_capped: read.activeCapped ? 1 : 0 },
        ...(warning ? { warning } : {}),
      };
    },
    close: () => pg.close(),
  };
};
