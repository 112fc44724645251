/**
 * Issue 20: a pass may take at most a quarter of the time between passes. A slow source spaces its passes out
 * (up to COLLECT_MAX_INTERVAL_MS) instead of running back to back, says so in …/sources and /metrics, and comes
 * back to the collection interval once its passes are quick again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CollectorHandle } from '../../src/supervisor/collector-handle.ts';
import { CollectorPacing } from '../../src/supervisor/collector-pacing.ts';
import { PACE_LOG_EVERY_MS, PaceLog } from '../../src/supervisor/log-limiter.ts';
import { parseProm, value } from '../helpers/prom.ts';
import { eventually, fake, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { sources, state } from '../reliability/helpers.ts';

/** The distinct pass times (last_attempt) seen over `ms`, in order. */
async function attemptsSeen(base: string, source: 'tasks' | 'components', ms: number): Promise<number[]> {
  const attempts = new Set<string>();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const at = (await sources(base))[source]?.last_attempt;
    if (at) attempts.add(at);
    await new Promise((r) => setTimeout(r, 50));
  }
  return [...attempts].map((a) => Date.parse(a)).sort((a, b) => a - b);
}

describe('CollectorPacing', () => {
  it.each([
    // [pass ms, interval ms after it] with a 5 s interval and a 30 s bound
    [100, 5000],
    [1250, 5000],
    [2000, 8000],
    [6000, 24000],
    [20000, 30000],
  ])('a pass of %i ms: the next starts %i ms after it started', (took, interval) => {
    expect(new CollectorPacing(5000, 30000).passed(took)).toBe(interval);
  });

  it('comes back to the base interval when passes are quick again, and counts as quick after 3 in a row', () => {
    const p = new CollectorPacing(5000, 30000);
    p.passed(6000);
    expect(p.backedOff).toBe(true);
    expect(p.passed(300)).toBe(5000);
    expect(p.backedOff).toBe(true);
    p.passed(300);
    expect(p.backedOff).toBe(true);
    p.passed(300);
    expect(p.backedOff).toBe(false);
  });

  it('passes that hover about a quarter of the interval are one episode, not a flip per pass', () => {
    const p = new CollectorPacing(500, 30000);
    const states: boolean[] = [];
    for (const took of [130, 120, 130, 120, 120, 130, 110, 110, 110]) {
      p.passed(took);
      states.push(p.backedOff);
    }
    // backed off at the first slow pass, quick again only after three quick ones in a row
    expect(states).toEqual([true, true, true, true, true, true, true, true, false]);
  });

  it.each([
    // [pass ms, asked ms, interval ms] with a 5 s interval and a 30 s bound
    [100, 2000, 5000],
    [100, 18000, 18000],
    [6000, 18000, 24000],
    [100, 90000, 30000],
  ])('a pass of %i ms asking for %i ms between passes: the next starts %i ms after it started', (took, asked, interval) => {
    expect(new CollectorPacing(5000, 30000).passed(took, asked)).toBe(interval);
  });

  it('does not call a collector\'s own asking slowness', () => {
    const p = new CollectorPacing(5000, 30000);
    p.passed(100, 18000);
    expect(p.backedOff).toBe(false);
  });
});

describe('a source slower than its interval (real threads)', () => {
  it('is spaced out, and says its interval in …/sources and /metrics; a quick source keeps the base interval', async () => {
    const sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 5, delayMs: 400 }),
      fake('components', { mode: 'passes', count: 2 }),
    ], { intervalMs: 100, maxIntervalMs: 5000 });
    try {
      await untilReady(sc.base);
      await eventually(async () => {
        const s = await sources(sc.base);
        // a pass of 400 ms or more: at least 1.6 s between passes (a loaded machine only lengthens them)
        expect(Number(s.tasks?.counters?.interval_ms)).toBeGreaterThanOrEqual(1600);
      }, LIVENESS_MS);
      // each source is paced by its own passes: the quick one is not held to the slow one's interval. One read
      // may catch a quick pass slowed by a busy machine (its interval grows with it), so the check is that
      // some read shows it below the slow source's, whose passes take 400 ms more, not how far below
      await eventually(async () => {
        const s = await sources(sc.base);
        expect(Number(s.components?.counters?.interval_ms)).toBeLessThan(Number(s.tasks?.counters?.interval_ms));
      }, LIVENESS_MS);
      const m = parseProm(await (await sc.get('/metrics')).text());
      expect(value(m, 'market_runtime_collect_interval_seconds', { source: 'tasks' })).toBeGreaterThanOrEqual(1.6);

      // passes really are that far apart, and do happen: three of the slow source's in a row, each >= 1.6 s after
      // the one before (back to back they would be ~0.5 s apart; a loaded machine only lengthens the gaps)
      const seen: number[] = [];
      await eventually(async () => {
        for (const at of await attemptsSeen(sc.base, 'tasks', 500)) if (!seen.includes(at)) seen.push(at);
        expect(seen.length).toBeGreaterThanOrEqual(3);
      }, LIVENESS_MS, 0);
      seen.sort((a, b) => a - b);
      for (let i = 1; i < seen.length; i++) expect(seen[i]! - seen[i - 1]!, `gap ${i}`).toBeGreaterThanOrEqual(1500);
    } finally {
      await sc.sup.stop();
    }
  }, 3 * LIVENESS_MS);
});

describe('a source slow for a while (real threads)', () => {
  it('gets a warning in the /state sources and market_runtime_source_slow, one version on and one off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mr-slow-'));
    // the same listing every pass: only the slow verdict can mint versions
    const file = join(dir, 'tasks.json');
    writeFileSync(file, JSON.stringify([{ op: 'replace', domain: 'tasks', items: [] }]));
    // the pacing spaces 500 ms passes out to its bound, 1.6 s: 8 ticks, a power of two, so the warning's
    // "up to … apart" stays put on a loaded machine (a pass would need over 1.6 s to widen it)
    const sc = await startInProcess([fake('tasks', { mode: 'file', file, delayMs: 500, slowRuns: 5 })], { intervalMs: 200, maxIntervalMs: 1600 });
    try {
      const warned = await eventually(async () => {
        const s = await state(sc.base);
        expect(s.sources.tasks?.warning).toMatch(/^passes take longer than the 0\.2 s collection interval: up to [\d.]+ s apart$/);
        return s;
      }, LIVENESS_MS);
      expect(value(parseProm(await (await sc.get('/metrics')).text()), 'market_runtime_source_slow', { source: 'tasks' })).toBe(1);
      const cleared = await eventually(async () => {
        const s = await state(sc.base);
        expect(s.sources.tasks?.warning).toBeUndefined();
        return s;
      }, LIVENESS_MS);
      // at least two more slow passes ran while it was on (5 slow, 3 raise it): they minted no version
      expect(cleared.version).toBe(warned.version + 1);
      expect(value(parseProm(await (await sc.get('/metrics')).text()), 'market_runtime_source_slow', { source: 'tasks' })).toBe(0);
    } finally {
      await sc.sup.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 3 * LIVENESS_MS);
});

describe('a quick source (real threads)', () => {
  it('runs on every tick of its interval, not every other one', async () => {
    // a run starts a moment after its tick; pacing from that moment would put the next run just past the
    // next tick, and the source would be collected every second interval. Counted at the ticks themselves: of
    // the supervisor's ticks that found the collector idle (a tick that finds a run in flight has nothing to
    // start: a loaded machine makes those, and they are left out), how many started a run. A loaded machine
    // delays ticks and runs, not the pacing's arithmetic: every idle tick starts one (a tick may come a moment
    // early, TICK_SLACK_MS covers it). Skipping every other tick would leave half of them without a run
    const idleTicks: boolean[] = [];
    const tick = CollectorHandle.prototype.tick;
    const spy = vi.spyOn(CollectorHandle.prototype, 'tick').mockImplementation(function (this: CollectorHandle) {
      const idle = !this.running;
      tick.call(this);
      if (idle && this.spec.source === 'components') idleTicks.push(this.running);
    });
    // (no COLLECT_MAX_INTERVAL_MS: the pacing never backs off, so a pass slowed by a loaded machine cannot space the next out)
    const sc = await startInProcess([fake('components', { mode: 'passes', count: 2 })], { intervalMs: 1000 });
    try {
      await untilReady(sc.base);
      // a liveness bound: ten idle ticks come in about ten seconds
      await eventually(async () => expect(idleTicks.length).toBeGreaterThanOrEqual(10), 2 * LIVENESS_MS);
      const started = idleTicks.filter((ran) => ran).length;
      // a quarter of slack, for a tick the machine held between the timer's clock and the tick's
      expect(started, idleTicks.join(', ')).toBeGreaterThanOrEqual(Math.ceil(idleTicks.length * 0.75));
    } finally {
      spy.mockRestore();
      await sc.sup.stop();
    }
  }, 3 * LIVENESS_MS);
});

describe('PaceLog: a source flipping between quick and slow fills no log', () => {
  it('logs a change when no pace line was logged for a minute, and counts the ones held back in the next line', () => {
    let now = 0;
    const log = new PaceLog(() => now);
    expect(log.changed()).toEqual({ unlogged: 0 });
    now += 10_000;
    expect(log.changed()).toBeNull();
    now += 10_000;
    expect(log.changed()).toBeNull();
    now = PACE_LOG_EVERY_MS;
    expect(log.changed()).toEqual({ unlogged: 2 });
    now += PACE_LOG_EVERY_MS;
    expect(log.changed()).toEqual({ unlogged: 0 });
  });
});

