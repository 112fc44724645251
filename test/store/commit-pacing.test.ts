import { describe, expect, it } from 'vitest';
import { CommitPacing } from '../../src/store/commit-pacing.ts';

describe('CommitPacing: the wait between the store\'s commits', () => {
  it('never goes below its floor', () => {
    const pacing = new CommitPacing(10);
    expect(pacing.intervalMs()).toBe(10);
    pacing.noteCost(1);
    expect(pacing.intervalMs()).toBe(10);
  });

  it('one slow commit among quick ones does not hold the next change for twice its time', () => {
    const pacing = new CommitPacing(10);
    for (let i = 0; i < 50; i++) pacing.noteCost(1);
    pacing.noteCost(35);
    // the last commit alone would ask for 70 ms
    expect(pacing.intervalMs()).toBeLessThan(25);
  });

  it('a burst of costly commits paces itself at twice their cost within a few of them', () => {
    const pacing = new CommitPacing(10);
    for (let i = 0; i < 20; i++) pacing.noteCost(30);
    expect(pacing.intervalMs()).toBeGreaterThan(59);
    expect(pacing.intervalMs()).toBeLessThanOrEqual(60);
  });
});
