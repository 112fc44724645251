/**
 * Issue 20: a source whose passes take longer than its interval gets a warning, with hysteresis (SLOW_STREAK passes in a row flip
 * it) and a text without per-pass numbers. Each row: passes [duration ms, interval ms it ran at] with a 5 s
 * interval, and the warning after the last of them.
 */
import { describe, expect, it } from 'vitest';
import { nextPace, slowWarning, STEADY, type Pace } from '../../src/store/slow-source.ts';

const BASE = 5000;
const SLOW = (apart: string) => `passes take longer than the 5 s collection interval: up to ${apart} apart`;

function after(passes: [number, number?][]): { warnings: (string | null)[]; pace: Pace } {
  let pace = STEADY;
  const warnings: (string | null)[] = [];
  for (const [duration_ms, interval_ms] of passes) {
    pace = nextPace(pace, interval_ms === undefined ? { duration_ms } : { duration_ms, interval_ms }, BASE);
    warnings.push(slowWarning(pace, BASE));
  }
  return { warnings, pace };
}

describe('the slow-source verdict', () => {
  it.each<[string, [number, number?][], string | null]>([
    ['quick passes', [[100], [200], [300]], null],
    ['one slow pass and the stretched interval after it (a periodic full listing)', [[6000, 5000], [200, 24000], [200, 5000], [200, 5000]], null],
    ['two slow passes, a quick one, two slow ones: never three in a row', [[6000], [6000], [100], [6000], [6000]], null],
    ['three passes longer than the interval, back to back', [[6000], [6000], [6000]], SLOW('10 s')],
    ['passes that only make the pacing space them out (over a quarter of the interval)', [[2000, 5000], [2000, 8000], [2000, 8000], [2000, 8000]], null],
    ['passes of exactly the interval', [[5000], [5000], [5000]], null],
    ['the widest spacing of the streak that raised it, in intervals rounded up to a power of two', [[6000, 5000], [7000, 24000], [6000, 28000]], SLOW('40 s')],
    ['slow, then two quick passes: still slow', [[6000], [6000], [6000], [100], [100]], SLOW('10 s')],
    ['slow, then three quick passes: cleared', [[6000], [6000], [6000], [100], [100], [100]], null],
    ['slow, then a wider pass: the spacing only grows in a spell', [[6000], [6000], [6000], [12_000], [6000]], SLOW('20 s')],
  ])('%s', (_name, passes, warning) => {
    expect(after(passes).warnings.at(-1)).toBe(warning);
  });

  it('changes its text at most as often as the widest spacing grows, never with each pass', () => {
    // 20 slow passes whose durations wander between 6 and 9 s: one text from the third on
    const passes: [number][] = Array.from({ length: 20 }, (_, i) => [6000 + (i * 1700) % 3000]);
    const texts = new Set(after(passes).warnings.slice(2));
    expect([...texts]).toEqual([SLOW('10 s')]);
  });

  it('a spell that ended starts afresh: the next one says its own spacing', () => {
    const { warnings } = after([[6000, 30000], [6000], [6000], [100], [100], [100], [6000], [6000], [6000]]);
    expect(warnings.at(-1)).toBe(SLOW('10 s'));
  });

  it.each<[string, number, number, string | null]>([
    // [what, pass ms, the interval the collector asks for (the Chart Repo's request rate), warning]
    ['passes longer than the configured interval but within the asked one', 9000, 18_580, null],
    ['passes longer than the asked one', 25_000, 18_580, 'passes take longer than the 20 s collection interval: up to 40 s apart'],
  ])('a source asking for its own interval: %s', (_what, duration_ms, min_interval_ms, warning) => {
    let pace = STEADY;
    // the asked interval wobbles with the pair count: the text does not
    for (const own of [min_interval_ms, min_interval_ms - 300, min_interval_ms + 200]) {
      pace = nextPace(pace, { duration_ms, interval_ms: 30_000, min_interval_ms: own }, BASE);
    }
    expect(slowWarning(pace, BASE)).toBe(warning);
  });

  it.each<[string, number, number, string | null]>([
    // [what, pass ms, COLLECT_MAX_INTERVAL_MS, warning]: the Chart Repo asks for 143 s (4,300 pairs at 30 requests/s),
    // the pacing gives it at most the freshness bound, so a pass longer than that runs back to back
    ['passes longer than the freshness bound the pacing caps it at', 40_000, 30_000, 'passes take longer than the 30 s collection interval: up to 40 s apart'],
    ['passes within the freshness bound', 25_000, 30_000, null],
    ['a bound equal to the configured interval (no backing off)', 6000, BASE, SLOW('10 s')],
  ])('a source asking for more than COLLECT_MAX_INTERVAL_MS: %s', (_what, duration_ms, maxMs, warning) => {
    let pace = STEADY;
    for (let i = 0; i < 3; i++) pace = nextPace(pace, { duration_ms, interval_ms: maxMs, min_interval_ms: 143_000 }, BASE, maxMs);
    expect(slowWarning(pace, BASE)).toBe(warning);
  });

  it('says a sub-second interval in seconds', () => {
    expect(slowWarning({ slow: true, against: 0, widestMs: 1600 }, 100)).toBe('passes take longer than the 0.1 s collection interval: up to 1.6 s apart');
  });
});
