import { performance } from 'node:perf_hooks';
import type { ThreadMemory } from './protocol.ts';

export type { ThreadMemory };

/**
 * The calling thread's memory now: its V8 heap in use and reserved, and `external` — memory of C++ objects
 * bound to its JavaScript objects (Buffers, ArrayBuffers: the bodies). Its own module, without prom-client:
 * collector threads report with it and load no metrics library (the gauges are in thread-metrics.ts).
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
