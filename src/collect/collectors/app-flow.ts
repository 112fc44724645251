import { createPgSource, type PgOptions, type PgSource } from '../../sources/postgres.ts';
import { readAppFlow, readAppListing, readAppRows } from '../../sources/market-queries.ts';
import type { ListedAppRow, TaskRow } from '../../sources/market-rows.ts';
import { ActiveTasks } from '../app-flow.ts';
import { AppFlowMemory, type ReadPlan } from '../app-flow-memory.ts';
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
 * Every 60th pass (every 5 minutes at the 5 s interval, or longer while passes are spaced out) reads and
 * sends every row, whatever the row versions say: a safety net for what they cannot show (a database restored
 * with rows at their old xmin, a store that lost a kept app without saying so). Rare, because at 50,000 apps a
 * full pass is most of what the collector costs; deletions and changes do not wait for it (every pass lists
 * row versions). A new store gets a full listing at once (CollectContext.full).
 */
export const FULL_PASS_EVERY = 60;

interface Read {
  plan: ReadPlan;
  rows: ListedAppRow[];
  tasks: { rows: TaskRow[]; dropped: number };
  dropped: number;
}

/** A full pass: every row, and the active tasks, in one snapshot. */
async function readAll(pg: PgSource, memory: AppFlowMemory, signal: AbortSignal): Promise<Read> {
  const { apps, tasks } = await readAppFlow(pg, signal);
  return { plan: memory.plan(apps.rows, tasks.rows, true), rows: apps.rows, tasks, dropped: apps.dropped };
}

/**
 * A pass that reads what changed: the listing (row ids and versions) and the active tasks in one snapshot,
 * then the changed rows by id. A row changed again between the two reads is read at its newer version.
 */
async function readChanged(pg: PgSource, memory: AppFlowMemory, signal: AbortSignal): Promise<Read> {
  const { listing, tasks } = await readAppListing(pg, signal);
  const plan = memory.plan(listing.rows, tasks.rows, false);
  const read = await readAppRows(pg, signal, plan.ids);
  return { plan, rows: read.rows, tasks, dropped: listing.dropped + read.dropped };
}

/**
 * user_applications + user_application_states (+ active tasks for the override) -> the whole
 * `app_states` domain. A pass reads, normalizes and sends only the rows that changed (AppFlowMemory) and lists
 * the others as `keep`, so the store still learns what left. It reconciles NATS upserts: the database is the
 * record, so an app a NATS event added and the table no longer has leaves the view on the next pass.
 */
export const createCollector: CreateCollector = (options: AppFlowCollectorOptions): Collector => {
  const pg = createPgSource(options);
  const unknownStates = new UnknownStates();
  const memory = new AppFlowMemory();
  /** passes since the last full one (the first pass is full) */
  let sinceFull = FULL_PASS_EVERY;
  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      // first, so a run that fails still reads them next time
      memory.forget(ctx.reread ?? []);
      const full = ctx.full || sinceFull + 1 >= FULL_PASS_EVERY;
      const { plan, rows, tasks, dropped } = full
        ? await readAll(pg, memory, ctx.signal)
        : await readChanged(pg, memory, ctx.signal);
      const active = normalizeTasks(tasks.rows, ctx.now()).items;
      const { items, keep, counters, newUnknownStates } = memory.settle(plan, rows, new ActiveTasks(active), unknownStates);
      sinceFull = full ? 0 : sinceFull + 1;
      for (const s of newUnknownStates) options.onUnknownState?.(s);
      const result: CollectResult = {
        steps: [{ op: 'replace', domain: 'app_states', items, ...(keep.length > 0 ? { keep } : {}), reconciles: ['nats'] }],
        counters: { ...counters, dropped: dropped + tasks.dropped, active_tasks: active.length },
        ...(full ? { bulk: true } : {}),
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
