import { createPgSource, type PgOptions } from '../../sources/postgres.ts';
import { readAppFlow } from '../../sources/market-queries.ts';
import { normalizeAppFlow } from '../app-flow.ts';
import type { Collector, CollectContext, CollectResult, CreateCollector } from '../collector.ts';
import { UnknownStates } from '../stage-table.ts';
import { normalizeTasks } from '../tasks.ts';

export interface AppFlowCollectorOptions extends PgOptions {
  /**
   * Called once per distinct unknown app-service state (in-process use; a function cannot cross a
   * thread). The first sighting is also reported in the run's `warning`.
   */
  onUnknownState?: (state: string) => void;
}

/**
 * user_applications + user_application_states (+ active tasks for the override) -> the whole
 * `app_states` domain. It reconciles NATS upserts: the database is the record, so an app a NATS event
 * added and the table no longer has leaves the view on the next pass.
 */
export const createCollector: CreateCollector = (options: AppFlowCollectorOptions): Collector => {
  const pg = createPgSource(options);
  const unknownStates = new UnknownStates();
  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      const { apps, tasks } = await readAppFlow(pg, ctx.signal);
      const active = normalizeTasks(tasks.rows, ctx.now()).items;
      const { items, counters, newUnknownStates } = normalizeAppFlow(apps.rows, active, unknownStates);
      for (const s of newUnknownStates) options.onUnknownState?.(s);
      const result: CollectResult = {
        steps: [{ op: 'replace', domain: 'app_states', items, reconciles: ['nats'] }],
        counters: { ...counters, dropped: apps.dropped + tasks.dropped, active_tasks: active.length },
      };
      if (newUnknownStates.length > 0) {
        result.warning = `unknown app state ${newUnknownStates.map((s) => JSON.stringify(s.slice(0, 64))).join(', ')}`
          + ' shown as stage unknown';
      }
      return result;
    },
    close: () => pg.close(),
  };
};
