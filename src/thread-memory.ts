import { performance } from 'node:perf_hooks';
import type { ThreadMemory } from './protocol.ts';

export type { ThreadMemory };

/**
 * The calling thread's memory now: its V8 heap in use and reserved, and `external` — memory of C++ objects
 * bound to its JavaScript objects (Buffers, ArrayBuffers: the bodies). Without prom-client: only the HTTP
 * thread loads a metrics library (http/store-metrics.ts renders every thread's memory).
 */
export function threadMemory(): ThreadMemory {
  const m = process.memoryUsage();
  return { heap_used: m.heapUsed, heap_total: m.heapTotal, external: m.external, busy_s: performance.eventLoopUtilization().active / 1000 };
}

/** A report from another thread, checked: it crosses a thread boundary. */
export function isThreadMemory(m: unknown): m is ThreadMemory {
  const r = m as Partial<ThreadMemory> | null;
  return typeof r === 'object' && r !== null
    && [r.heap_used, r.heap_total, r.external, r.busy_s].every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0);
}

/** Thread names are a closed set (bounded label cardinality). */
const THREAD_NAME = /^(main|store|http|compress|collector_[a-z_]+)$/;

/**
 * The memory other threads reported (the supervisor for itself and each collector after every run), kept by
 * the store for /metrics together with its own (`self`), read at scrape time.
 */
export class ThreadMemoryBook {
  private readonly reported = new Map<string, ThreadMemory>();

  constructor(private readonly self: string) {}

  /** Another thread's report; a malformed one or an unknown name is dropped (returns false). */
  report(thread: string, m: unknown): boolean {
    if (!THREAD_NAME.test(thread) || !isThreadMemory(m)) return false;
    this.reported.set(thread, { heap_used: m.heap_used, heap_total: m.heap_total, external: m.external, busy_s: m.busy_s });
    return true;
  }

  /** every thread's last report, and this thread's memory now */
  all(): Record<string, ThreadMemory> {
    return Object.fromEntries([...this.reported, [this.self, threadMemory()]]);
  }
}
