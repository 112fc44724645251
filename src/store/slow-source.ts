/**
 * Whether a source is slower than its collection interval, as the snapshot's `sources.<name>.warning`
 * says it: its passes take longer than the configured interval. (A pass over a quarter of it only makes the
 * pacing space passes out, supervisor/collector-pacing.ts, visible in counters.interval_ms: warning on that
 * would come and go with load around a threshold that low.) The verdict is content (it mints a version), so it
 * moves with hysteresis: it flips only after SLOW_STREAK passes in a row disagree with it (one slow pass, such
 * as app_flow's periodic full listing, says nothing), and its text carries no per-pass numbers: only the
 * configured interval and the widest spacing of passes in this slow spell, in ticks (the supervisor starts passes
 * on ticks one interval apart) rounded up to a power of two, which only grows while the spell lasts.
 */
const SLOW_STREAK = 3;

export interface Pace {
  /** the verdict held (what the warning says) */
  slow: boolean;
  /** passes in a row that disagree with the verdict */
  against: number;
  /** the widest spacing of slow passes in this spell (or in the streak that may raise one), in whole ticks (ms) */
  widestMs: number;
  /** the interval the source's passes must fit: the configured one, or the longer one it asks for (ms) */
  ownMs?: number;
}

export const STEADY: Pace = { slow: false, against: 0, widestMs: 0 };

/** One pass: how long it took and the interval it ran at (counters.interval_ms; absent: the configured one). */
export interface PassPace {
  duration_ms: number;
  interval_ms?: number;
  /** the least interval the collector asks for (MIN_INTERVAL_COUNTER: the Chart Repo's request-rate bound) */
  min_interval_ms?: number;
}

/** `ms` in ticks of `baseMs`, rounded up to a power of two: a figure that moves only when it doubles. */
function doublingTicks(ms: number, baseMs: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(ms / baseMs)))) * baseMs;
}

/**
 * The verdict after one more pass of a source whose configured interval is `baseMs`; `maxMs` is
 * COLLECT_MAX_INTERVAL_MS, the longest interval the pacing ever gives a source (the freshness bound).
 */
export function nextPace(prev: Pace, pass: PassPace, baseMs: number, maxMs = Infinity): Pace {
  // a source that asks for a longer interval (the Chart Repo's request rate) is slow only past that one; it is
  // rounded like the spacing, so the pair count moving a little does not move the text. The pacing never spaces
  // passes further apart than maxMs, whatever the source asks: passes longer than that run back to back, and
  // are slow (without the cap, a Chart Repo asking for more than the freshness bound was never judged slow)
  const ownMs = pass.min_interval_ms !== undefined && pass.min_interval_ms > baseMs
    ? Math.min(doublingTicks(pass.min_interval_ms, baseMs), Math.max(baseMs, maxMs)) : baseMs;
  const slow = pass.duration_ms > ownMs;
  // passes start on ticks: the interval the pacing stretched to, or back to back the pass's duration, rounded up
  // to a power of two of ticks, so the text moves (a version) only when the spacing doubles, not with every
  // wobble of a loaded machine
  const spacing = doublingTicks(Math.max(pass.interval_ms ?? baseMs, pass.duration_ms, ownMs), baseMs);
  const against = slow === prev.slow ? 0 : prev.against + 1;
  // slow passes widen it (those that raise the verdict too); a quick pass resets it only while none is held
  const widestMs = slow ? Math.max(prev.widestMs, spacing) : prev.slow ? prev.widestMs : 0;
  const own = ownMs === baseMs ? {} : { ownMs };
  if (against >= SLOW_STREAK) return slow ? { slow, against: 0, widestMs, ...own } : STEADY;
  return { slow: prev.slow, against, widestMs, ...(prev.ownMs === undefined ? {} : { ownMs: prev.ownMs }) };
}

/** The warning the verdict gives, or null. */
export function slowWarning(pace: Pace, baseMs: number): string | null {
  if (!pace.slow) return null;
  return `passes take longer than the ${seconds(pace.ownMs ?? baseMs)} collection interval: up to ${seconds(pace.widestMs)} apart`;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
