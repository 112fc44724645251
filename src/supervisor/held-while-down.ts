import type { Worker } from 'node:worker_threads';
import type { SourceName } from '../model/index.ts';
import type { PassOutcome, StoreControlApi } from '../protocol.ts';
import { CALL_DEADLINE_MS, callWithDeadline, exitOf, type Comlink } from '../threads.ts';
import type { Logger } from '../log.ts';

type Store = Comlink.Remote<StoreControlApi>;

/**
 * What the store held of each source that is down, so that an outage and a store restart together lose nothing
 * known: each failed run of a source asks the store for what it holds of it (StoreControlApi.heldOf, serialized
 * bytes), made only when it changed since the copy kept (app events pushed during the outage change it; failed
 * runs do not), its next good run drops it, and a store that replaces a dead one meanwhile is given it before any
 * collector reaches it (StoreControlApi.restoreHeld). What changed after the last failed run, before the store
 * died, is lost with the store: at most one interval of pushed events.
 */
export class HeldWhileDown {
  /** the sources whose last run failed */
  private readonly down = new Set<SourceName>();
  /** the copy kept per source, with the store it came from (a mark means something only to that store) */
  private readonly held = new Map<SourceName, { bytes: ArrayBuffer; mark: number; from: Worker }>();
  private readonly taking = new Set<SourceName>();
  /** the store last given what its predecessor held, until it is ready */
  private restoredInto: Worker | null = null;

  constructor(private readonly log: Logger) {}

  /**
   * A run's outcome. `current` is the store thread now and its API, or null while none is up; a store that is
   * replaced before it answers gives nothing to keep.
   */
  outcome(source: SourceName, o: PassOutcome, current: () => { worker: Worker; store: Store } | null): void {
    if (o.ok) {
      this.down.delete(source);
      this.held.delete(source);
      return;
    }
    this.down.add(source);
    const now = current();
    if (now === null || this.taking.has(source)) return;
    const kept = this.held.get(source);
    const unless = kept?.from === now.worker ? kept.mark : undefined;
    this.taking.add(source);
    callWithDeadline(now.store.heldOf(source, unless), CALL_DEADLINE_MS, 'store.heldOf')
      .then((copy) => {
        // (unchanged; a good run meanwhile, or a store that died answering: nothing to keep)
        if (copy === null || !this.down.has(source) || current()?.worker !== now.worker) return;
        if (copy.bytes !== null) {
          this.held.set(source, { bytes: copy.bytes, mark: copy.mark, from: now.worker });
          this.log.info({ source, bytes: copy.bytes.byteLength, again: kept !== undefined }, 'kept what the store holds of a failing source (until its next good run)');
        } else if (kept?.from === now.worker) {
          // the store that gave the copy holds nothing of it now (pushed removals): neither does the copy
          this.held.delete(source);
        }
      }, (err: unknown) => this.log.debug({ source, err: String(err) }, 'what the store holds of a failing source was not taken'))
      .finally(() => this.taking.delete(source));
  }

  /** Gives a store that replaces a dead one what is kept; stops when that store dies too (its restart gives it again). */
  async restoreInto(worker: Worker, store: Store, deadlineMs: number): Promise<void> {
    if (this.held.size === 0) return;
    this.restoredInto = worker;
    const exit = exitOf(worker, 'store.restoreHeld');
    const exited = exit.exited.catch(() => false as const);
    try {
      for (const [source, { bytes }] of this.held) {
        if (worker.threadId === -1) return;
        // (copied, not transferred: a store that dies too needs them again)
        const restoring = callWithDeadline(store.restoreHeld(source, bytes), deadlineMs, 'store.restoreHeld')
          .catch((err: unknown) => {
            this.log.warn({ source, err: String(err) }, 'what the dead store held of a failing source was not restored');
            return false;
          });
        if (await Promise.race([restoring, exited])) this.log.info({ source, bytes: bytes.byteLength }, 'the new store shows what the dead one held of a source that is down');
      }
    } finally {
      // (one listener per restore would otherwise stay on a store that lives on)
      exit.off();
    }
  }

  /** The store became ready: what it was given did not kill it. */
  storeReady(worker: Worker): void {
    if (worker === this.restoredInto) this.restoredInto = null;
  }

  /**
   * A store thread ended, and why. One given what is kept that dies before it is ready drops it, whatever ended it:
   * what was kept may be what kills it (a crash, its heap limit, a hang the watchdog ends), and a store that dies
   * of it again and again would keep the view down.
   */
  storeExited(worker: Worker, reason: string): void {
    if (worker !== this.restoredInto || this.held.size === 0) return;
    this.log.warn({ sources: [...this.held.keys()], reason }, 'a store given what the dead one held died before it was ready: that is dropped');
    this.held.clear();
    this.restoredInto = null;
  }
}
