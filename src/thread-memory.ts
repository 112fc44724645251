import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { ThreadMemory } from './protocol.ts';

export type { ThreadMemory };

/**
 * The calling thread's memory now: its V8 heap in use and reserved, and `external` — memory of C++ objects
 * bound to its JavaScript objects (Buffers, ArrayBuffers: the bodies). Without prom-client: only the HTTP
 * thread loads a metrics library (http/store-metrics.ts renders every thread's memory).
 */
export function threadMemory(): ThreadMemory {
  const m = process.memoryUsage();
  const memory: ThreadMemory = {
    heap_used: m.heapUsed, heap_total: m.heapTotal, heap_limit: getHeapStatistics().heap_size_limit, external: m.external,
    busy_s: performance.eventLoopUtilization().active / 1000,
  };
  const cpu = threadCpuSeconds();
  if (cpu !== undefined) memory.cpu_s = cpu;
  return memory;
}

/** Linux's USER_HZ: the unit of /proc's CPU times */
const TICKS_PER_SECOND = 100;

/** The CPU seconds a /proc `stat` line (of a process or a thread) holds: in user space and in the kernel. */
export function statCpuSeconds(stat: string): { user: number; system: number } {
  // the fields after the command name (which may hold spaces) start after its ')': utime and stime are 14th and 15th
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

/**
 * The calling thread's CPU time (user + kernel) in seconds, from /proc/thread-self/stat; undefined where there is
 * no such file. Unlike the event loop's busy time it leaves out the time the thread waited for a core, and the
 * process's CPU less every thread's is V8's helper threads (concurrent GC) and libuv's.
 */
function threadCpuSeconds(): number | undefined {
  try {
    const { user, system } = statCpuSeconds(readFileSync('/proc/thread-self/stat', 'latin1'));
    return Number.isFinite(user + system) ? user + system : undefined;
  } catch {
    return undefined;
  }
}

const isCount = (n: unknown): boolean => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** A report from another thread, checked: it crosses a thread boundary. */
function isThreadMemory(m: unknown): m is ThreadMemory {
  const r = m as Partial<ThreadMemory> | null;
  return typeof r === 'object' && r !== null
    && [r.heap_used, r.heap_total, r.heap_limit, r.external, r.busy_s].every(isCount)
    && (r.cpu_s === undefined || isCount(r.cpu_s));
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
    this.reported.set(thread, {
      heap_used: m.heap_used, heap_total: m.heap_total, heap_limit: m.heap_limit, external: m.external, busy_s: m.busy_s,
      ...(m.cpu_s === undefined ? {} : { cpu_s: m.cpu_s }),
    });
    return true;
  }

  /** every thread's last report, and this thread's memory now */
  all(): Record<string, ThreadMemory> {
    return Object.fromEntries([...this.reported, [this.self, threadMemory()]]);
  }
}
