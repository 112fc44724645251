import { Gauge, type Registry } from 'prom-client';

/**
 * JavaScript heap of one thread (each thread has its own V8 heap; together with native buffers they make up
 * the process RSS). Registered by the HTTP and the store thread under their own name.
 */
export function threadHeapGauge(thread: string, registers: Registry[]): Gauge<'thread' | 'space'> {
  return new Gauge({
    name: `market_runtime_${thread}_thread_heap_bytes`, help: `V8 heap of the ${thread} thread: used and total`,
    labelNames: ['thread', 'space'], registers,
    collect() {
      const m = process.memoryUsage();
      this.set({ thread, space: 'used' }, m.heapUsed);
      this.set({ thread, space: 'total' }, m.heapTotal);
      this.set({ thread, space: 'array_buffers' }, m.arrayBuffers);
    },
  });
}
