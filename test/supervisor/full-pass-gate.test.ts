/**
 * Full passes one at a time (issue 20: the start-up peak), and a pass that hangs holds the others back no
 * longer than the wait bound.
 */
import { describe, expect, it } from 'vitest';
import { FullPassGate } from '../../src/supervisor/full-pass-gate.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';

const tick = () => new Promise<void>((r) => setTimeout(r, 5));

describe('FullPassGate', () => {
  it('lets full passes in one at a time, in the order they asked', async () => {
    const gate = new FullPassGate(60_000);
    const log: string[] = [];
    const pass = async (name: string, work: () => Promise<void>) => {
      const leave = await gate.enter();
      log.push(`${name} in`);
      await work();
      log.push(`${name} out`);
      leave();
    };
    let endA!: () => void;
    const a = pass('a', () => new Promise<void>((r) => { endA = r; }));
    const b = pass('b', tick);
    const c = pass('c', tick);
    await tick();
    expect(log).toEqual(['a in']);
    endA();
    await Promise.all([a, b, c]);
    expect(log).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
  });

  it('a pass that never leaves holds the next one back only up to the bound', async () => {
    const gate = new FullPassGate(50);
    await gate.enter(); // never left: a hung source
    const started = Date.now();
    // let in by the bound: a gate that waited for the hung pass would leave it out until the liveness bound
    const second = gate.enter().then((leave) => { leave(); return 'entered'; });
    const timer = new Promise((r) => setTimeout(() => r('held back'), LIVENESS_MS).unref());
    expect(await Promise.race([second, timer])).toBe('entered');
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('with no wait allowed (the default a lone collector gets) never holds a pass back', async () => {
    const gate = new FullPassGate(0);
    await gate.enter(); // never left
    // the second pass is let in at once, not after a wait the test would only notice at its own timeout
    const second = gate.enter().then(() => 'entered');
    const timer = new Promise((r) => setTimeout(() => r('held back'), LIVENESS_MS).unref());
    expect(await Promise.race([second, timer])).toBe('entered');
  });
});
