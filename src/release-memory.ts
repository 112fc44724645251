import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * A full pass reads the whole market at once (at 50,000 apps the app_flow thread's heap reaches ~180 MiB, the
 * Chart Repo's ~125 MiB, against ~30 and ~70 after), and all of it is garbage once the store has the pass. V8
 * would keep it until its next full collection, which in a thread that allocates little between passes came
 * 30-60 s later, on top of the other threads' start-up work: the process's peak. Full passes are rare (start,
 * a new store, app_flow every 60th pass), so the thread collects right after one: ~50 ms of its own time. The
 * store does the same once it has committed such a pass (PassMessage.bulk): the old values it replaced are garbage.
 *
 * `gc` exists when the process set `--expose-gc` before starting its threads (src/v8-flags.ts); elsewhere
 * (tests, a collector used in-process) this does nothing.
 */
export function releaseMemory(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  const compact = compactsWhenFragmented && compactsNow(lastCollection, getHeapStatistics().used_heap_size);
  // V8's flags are the process's: this thread sets it around its own collection (another thread's collection
  // meanwhile compacts too, or skips its compaction once, which costs time or memory, not correctness), and sets
  // it either way, so that one left set by a thread terminated between the two calls lasts only until the next
  // forced collection of any thread
  setFlagsFromString(compact ? '--compact-on-every-full-gc' : '--no-compact-on-every-full-gc');
  try {
    gc();
  } finally {
    if (compact) setFlagsFromString('--no-compact-on-every-full-gc');
  }
  lastCollection = oldSpaceAfterCollection();
  return true;
}

/**
 * A full collection frees the garbage but not the pages it sat on while a few live objects remain on each: after
 * a pass's garbage, V8 kept ~10 MiB of the store's and the HTTP thread's old generation committed and unused at
 * 1,000 apps, until a memory-reducing collection that a thread busy every few seconds seldom gets. So in those
 * two threads (compactWhenFragmented), when the previous forced collection left more than this unused (or a
 * quarter of what it held, when that is more), the next one also compacts: it moves the live objects together
 * and gives the emptied pages back. Never for a heap past MAX_FORCED_GC_LIVE_BYTES: moving hundreds of MiB is one
 * long pause (V8 compacts such heaps itself, in steps). Measured with bench:scale on 2026-12-07, with NATS:
 * 1,000 apps 164 -> 154 MiB steady (with the change stream's history bound), collection CPU unchanged.
 *
 * Not in the collectors: their heaps are a pass's buffer, filled again by the next pass, so pages given back
 * are faulted in again within seconds. Compacting there too cost 0.014 core more at 10,000 apps (0.100 against
 * 0.086, runs side by side) for no lower RSS (230 MiB either way), and compacting every forced collection of
 * every thread took 1,000 apps to 143 MiB but collection CPU from 0.085 to 0.107 core.
 */
export const COMPACT_SLACK_BYTES = 4 * 1024 * 1024;

/** Whether this thread's forced collections compact a fragmented old generation (off unless asked). */
let compactsWhenFragmented = false;

/** This thread's forced collections compact its old generation once fragmented (the store and the HTTP thread). */
export function compactWhenFragmented(): void {
  compactsWhenFragmented = true;
}

/** The old generation right after a forced collection: what it holds and what it keeps committed unused. */
export interface OldSpace {
  used: number;
  unused: number;
}

let lastCollection: OldSpace = { used: 0, unused: 0 };

/**
 * Whether a forced collection compacts, given what the previous one left (`last`) and what the heap holds now,
 * garbage included (`usedNow`): the size bound is the heap's now, not then, since a store that was small at its
 * last collection may hold a whole large market by its next (the bulk collection after a new store's first pass).
 */
export function compactsNow(last: OldSpace, usedNow: number): boolean {
  return usedNow <= MAX_FORCED_GC_LIVE_BYTES && last.unused > Math.max(COMPACT_SLACK_BYTES, last.used / 4);
}

function oldSpaceAfterCollection(): OldSpace {
  const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
  return old ? { used: old.space_used_size, unused: old.space_size - old.space_used_size } : { used: 0, unused: 0 };
}

/** Above this much held, a thread leaves its full collections to V8 (HeapBound, releaseSmallHeap). */
export const MAX_FORCED_GC_LIVE_BYTES = 64 * 1024 * 1024;

/**
 * releaseMemory, unless the heap holds more than MAX_FORCED_GC_LIVE_BYTES: a forced full collection of a large
 * heap is one long pause, and in the store every query waits for it (~40 ms at 10,000 apps, hundreds at
 * 50,000); V8's own collection of it marks in steps between the thread's tasks. Its floating garbage is a small
 * share of such a heap.
 */
export function releaseSmallHeap(
  usedBytes: () => number = () => getHeapStatistics().used_heap_size, collect: () => boolean = releaseMemory,
): boolean {
  return usedBytes() <= MAX_FORCED_GC_LIVE_BYTES && collect();
}

/**
 * A thread's garbage kept in bounds: V8 lets a heap float well above what it holds before its next full
 * collection (a step of ~8 MiB at least, per thread), and eight threads' floating garbage is most of the
 * 160 MiB budget at 1,000 apps. `check()`, called at a quiet moment (a collector after its pass, the store
 * after a commit, the HTTP thread on a timer), collects once the heap has grown past what it held after the
 * last collection by `floorBytes`, or by `share` of it when that is more: the cost of a full collection is
 * paid once per that much garbage, not once per call. A heap that holds more than `maxLiveBytes` is left to
 * V8 (its floating garbage is a small share of it, and a forced collection of it is a long pause). The 2 MiB
 * floor (4 MiB before) gave 155 against 159 MiB steady at 1,000 apps, runs side by side, for no CPU the runs
 * could tell apart; above 8 MiB held, the share decides.
 */
export class HeapBound {
  private after: number;

  constructor(
    private readonly floorBytes = 2 * 1024 * 1024,
    private readonly share = 0.25,
    private readonly maxLiveBytes = MAX_FORCED_GC_LIVE_BYTES,
    private readonly usedBytes: () => number = () => getHeapStatistics().used_heap_size,
    private readonly collect: () => boolean = releaseMemory,
  ) {
    this.after = usedBytes();
  }

  /** Answers whether it collected. */
  check(): boolean {
    const used = this.usedBytes();
    if (this.after > this.maxLiveBytes || used - this.after <= Math.max(this.floorBytes, this.share * this.after)) {
      // V8 collected on its own since: what it holds now is the new base
      if (used < this.after) this.after = used;
      return false;
    }
    if (!this.collect()) return false;
    this.after = this.usedBytes();
    return true;
  }
}
