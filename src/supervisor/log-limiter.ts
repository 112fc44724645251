/** What to log for one outcome of a source, or nothing. */
export interface LogDecision {
  level: 'warn' | 'error' | 'info';
  msg: string;
  fields: Record<string, string | number>;
}

export interface LimiterOptions {
  /** while the same error repeats, at most one line per this period (default one minute) */
  repeatEveryMs?: number;
  now?: () => number;
}

/** Numbers (ms, ports, counts) vary between repeats of what is the same error. */
function shape(reason: string): string {
  return reason.replace(/\d+/g, '#');
}

/**
 * Rate-limits the failure log of one source: the first failure is logged; while the same error repeats,
 * at most one "still failing" line per period (with how many were suppressed); a different error is
 * logged at once; the first success after failures logs one "recovered" line.
 */
export class FailureLogLimiter {
  private failing = false;
  private lastShape = '';
  private lastLoggedAt = 0;
  private since = 0;
  private failures = 0;
  private suppressed = 0;
  private readonly every: number;
  private readonly now: () => number;

  constructor(private readonly source: string, opts: LimiterOptions = {}) {
    this.every = opts.repeatEveryMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  failure(reason: string, level: 'warn' | 'error' = 'warn'): LogDecision | null {
    const now = this.now();
    const s = shape(reason);
    this.failures += 1;
    if (!this.failing) {
      this.failing = true;
      this.since = now;
      return this.emit(now, s, level, 'collection failed', { reason });
    }
    if (s !== this.lastShape) return this.emit(now, s, level, 'collection failed with a new error', { reason });
    if (now - this.lastLoggedAt >= this.every) {
      return this.emit(now, s, level, 'collection still failing', { reason, suppressed: this.suppressed });
    }
    this.suppressed += 1;
    return null;
  }

  success(): LogDecision | null {
    if (!this.failing) return null;
    const now = this.now();
    const d: LogDecision = {
      level: 'info', msg: 'collection recovered',
      fields: { source: this.source, failures: this.failures, down_ms: now - this.since },
    };
    this.failing = false;
    this.failures = 0;
    this.suppressed = 0;
    this.lastShape = '';
    return d;
  }

  private emit(now: number, s: string, level: LogDecision['level'], msg: string, extra: Record<string, string | number>): LogDecision {
    this.lastShape = s;
    this.lastLoggedAt = now;
    this.suppressed = 0;
    return { level, msg, fields: { source: this.source, ...extra, consecutive_failures: this.failures } };
  }
}

/**
 * The warnings of one source's good passes (rows left out, some Chart Repo pairs failing, unknown states): a
 * line when one appears or says something else (numbers aside, like failures), at most once per period while it
 * stays, and one when it clears. What is left out is then logged and counted, not only counted.
 */
export class WarningLog {
  private shown = '';
  private loggedAt = -Infinity;

  constructor(private readonly source: string, private readonly now: () => number = Date.now, private readonly every = 60_000) {}

  /** A good pass's warning (null: none). */
  seen(warning: string | null): LogDecision | null {
    const at = this.now();
    if (warning === null) {
      if (this.shown === '') return null;
      this.shown = '';
      return { level: 'info', msg: 'collection warning cleared', fields: { source: this.source } };
    }
    const s = shape(warning);
    if (s === this.shown && at - this.loggedAt < this.every) return null;
    const first = s !== this.shown;
    this.shown = s;
    this.loggedAt = at;
    return { level: 'warn', msg: first ? 'collection warning' : 'collection warning persists', fields: { source: this.source, warning } };
  }
}

/** at most one line per source per this period about its pace changing kind */
export const PACE_LOG_EVERY_MS = 60_000;

/**
 * Rate-limits the pace lines of one source: a source whose passes hover about a quarter of a short interval (a
 * busy machine, COLLECT_INTERVAL_MS=500) would flip every few passes and fill the log. A change is logged when
 * no pace line was logged for PACE_LOG_EVERY_MS; the changes in between are counted in the next line (the pace
 * itself is always in …/sources and /metrics).
 */
export class PaceLog {
  private loggedAt = -Infinity;
  private unlogged = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The pace changed kind: null when the line is held back, else how many changes went unlogged before it. */
  changed(): { unlogged: number } | null {
    const at = this.now();
    if (at - this.loggedAt < PACE_LOG_EVERY_MS) {
      this.unlogged += 1;
      return null;
    }
    const out = { unlogged: this.unlogged };
    this.loggedAt = at;
    this.unlogged = 0;
    return out;
  }
}
