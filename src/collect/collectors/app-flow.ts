import { createPgSource, type PgOptions, type PgSource } from '../../sources/postgres.ts';
import { readAppChanges, readAppListing, readAppRows } from '../../sources/market-queries.ts';
import { Drops, dropsWarning, judgeDrops, type ListedAppRow, type MisfitAppRow } from '../../sources/market-rows.ts';
import type { AppFlowState } from '../../model/index.ts';
import { ActiveTasks } from '../app-flow.ts';
import { AppFlowMemory, type AppFlowPass } from '../app-flow-memory.ts';
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
  /** rows read by id per query (ROWS_PER_READ) */
  rowsPerRead?: number;
}

/**
 * Every 60th pass (every 5 minutes at the 5 s interval, or longer while passes are spaced out) reads every row,
 * whatever the row versions say: a safety net for what they cannot show (a database restored with rows at their
 * old xmin). It sends only the apps that came out other than they were last sent and keeps the rest (the store
 * says which kept apps it lost: they are read again), so the store's turn for it is short and readers do not
 * wait for 50,000 unchanged apps to be compared. Rare, because at 50,000 apps a full pass is most of what the
 * collector costs; deletions and changes do not wait for it (every pass either reads what changed since its
 * watermark and checks the listing's size, or lists row versions). A new store gets a full listing at once
 * (CollectContext.full), every app sent.
 */
export const FULL_PASS_EVERY = 60;

/**
 * Rows read by id per query. A listing or full pass reads its rows a chunk at a time and normalizes each before
 * the next, so the collector never holds every row at once (at 50,000 apps a full pass read as one result held
 * 182 MiB of its heap: the peak of the whole process).
 */
export const ROWS_PER_READ = 2_000;

/** The planned rows, read by id a chunk at a time. A row changed again since it was listed is read at its newer version. */
async function* plannedRows(
  pg: PgSource, signal: AbortSignal, ids: readonly string[], perRead: number, dropped: Drops,
): AsyncGenerator<(ListedAppRow | MisfitAppRow)[]> {
  for (let i = 0; i < ids.length; i += perRead) {
    const read = await readAppRows(pg, signal, ids.slice(i, i + perRead));
    dropped.add(read);
    yield read.misfits.length === 0 ? read.rows : [...read.rows, ...read.misfits];
  }
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
  const rowsPerRead = Math.max(1, options.rowsPerRead ?? ROWS_PER_READ);
  /** passes since the last full one (the first pass is full) */
  let sinceFull = FULL_PASS_EVERY;
  /** the snapshot xmin of the read the memory is current with; null until a full pass */
  let watermark: string | null = null;
  let listingPasses = 0;
  /** changes reads that failed, each followed by a full read in the same run */
  let changesFailures = 0;

  /** what a pass read and sends, whichever way it read */
  interface PassRead { pass: AppFlowPass; step: StoreStep; active: number; dropped: Drops; xmin: string }

  /**
   * A listing or full pass: the listing (row ids and versions) and the active tasks in one snapshot, then the rows
   * that changed (all of them on a full pass) by id. The step is a replace, the unchanged listed apps kept.
   */
  async function listingPass(full: boolean, sendAll: boolean, signal: AbortSignal, now: Date, sendAhead: CollectContext['sendAhead']): Promise<PassRead> {
    const { listing, tasks, xmin } = await readAppListing(pg, signal);
    const plan = memory.plan(listing.rows, tasks.rows, full, sendAll);
    const active = normalizeTasks(tasks.rows, now).items;
    const dropped = new Drops().add(listing).add(tasks);
    let pass: AppFlowPass;
    try {
      const ahead = sendAhead && {
        items: rowsPerRead,
        send: (items: AppFlowState[], first: boolean) => sendAhead({ op: 'items_ahead', domain: 'app_states', items, ...(first ? { first } : {}) }),
      };
      pass = await memory.settle(plan, plannedRows(pg, signal, plan.ids, rowsPerRead, dropped), new ActiveTasks(active), unknownStates, ahead);
      dropped.add(memory.misfitDrops());
      // most rows not fitting (a column whose type changed) throws here: the view must not empty
      judgeDrops('user_applications', pass.items.length + (pass.ahead ?? 0) + pass.keep.length - (pass.unfitKept ?? 0), dropped);
    } catch (err) {
      // the memory holds rows the store never got: the next pass lists and reads everything
      watermark = null;
      throw err;
    }
    const step: StoreStep = {
      op: 'replace', domain: 'app_states', items: pass.items, ...(pass.keep.length > 0 ? { keep: pass.keep } : {}),
      reconciles: ['nats'], ...(pass.ahead ? { ahead: pass.ahead } : {}),
    };
    return { pass, step, active: active.length, dropped, xmin };
  }

  /** A changes pass, or null when the changes cannot tell the listing (a listing pass then decides). */
  async function changesPass(from: string, signal: AbortSignal, now: Date): Promise<PassRead | null> {
    const read = await readAppChanges(pg, signal, from, memory.rereadIds());
    if (!watermarkHolds(from, read.probe.xmin)) return null;
    const plan = memory.planChanges(read.changed.rows, read.byId.rows, read.tasks.rows, read.probe, [...read.changed.misfits, ...read.byId.misfits]);
    if (plan === null) return null;
    const active = normalizeTasks(read.tasks.rows, now).items;
    const pass: AppFlowPass = memory.settleChanges(plan, new ActiveTasks(active), unknownStates);
    const step: StoreStep = {
      op: 'changes', domain: 'app_states', items: pass.items, removed: pass.removed, ...(pass.left ? { left: pass.left } : {}), reconciles: ['nats'],
    };
    const dropped = new Drops().add(read.changed).add(read.byId).add(read.tasks).add(memory.misfitDrops());
    return { pass, step, active: active.length, dropped, xmin: read.probe.xmin };
  }

  return {
    async collect(ctx: CollectContext): Promise<CollectResult> {
      // first, so a run that fails still reads them next time
      memory.forget(ctx.reread ?? []);
      let full = ctx.full || sinceFull + 1 >= FULL_PASS_EVERY || watermark === null;
      const now = ctx.now();
      let read: PassRead | null = null;
      let changesError: string | null = null;
      if (!full) {
        try {
          read = await changesPass(watermark!, ctx.signal, now);
          if (read === null) listingPasses += 1;
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          // a changes read the server refuses (or cuts at its timeout) must not hold the view still pass after
          // pass: this run reads everything, as a full pass does (the store's listing reconciles it whole)
          changesFailures += 1;
          changesError = err instanceof Error ? err.message : String(err);
          full = true;
        }
      }
      // every app read goes to a new store, and after a pass that failed (the memory may hold what never arrived);
      // the periodic full pass sends only what it finds moved (ReadPlan.sendAll)
      read ??= await listingPass(full, ctx.full || watermark === null, ctx.signal, now, ctx.sendAhead);
      const { pass: { counters, newUnknownStates } } = read;
      watermark = read.xmin;
      sinceFull = full ? 0 : sinceFull + 1;
      for (const s of newUnknownStates) options.onUnknownState?.(s);
      const result: CollectResult = {
        steps: [read.step],
        counters: { ...counters, dropped: read.dropped.dropped, active_tasks: read.active, listing_passes: listingPasses, changes_failures: changesFailures },
        ...(full ? { bulk: true } : {}),
      };
      const warnings: string[] = [];
      // (a changes pass's rows that do not fit keep the app as the store holds it: named, never thrown)
      const dropped = dropsWarning('user_applications', read.dropped);
      if (dropped !== undefined) warnings.push(dropped);
      if (changesError !== null) warnings.push(`reading what changed failed (${changesError.slice(0, 200)}): read everything instead`);
      if (newUnknownStates.length > 0) {
        warnings.push(`unknown app state ${newUnknownStates.map((s) => JSON.stringify(s.slice(0, 64))).join(', ')}`
          + ' shown as stage unknown');
      }
      if (warnings.length > 0) result.warning = warnings.join('; ');
      return result;
    },
    close: () => pg.close(),
  };
};
