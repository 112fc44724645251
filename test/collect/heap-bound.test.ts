/**
 * A thread collects its garbage at a quiet moment once it has grown past its bound (release-memory.ts
 * HeapBound): not on every call, not for a heap too big to pause for.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { compactsNow, HeapBound, MAX_FORCED_GC_LIVE_BYTES, releaseSmallHeap } from '../../src/release-memory.ts';

const MiB = 1024 * 1024;

function thread(start: number) {
  let used = start;
  let collections = 0;
  /** what a collection leaves: the live part */
  let live = start;
  const bound = new HeapBound(4 * MiB, 0.25, 64 * MiB, () => used, () => { collections += 1; used = live; return true; });
  return {
    bound,
    allocate(bytes: number, keep = 0) { used += bytes; live += keep; },
    /** V8 collected on its own */
    v8Collects(to: number) { used = to; live = to; },
    get collections() { return collections; },
    get used() { return used; },
  };
}

describe('HeapBound', () => {
  it('collects once 4 MiB of garbage piled up since the last collection, not before', () => {
    const t = thread(10 * MiB);
    t.allocate(3 * MiB);
    expect(t.bound.check()).toBe(false);
    t.allocate(2 * MiB);
    expect(t.bound.check()).toBe(true);
    expect(t.used).toBe(10 * MiB);
    expect(t.bound.check()).toBe(false);
    expect(t.collections).toBe(1);
  });

  it('past 16 MiB held, the bound is a quarter of what the heap holds', () => {
    const t = thread(40 * MiB);
    t.allocate(9 * MiB);
    expect(t.bound.check()).toBe(false);
    t.allocate(2 * MiB);
    expect(t.bound.check()).toBe(true);
  });

  it('a heap holding more than 64 MiB is left to V8 (a forced collection of it is a long pause)', () => {
    const t = thread(100 * MiB);
    t.allocate(60 * MiB);
    expect(t.bound.check()).toBe(false);
    expect(t.collections).toBe(0);
  });

  it('a collection V8 made on its own lowers the base', () => {
    const t = thread(30 * MiB);
    t.v8Collects(12 * MiB);
    expect(t.bound.check()).toBe(false);
    t.allocate(4.5 * MiB);
    expect(t.bound.check()).toBe(true);
  });
});

describe('releaseSmallHeap (the store after a bulk pass)', () => {
  it('collects a small heap at once, and leaves a large one to V8: its pause is one every reader would wait for', () => {
    let collections = 0;
    const collect = () => { collections += 1; return true; };
    expect(releaseSmallHeap(() => 40 * MiB, collect)).toBe(true);
    expect(releaseSmallHeap(() => MAX_FORCED_GC_LIVE_BYTES + 1, collect)).toBe(false);
    expect(collections).toBe(1);
  });
});

describe('a forced collection that compacts', () => {
  it.each([
    ['little left unused', { used: 12 * MiB, unused: 2 * MiB }, 14 * MiB, false],
    ['more than 4 MiB left unused', { used: 12 * MiB, unused: 5 * MiB }, 14 * MiB, true],
    ['less than a quarter of a 40 MiB heap left unused', { used: 40 * MiB, unused: 9 * MiB }, 44 * MiB, false],
    ['more than a quarter of a 40 MiB heap left unused', { used: 40 * MiB, unused: 11 * MiB }, 44 * MiB, true],
    ['a heap past 64 MiB, however fragmented', { used: 100 * MiB, unused: 90 * MiB }, 110 * MiB, false],
    ['a heap small and fragmented then, past 64 MiB now (a whole market since)', { used: 10 * MiB, unused: 20 * MiB }, 300 * MiB, false],
  ])('after a collection that left %s: compacts %s', (_what, last, usedNow, compacts) => {
    expect(compactsNow(last, usedNow)).toBe(compacts);
  });

  /**
   * A child with gc exposed (single-threaded, as the image runs it: its collector then decides alike every run),
   * whose forced collections compact once fragmented as the store's do (unless not `asked`), runs `prelude`, then
   * makes ~40 MiB of objects of which every tenth survives, spread over every page, and collects twice a little
   * apart with `collect`, as a thread's HeapBound does: what the old generation keeps committed after that.
   */
  const oldSpaceAfterTwo = (collect: string, prelude = '', asked = true) => {
    const script = `
      import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
      import { compactWhenFragmented, releaseMemory } from './src/release-memory.ts';
      ${asked ? 'compactWhenFragmented();' : ''}
      ${prelude}
      const collect = ${collect};
      let all = [];
      for (let i = 0; i < 400000; i++) all.push({ a: 'x' + i, b: [i, i + 1], c: { d: i } });
      globalThis.kept = all.filter((_, i) => i % 10 === 0);
      all = null;
      for (let n = 0; n < 2; n++) { collect(); await new Promise((r) => setTimeout(r, 200)); }
      console.log(getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size);
    `;
    const out = execFileSync(process.execPath, ['--single-threaded', '--expose-gc', '--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    return Number(out.trim().split('\n').at(-1));
  };
  const plainGc = '() => globalThis.gc()';

  it('gives back more of the pages a plain collection leaves committed around a few live objects', () => {
    expect(oldSpaceAfterTwo('releaseMemory')).toBeLessThan(oldSpaceAfterTwo(plainGc) * 0.6);
  });

  it('does not compact in a thread that did not ask (a collector: its next pass fills the pages again)', () => {
    expect(oldSpaceAfterTwo('releaseMemory')).toBeLessThan(oldSpaceAfterTwo('releaseMemory', '', false) * 0.6);
  });

  it('leaves no compaction set for every collection when a thread died between setting and clearing it', () => {
    const leftSet = "setFlagsFromString('--compact-on-every-full-gc');";
    // left set, every collection of the process compacts ...
    const compacting = oldSpaceAfterTwo(plainGc, `${leftSet} globalThis.gc();`);
    // ... until any thread's next forced collection, which sets it for itself
    const cleared = oldSpaceAfterTwo(plainGc, `${leftSet} releaseMemory();`);
    expect(compacting).toBeLessThan(cleared * 0.6);
  });
});
