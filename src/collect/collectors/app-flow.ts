import { createPgSource, type PgOptions, type PgSource } from '../../sources/postgres.ts';
import { readAppChanges, readAppFlow, readAppListing, readAppRows } from '../../sources/market-queries.ts';
import type { ListedAppRow, TaskRow } from '../../sources/market-rows.ts';
import { ActiveTasks } from '../app-flow.ts';
import { AppFlowMemory, type AppFlowPass, type ReadPlan } from '../app-flow-memory.ts';
import type { Collector, CollectContext, CollectResult, CreateCollector } from '../collector.ts';
import type { StoreStep } from '../../protocol.ts';
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
 * full pass is most of what the collector costs; deletions and changes do not wait for it (every pass either
 * reads what changed since its watermark and checks the listing's size, or lists row versions). A new store
 * gets a full listing at once (CollectContext.full).
 */
export const FULL_PASS_EVERY = 60;

interface Read {
  plan: ReadPlan;
  rows: ListedAppRow[];
  tasks: { rows: TaskRow[]; dropped: number };
  dropped: number;
  xmin: string;
}

/** A full pass: every row, and the active tasks, in one snapshot. */
async function readAll(pg: PgSource, memory: AppFlowMemory, signal: AbortSignal): Promise<Read> {
  const { apps, tasks, xmin } = await readAppFlow(pg, signal);
  return { plan: memory.plan(apps.rows, tasks.rows, true), rows: apps.rows, tasks, dropped: apps.dropped, xmin };
}

/**
 * A listing pass: the listing (row ids and versions) and the active tasks in one snapshot, then the changed
 * rows by id. A row changed again between the two reads is read at its newer version.
 */
async function readListed(pg: PgSource, memory: AppFlowMemory, signal: AbortSignal): Promise<Read> {
  const { listing, tasks, xmin } = await readAppListing(pg, signal);
  const plan = memory.plan(listing.rows, tasks.rows, false);
  const read = await readAppRows(pg, signal, plan.ids);
  return { plan, rows: read.rows, tasks, dropped: listing.dropped + read.dropped, xmin };
}

/**
 * How far back a watermark may be for age() to compare xids safely (2^31 is where it wraps; half of it leaves
 * room). Further back, or ahead of the database's own snapshot (a restored database), a listing pass decides.
 */
const WATERMARK_SPAN = 2n ** 30n;

function watermarkHolds(watermark: string, snapshotXmin: string): boolean {
  const gap = BigInt(snapshotXmin) - BigInt(watermark);
  return gap >= 0n && gap < WATERMARK_SPAN;
}

/**
 * user_applications + user_application_states (+ active tasks for the override) -> the whole `app_states`
 * domain, at a cost that follows what changed. A pass reads only the rows written since its watermark (the
 * snapshot xmin of the last read: xmin of the row, its state row, or a task of its user and app) and checks
 * the listing's size against what it knows; it sends those apps and the ones that left as a `changes` step.
 * When the size does not add up (a row was deleted) or a known row's active tasks moved without a row of its
 * own changing (a task row was deleted), the pass lists every row's version instead and sends a `replace` with
 * the unchanged ones as `keep`. Every 60th pass, and for a new store, reads and sends everything. It reconciles
 * NATS upserts: the database is the record, so an app a NATS event added and the table no longer has leaves the
 * view on the next pass.
 */
export const createCollector: CreateCollector = (options: AppFlowCollectorOptions): Collector => {
  const pg = createPgSource(options);
  const unknownStates = new UnknownStates();
  const memory = new AppFlowMemory();
  /** passes since the last full one (the first pass is full) */
  let sinceFull = FULL_PASS_EVERY;
  /** the snapshot xmin of the read the memory is current with; null until a full pass */
  let watermark: string | null = null;
  let listingPasses = 0;

  /** what a pass read and sends, whichever way it read */
  interface PassRead { pass: AppFlowPass; step: StoreStep; active: number; dropped: number; xmin: string }

  /** A listing or full pass: the step is a replace, the unchanged listed apps kept. */
  async function listingPass(full: boolean, signal: AbortSignal, now: Date): Promise<PassRead> {
    const { plan, rows, tasks, dropped, xmin } = full ? await readAll(pg, memory, signal) : await readListed(pg, memory, signal);
    const active = normalizeTasks(tasks.rows, now).items;
    const pass = memory.settle(plan, rows, new ActiveTasks(active), unknownStates);
    const step: StoreStep = { op: 'replace', domain: 'app_states', items: pass.items, ...(pass.keep.length > 0 ? { keep: pass.keep } : {}), reconciles: ['nats'] };
    return { pass, step, active: active.length, dropped: dropped + tasks.dropped, xmin };
  }

  /** A changes pass, or null when the changes cannot tell the listing (a listing pass then decides). */
  async function changesPass(from: string, signal: AbortSignal, now: Date): Promise<PassRead | null> {
    const read = await readAppChanges(pg, signal, from, memory.rereadIds());
    if (!watermarkHolds(from, read.probe.xmin)) return null;
    const plan = memory.planChanges(read.changed.rows, read.byId.rows, read.tasks.rows, read.probe);
    if (plan === null) return null;
    const active = normalizeTasks(read.tasks.rows, now).items;
    const pass: AppFlowPass = memory.settleChanges(plan, new ActiveTasks(active), unknownStates);
    const step: StoreStep = { op: 'changes', domain: 'app_states', items: pass.items, removed: pass.removed, reconciles: ['nats'] };
    return { pass, step, active: active.length, dropped: read.changed.dropped + read.byId.dropped + read.tasks.dropped, xmin: read.probe.xmin };
  }

  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      // first, so a run that fails still reads them next time
      memory.forget(ctx.reread ?? []);
      const full = ctx.full || sinceFull + 1 >= FULL_PASS_EVERY || watermark === null;
      const now = ctx.now();
      let read: PassRead | null = full ? null : await changesPass(watermark!, ctx.signal, now);
      if (!full && read === null) listingPasses += 1;
      read ??= await listingPass(full, ctx.signal, now);
      const { pass: { counters, newUnknownStates } } = read;
      watermark = read.xmin;
      sinceFull = full ? 0 : sinceFull + 1;
      for (const s of newUnknownStates) options.onUnknownState?.(s);
      const result: CollectResult = {
        steps: [read.step],
        counters: { ...counters, dropped: read.dropped, active_tasks: read.active, listing_passes: listingPasses },
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
