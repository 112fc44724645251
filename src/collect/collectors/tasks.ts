import { createPgSource, type PgOptions } from '../../sources/postgres.ts';
import { ACTIVE_TASK_CAP, readTasks } from '../../sources/market-queries.ts';
import { judgeDrops } from '../../sources/market-rows.ts';
import type { Collector, CollectContext, CollectResult, CreateCollector } from '../collector.ts';
import { normalizeTasks } from '../tasks.ts';
import { sha256 } from '../../content-digest.ts';
import type { TaskState } from '../../model/index.ts';

interface TasksCollectorOptions extends PgOptions {
  /** finished tasks kept in view (RECENT_TASK_LIMIT) */
  recentTaskLimit?: number;
}

const DEFAULT_RECENT_TASK_LIMIT = 100;

/**
 * task_records -> the whole `tasks` domain. A task gone from the table is gone from the next replace;
 * a failed query throws, so the store keeps what it had. A task that says what it said when last sent is kept,
 * not sent again (most of them, pass after pass): the store's turn is the tasks that moved.
 */
export const createCollector: CreateCollector = (options: TasksCollectorOptions): Collector => {
  const pg = createPgSource(options);
  const limit = options.recentTaskLimit ?? DEFAULT_RECENT_TASK_LIMIT;
  /** per task id, the digest of the task as last sent */
  let sent = new Map<string, string>();
  /** the tasks that moved since they were last sent, and the ids of those that did not (the listing keeps them) */
  const unsent = (items: readonly TaskState[]): { moved: TaskState[]; keep: string[] } => {
    const moved: TaskState[] = [];
    const keep: string[] = [];
    const now = new Map<string, string>();
    for (const task of items) {
      const digest = sha256(JSON.stringify(task));
      now.set(task.task_id, digest);
      if (sent.get(task.task_id) === digest) keep.push(task.task_id);
      else moved.push(task);
    }
    sent = now;
    return { moved, keep };
  };
  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      // a store that may lack what was sent gets every task; one that asked for some again, those
      if (ctx.full) sent.clear();
      for (const id of ctx.reread ?? []) sent.delete(id);
      const read = await readTasks(pg, ctx.signal, limit);
      const warnings = [judgeDrops('task_records', read.rows.length, read)];
      if (read.activeCapped) warnings.push(`more than ${ACTIVE_TASK_CAP} tasks pending or running: the oldest ${ACTIVE_TASK_CAP} are shown`);
      const { items, counters } = normalizeTasks(read.rows, ctx.now());
      const warning = warnings.filter((w) => w !== undefined).join('; ');
      const { moved, keep } = unsent(items);
      return {
        steps: [{ op: 'replace', domain: 'tasks', items: moved, ...(keep.length > 0 ? { keep } : {}) }],
        counters: { ...counters, dropped: read.dropped, tasks: items.length, active_capped: read.activeCapped ? 1 : 0 },
        ...(warning ? { warning } : {}),
      };
    },
    close: () => pg.close(),
  };
};
