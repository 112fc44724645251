/**
 * How often a collector runs. A pass may take at most a quarter of the time between two passes: one that
 * takes longer (a 50,000-app market, a slow Chart Repo) spaces the next ones out, up to `maxIntervalMs`
 * (COLLECT_MAX_INTERVAL_MS, the freshness bound the README states), instead of running back to back and
 * taking a core. When passes are quick again the interval comes back to `baseMs` (COLLECT_INTERVAL_MS).
 * Runs start on the supervisor's ticks (every `baseMs`), so an interval is served rounded up to a tick.
 */
const PASS_SHARE = 0.25;
/** quick passes in a row after which a backed-off source counts as quick again (one slow pass backs it off) */
const QUICK_AGAIN_AFTER = 3;

export class CollectorPacing {
  /** the time between passes now */
  intervalMs: number;
  /**
   * the slow passes alone asked for more than the base interval (the collector's own asking is no slowness),
   * and not QUICK_AGAIN_AFTER quick ones in a row since: a source whose passes hover about a quarter of the
   * interval is one episode, not a flip at every pass (the supervisor logs each change of this)
   */
  private slow = false;
  private quickInARow = 0;

  constructor(private readonly baseMs: number, private readonly maxIntervalMs: number) {
    this.intervalMs = baseMs;
  }

  /**
   * A pass took `durationMs`: the interval from its start to the next pass's start. `askedMs` is the least
   * interval the collector asked for (the Chart Repo's request-rate bound); the maximum caps it too.
   */
  passed(durationMs: number, askedMs = 0): number {
    const wanted = Math.ceil(Math.max(0, durationMs) / PASS_SHARE);
    if (wanted > this.baseMs) {
      this.slow = true;
      this.quickInARow = 0;
    } else if (this.slow && ++this.quickInARow >= QUICK_AGAIN_AFTER) {
      this.slow = false;
    }
    const asked = Number.isFinite(askedMs) ? Math.max(0, askedMs) : 0;
    this.intervalMs = Math.min(Math.max(this.baseMs, this.maxIntervalMs), Math.max(this.baseMs, wanted, Math.ceil(asked)));
    return this.intervalMs;
  }

  /** passes are slow (spaced out beyond the base interval now, or until QUICK_AGAIN_AFTER quick ones in a row) */
  get backedOff(): boolean {
    return this.slow;
  }
}
