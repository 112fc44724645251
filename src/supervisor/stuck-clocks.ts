import type { Worker } from 'node:worker_threads';
import type { StoreControlApi } from '../protocol.ts';
import type { StuckClock } from '../store/stuck.ts';
import { CALL_DEADLINE_MS, callWithDeadline, type Comlink } from '../threads.ts';
import type { Logger } from '../log.ts';

type Store = Comlink.Remote<StoreControlApi>;

/**
 * How often the supervisor takes the clocks (a timer, not the runs' ends: runs end together on the interval's
 * tick, and pushed events move clocks between ticks). What moved since the last take dies with the store.
 */
export const TAKE_EVERY_MS = 1000;

/**
 * The store's stuck clocks (store/stuck.ts StuckClock: what it knows of apps that the rows do not say), kept
 * here so that a store replacing a dead one judges as the dead one did: the same stage_since, stall clocks and
 * verdicts, so the same ETags. Taken every TAKE_EVERY_MS as changes; after a take that failed, or from a store
 * this copy did not come from or go to, whole. What moved in the dead store's last second is lost with it.
 */
export class StuckClocks {
  private readonly clocks = new Map<string, StuckClock>();
  /** the store whose clocks these are (taken from it, or given to it), or null: the next take is whole */
  private from: Worker | null = null;
  private taking = false;
  /** a dead store's replacement is starting: nothing is taken from it before it is given these (restoreInto) */
  private replacing = false;

  constructor(private readonly log: Logger) {}

  /** how many apps' clocks are kept */
  get size(): number {
    return this.clocks.size;
  }

  /** Takes what changed from the current store (one take at a time). */
  take(current: () => { worker: Worker; store: Store } | null): void {
    const now = current();
    if (now === null || this.replacing || this.taking) return;
    this.taking = true;
    const all = this.from !== now.worker;
    callWithDeadline(now.store.stuckClocks(all), CALL_DEADLINE_MS, 'store.stuckClocks')
      .then((changed) => {
        if (current()?.worker !== now.worker) return;
        if (all) this.clocks.clear();
        for (const [key, clock] of changed) {
          if (clock === null) this.clocks.delete(key);
          else this.clocks.set(key, clock);
        }
        this.from = now.worker;
      }, (err: unknown) => {
        // (the store cleared what it sent: the next take is whole)
        this.from = null;
        this.log.debug({ err: String(err) }, 'stuck clocks not taken');
      })
      .finally(() => { this.taking = false; });
  }

  /**
   * The store died and its replacement is starting: a run that ends meanwhile must not take the new store's
   * (empty) clocks in place of the dead one's before restoreInto gives them.
   */
  storeReplacing(): void {
    this.replacing = true;
  }

  /** Gives a store that replaces a dead one the clocks kept, before any collector reaches it. */
  async restoreInto(worker: Worker, store: Store, deadlineMs: number): Promise<void> {
    this.from = null;
    try {
      await this.give(worker, store, deadlineMs);
    } finally {
      this.replacing = false;
    }
  }

  private async give(worker: Worker, store: Store, deadlineMs: number): Promise<void> {
    if (this.clocks.size === 0) return;
    try {
      await callWithDeadline(store.restoreStuckClocks([...this.clocks]), deadlineMs, 'store.restoreStuckClocks');
      // the new store counts its changes from these
      this.from = worker;
      this.log.info({ apps: this.clocks.size }, 'the new store judges stuck apps from the clocks of the dead one');
    } catch (err) {
      this.log.warn({ err: String(err) }, 'the dead store\'s stuck clocks were not given to the new one');
    }
  }
}
