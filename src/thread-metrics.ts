import { Gauge, type Registry } from 'prom-client';
import { isThreadMemory, threadMemory, type ThreadMemory } from './thread-memory.ts';

/** Thread names are a closed set (bounded label cardinality). */
const THREAD_NAME = /^(main|store|http|compress|collector_[a-z_]+)$/;

/** The per-thread memory families: name, help, and the field of a thread's report each one shows. */
const FAMILIES = [
  ['market_runtime_thread_heap_bytes', 'V8 heap in use, per thread (the threads together with native memory make up the process RSS)', 'heap_used'],
  ['market_runtime_thread_heap_total_bytes', 'V8 heap reserved (in use and free), per thread', 'heap_total'],
  ['market_runtime_thread_external_bytes', 'Memory outside the V8 heap held by a thread\'s objects (Buffers, bodies), per thread', 'external'],
  ['market_runtime_thread_busy_seconds', 'Seconds the thread\'s event loop was busy since the thread started (rate(): the share of a core it uses; starts again when the thread is replaced)', 'busy_s'],
] as const satisfies readonly (readonly [string, string, keyof ThreadMemory])[];

/**
 * Per-thread memory, one family for the whole process with a `thread` label: `main`, `store`, `http`,
 * `collector_<source>`. Owned by the store thread (every metric name exists once in /metrics): the store
 * reads its own memory at scrape time; the others report theirs (the supervisor for itself and for each
 * collector after every run, the HTTP thread with each scrape).
 */
export class ThreadMemoryGauges {
  private readonly reported = new Map<string, ThreadMemory>();

  constructor(self: string, registers: Registry[]) {
    const reported = this.reported;
    const all = () => new Map([...reported, [self, threadMemory()]]);
    for (const [name, help, field] of FAMILIES) {
      new Gauge({
        name, help, labelNames: ['thread'], registers,
        collect() {
          this.reset();
          for (const [thread, m] of all()) this.set({ thread }, m[field]);
        },
      });
    }
  }

  /** Another thread's report; a malformed one or an unknown name is dropped (returns false). */
  report(thread: string, m: unknown): boolean {
    if (!THREAD_NAME.test(thread) || !isThreadMemory(m)) return false;
    this.reported.set(thread, { heap_used: m.heap_used, heap_total: m.heap_total, external: m.external, busy_s: m.busy_s });
    return true;
  }

  /** a thread that is gone (e.g. a collector removed) stops being shown */
  forget(thread: string): void {
    this.reported.delete(thread);
  }
}
