import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { answerCacheBytes, collectorLimits, LARGE_POD_BYTES, MEMORY_SHARES, THREAD_LIMITS, threadLimits } from '../../src/thread-limits.ts';

const MiB = 2 ** 20;

describe('thread heap limits within the process memory limit', () => {
  it('without a limit, every thread gets its fixed ceilings', () => {
    for (const kind of ['store', 'http', 'collector', 'compress'] as const) {
      expect(threadLimits(kind, undefined)).toEqual(THREAD_LIMITS[kind]);
    }
  });

  it('in the manifest\'s 512 MiB pod, one runaway thread stops while the rest of the process still fits', () => {
    const pod = 512 * MiB;
    // the steady RSS at 10,000 apps less the store's own heap, with a margin: docs/performance.md (Scale) measures
    // 226.8 MiB steady with the store's heap at 67 MiB; 249 - 73 = 176 > 226.8 - 67 ≈ 160, room for run-to-run spread
    const rest = 249 * MiB - 73 * MiB;
    for (const kind of ['store', 'http', 'collector', 'compress'] as const) {
      const oldGen = threadLimits(kind, pod).maxOldGenerationSizeMb! * MiB;
      expect(oldGen).toBe(Math.floor(pod * MEMORY_SHARES[kind]));
      expect(rest + oldGen).toBeLessThan(pod);
    }
    // young generations are not touched
    expect(threadLimits('store', pod).maxYoungGenerationSizeMb).toBe(THREAD_LIMITS.store.maxYoungGenerationSizeMb);
  });

  it('a large limit keeps the fixed ceilings; a tiny one still leaves a heap a thread can start in', () => {
    expect(threadLimits('store', 64 * 1024 * MiB).maxOldGenerationSizeMb).toBe(THREAD_LIMITS.store.maxOldGenerationSizeMb);
    expect(threadLimits('compress', 128 * MiB).maxOldGenerationSizeMb).toBe(32);
  });

  it('in a pod of 1 GiB or more (a large market) the store gets a larger young generation; in smaller ones, or with no limit, the smallest', () => {
    expect(threadLimits('store').maxYoungGenerationSizeMb).toBe(THREAD_LIMITS.store.maxYoungGenerationSizeMb);
    expect(threadLimits('store', 512 * MiB).maxYoungGenerationSizeMb).toBe(THREAD_LIMITS.store.maxYoungGenerationSizeMb);
    expect(threadLimits('store', LARGE_POD_BYTES).maxYoungGenerationSizeMb).toBe(16);
    // only the store's: the other threads' young generations do not grow with the pod
    expect(threadLimits('http', LARGE_POD_BYTES).maxYoungGenerationSizeMb).toBe(THREAD_LIMITS.http.maxYoungGenerationSizeMb);
  });

  it('collectors that read big passes get a larger young generation in a large market\'s pod; every other collector, and every collector in a smaller pod, the smallest', () => {
    for (const source of ['app_flow', 'chart_repo']) {
      expect(collectorLimits(source, LARGE_POD_BYTES)).toEqual({ ...threadLimits('collector', LARGE_POD_BYTES), maxYoungGenerationSizeMb: 8 });
      expect(collectorLimits(source, 512 * MiB).maxYoungGenerationSizeMb).toBe(3);
      expect(collectorLimits(source, undefined)).toEqual(THREAD_LIMITS.collector);
    }
    for (const source of ['tasks', 'components', 'nats']) {
      expect(collectorLimits(source, LARGE_POD_BYTES)).toEqual(threadLimits('collector', LARGE_POD_BYTES));
      expect(collectorLimits(source, 512 * MiB)).toEqual({ ...threadLimits('collector', 512 * MiB), maxYoungGenerationSizeMb: 3 });
    }
  });

  it('a large market\'s pod keeps three times the answers for the current version; a smaller pod, or none known, the small bounds', () => {
    expect(answerCacheBytes(LARGE_POD_BYTES)).toEqual({ cached: 48 * MiB, remembered: 24 * MiB });
    expect(answerCacheBytes(512 * MiB)).toEqual({ cached: 16 * MiB, remembered: 8 * MiB });
    expect(answerCacheBytes(undefined)).toEqual({ cached: 16 * MiB, remembered: 8 * MiB });
  });

  it('MEMORY_LIMIT_MB is read in MiB, checked, and absent by default (the container\'s own limit is used)', () => {
    expect(loadConfig({ MEMORY_LIMIT_MB: '512' }).memoryLimitBytes).toBe(512 * MiB);
    expect(loadConfig({}).memoryLimitBytes).toBeUndefined();
    expect(() => loadConfig({ MEMORY_LIMIT_MB: '64' })).toThrow(/MEMORY_LIMIT_MB/);
    expect(() => loadConfig({ MEMORY_LIMIT_MB: 'lots' })).toThrow(/MEMORY_LIMIT_MB/);
  });
});
