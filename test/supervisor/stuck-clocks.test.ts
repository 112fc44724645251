import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import type { StuckClock } from '../../src/store/stuck.ts';
import { StuckClocks } from '../../src/supervisor/stuck-clocks.ts';

const clock: StuckClock = { stage: 'installing', stage_since: '2026-12-01T10:00:00Z' };

/** A store thread as the supervisor calls it: what its stuckClocks answers, and what it was given. */
function store(answer: (all: boolean) => [string, StuckClock | null][]) {
  const given: [string, StuckClock][][] = [];
  const asked: boolean[] = [];
  return {
    worker: {} as Worker,
    asked,
    given,
    api: {
      stuckClocks: async (all: boolean) => { asked.push(all); return answer(all); },
      restoreStuckClocks: async (c: [string, StuckClock][]) => { given.push(c); },
    } as never,
  };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('StuckClocks: what the supervisor keeps of the store\'s stuck clocks', () => {
  it('takes them whole from a store it has not taken from, then as changes; gives them whole to a replacement', async () => {
    const kept = new StuckClocks(createLogger('silent'));
    const first = store((all) => (all ? [['alice:market:wiki', clock], ['alice:market:blog', clock]] : [['alice:market:blog', null]]));
    // one take at a time
    kept.take(() => ({ worker: first.worker, store: first.api }));
    kept.take(() => ({ worker: first.worker, store: first.api }));
    await settle();
    expect(first.asked).toEqual([true]);
    expect(kept.size).toBe(2);
    kept.take(() => ({ worker: first.worker, store: first.api }));
    await settle();
    expect(first.asked).toEqual([true, false]);
    expect(kept.size).toBe(1);

    // the store died: a run that ends while its replacement starts takes nothing from the replacement
    const next = store(() => []);
    kept.storeReplacing();
    kept.take(() => ({ worker: next.worker, store: next.api }));
    await settle();
    expect(next.asked).toEqual([]);
    await kept.restoreInto(next.worker, next.api, 1000);
    expect(next.given).toEqual([[['alice:market:wiki', clock]]]);
    // and counts on from there: changes only
    kept.take(() => ({ worker: next.worker, store: next.api }));
    await settle();
    expect(next.asked).toEqual([false]);
    expect(kept.size).toBe(1);
  });

  it('after a take that failed, takes the next whole (the store cleared what it sent)', async () => {
    const kept = new StuckClocks(createLogger('silent'));
    let fail = false;
    const s = store((all) => {
      if (fail) throw new Error('gone');
      return all ? [['k', clock]] : [];
    });
    kept.take(() => ({ worker: s.worker, store: s.api }));
    await settle();
    fail = true;
    kept.take(() => ({ worker: s.worker, store: s.api }));
    await settle();
    fail = false;
    kept.take(() => ({ worker: s.worker, store: s.api }));
    await settle();
    expect(s.asked).toEqual([true, false, true]);
    expect(kept.size).toBe(1);
  });
});
