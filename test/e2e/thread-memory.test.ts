import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceLimits } from 'node:worker_threads';
import { collectorLimits, threadLimits } from '../../src/thread-limits.ts';
import { storeMetricsText } from '../../src/http/store-metrics.ts';
import { ThreadMemoryBook } from '../../src/thread-memory.ts';
import { parseProm, value } from '../helpers/prom.ts';
import { storeSample } from '../helpers/store-sample.ts';
import { eventually, fake, startInProcess, untilReady } from '../helpers/sidecar.ts';

describe('per-thread memory in /metrics (real threads, fake sources)', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([fake('tasks', { mode: 'passes', count: 50 }), fake('components', { mode: 'passes', count: 5 })]);
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('shows heap, external memory and busy time of the main, store, HTTP and every collector thread, once each', async () => {
    const threads = ['main', 'store', 'http', 'collector_tasks', 'collector_components'];
    const e = await eventually(async () => {
      const exp = parseProm(await (await sc.get('/metrics')).text()); // throws on a family shown twice
      for (const thread of threads) expect(value(exp, 'market_runtime_thread_heap_bytes', { thread })).toBeGreaterThan(0);
      return exp;
    });
    for (const thread of threads) {
      const used = value(e, 'market_runtime_thread_heap_bytes', { thread })!;
      expect(value(e, 'market_runtime_thread_heap_total_bytes', { thread })).toBeGreaterThanOrEqual(used);
      expect(value(e, 'market_runtime_thread_external_bytes', { thread })).toBeGreaterThan(0);
      // every thread did some work: its busy time is there, and below the time it has lived
      expect(value(e, 'market_runtime_thread_busy_seconds', { thread })).toBeGreaterThan(0);
      expect(value(e, 'market_runtime_thread_busy_seconds', { thread })).toBeLessThan(process.uptime());
      // and its own CPU time (Linux: /proc/thread-self), at least a tick of loading its code
      expect(value(e, 'market_runtime_thread_cpu_seconds_total', { thread })).toBeGreaterThan(0);
    }
    // each thread's own: together no more than the whole process used
    const cpu = process.cpuUsage();
    const threadsCpu = threads.reduce((n, thread) => n + value(e, 'market_runtime_thread_cpu_seconds_total', { thread })!, 0);
    expect(threadsCpu).toBeLessThanOrEqual((cpu.user + cpu.system) / 1e6 + 0.05);
    expect(e.types.get('market_runtime_thread_cpu_seconds_total')).toBe('counter');
    expect(e.types.get('market_runtime_thread_heap_bytes')).toBe('gauge');
    expect(e.samples.filter((s) => s.name === 'market_runtime_thread_heap_bytes').map((s) => s.labels.thread).sort())
      .toEqual([...threads].sort());
  });

  it('shows the compression thread\'s once it compressed a body (it runs only while answers are compressed)', async () => {
    const heap = async () => value(parseProm(await (await sc.get('/metrics')).text()), 'market_runtime_thread_heap_bytes', { thread: 'compress' });
    expect(await heap()).toBeUndefined();
    const res = await fetch(`${sc.base}/api/v2/runtime/state`, { headers: { 'accept-encoding': 'br' } });
    await res.arrayBuffer();
    expect(res.headers.get('content-encoding')).toBe('br');
    expect(await heap()).toBeGreaterThan(0);
  });

  it('shows each thread\'s heap limit: the store, HTTP, compression and collector threads run with theirs, not the process default', async () => {
    const e = parseProm(await (await sc.get('/metrics')).text());
    const mib = (thread: string) => value(e, 'market_runtime_thread_heap_limit_bytes', { thread })! / 2 ** 20;
    const limits: Record<string, ResourceLimits> = {
      store: threadLimits('store'), http: threadLimits('http'), compress: threadLimits('compress'),
      collector_tasks: collectorLimits('tasks'), collector_components: collectorLimits('components'),
    };
    for (const [thread, { maxOldGenerationSizeMb: old }] of Object.entries(limits)) {
      // what an operator relies on: the thread may grow to its configured old generation, and is bounded near it
      // (how V8 adds the young generation to the limit is V8's business, not asserted here)
      expect(mib(thread), thread).toBeGreaterThanOrEqual(old!);
      expect(mib(thread), thread).toBeLessThan(2 * old!);
    }
    // the main thread has no limit of its own: V8's default for the machine, far above any thread's
    expect(mib('main')).toBeGreaterThan(mib('store'));
  });
});

describe('ThreadMemoryBook', () => {
  it('drops a report with an unknown thread name or a malformed body (bounded labels, checked input)', async () => {
    const book = new ThreadMemoryBook('store');
    const ok = { heap_used: 1, heap_total: 2, heap_limit: 5, external: 3, busy_s: 4 };
    expect(book.report('collector_tasks', ok)).toBe(true);
    expect(book.report('anything else', ok)).toBe(false);
    expect(book.report('collector_x', { heap_used: -1, heap_total: 2, heap_limit: 5, external: 3, busy_s: 4 })).toBe(false);
    expect(book.report('collector_tasks', { heap_used: 1, heap_total: 2, external: 3 })).toBe(false);
    expect(book.report('main', { heap_used: '1' })).toBe(false);
    expect(book.report('collector_tasks', { ...ok, cpu_s: -1 })).toBe(false);
    expect(book.report('collector_components', { ...ok, cpu_s: 0.5 })).toBe(true);
    const e = parseProm(await storeMetricsText(storeSample({ threads: book.all() })));
    expect(e.samples.filter((s) => s.name === 'market_runtime_thread_external_bytes').map((s) => s.labels.thread).sort())
      .toEqual(['collector_components', 'collector_tasks', 'store']);
    expect(value(e, 'market_runtime_thread_external_bytes', { thread: 'collector_tasks' })).toBe(3);
    // a thread that could not read its CPU time (not Linux) shows no sample for it, rather than a zero
    expect(value(e, 'market_runtime_thread_cpu_seconds_total', { thread: 'collector_components' })).toBe(0.5);
    expect(value(e, 'market_runtime_thread_cpu_seconds_total', { thread: 'collector_tasks' })).toBeUndefined();
  });
});
