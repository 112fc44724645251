import type { ComponentStatus, SourceHealth, SourceName, SourceStatus } from '../model/index.ts';
import { byCodeUnits } from '../model/code-units.ts';
import { MIN_INTERVAL_COUNTER, type PassOutcome } from '../protocol.ts';
import { nextPace, slowWarning, STEADY, type Pace } from './slow-source.ts';

/**
 * A restarted store counts a failing source as reported after this many failed runs in a row: one (the run the
 * old store's death cut short, a blip) is no reason to serve a view without the source's data, a few are a
 * source that is down.
 */
const REBUILD_FAILURES = 3;

/**
 * What the store knows of each collector: its health (content: the snapshot's `sources` block, a change mints
 * a version) and its freshness (times, failures in a row, durations, counters: published apart from versions).
 * The store is their only owner, so a collector thread's restart loses nothing. Also readiness: every expected
 * collector has finished its first pass (a restarted store: its first good one, see rebuild); and whether a
 * source is slower than its interval (slow-source.ts).
 */
export class SourceBook {
  private readonly status = new Map<SourceName, SourceStatus>();
  private readonly health = new Map<SourceName, SourceHealth>();
  private readonly expected = new Set<SourceName>();
  private readonly seen = new Set<SourceName>();
  /**
   * a restarted store (rebuild): when, on the store's clock, a failed run starts to count toward readiness too;
   * null: any finished run counts (the first start: nothing was known before, a source down must not keep the
   * sidecar unready)
   */
  private failuresCountFrom: number | null = null;
  /**
   * a restarted store: failed runs in a row per source that this store saw. The count restored from before
   * (restore) does not make a failed run count: a source that was down when the old store died would make the
   * new one ready at its first failed run, without any of that source's data (every app gone).
   */
  private readonly failedSinceRebuild = new Map<SourceName, number>();
  /** pushed events older than what the store holds, per source */
  private readonly staleEvents = new Map<SourceName, number>();
  /** the configured collection interval (0: unknown, no source is judged slow) */
  private intervalMs = 0;
  /** COLLECT_MAX_INTERVAL_MS: the longest the pacing spaces a source's passes (Infinity: unknown) */
  private maxIntervalMs = Infinity;
  private readonly pace = new Map<SourceName, Pace>();
  private healthMoved = false;
  private freshnessMoved = false;

  /** Records a run's outcome; returns whether its health changed (a version) and the status now. */
  record(source: SourceName, o: PassOutcome, now = Date.now()): { healthChanged: boolean; status: SourceStatus } {
    const prev = this.status.get(source);
    const slow = this.judgePace(source, o);
    const status: SourceStatus = {
      ok: o.ok,
      last_success: o.ok ? o.finished_at : prev?.last_success ?? null,
      last_error: o.ok ? null : o.error ?? 'unknown error',
      consecutive_failures: o.ok ? 0 : (prev?.consecutive_failures ?? 0) + 1,
      duration_ms: Math.round(o.duration_ms),
      last_attempt: o.finished_at,
      warning: o.ok ? joinWarnings(o.error, slow) : null,
      counters: { ...prev?.counters, ...o.counters },
    };
    const stale = this.staleEvents.get(source);
    if (stale) status.counters = { ...status.counters, stale_events: stale };
    this.status.set(source, status);
    // a restarted store that went ready on a failed run would serve a view without that source's data (every
    // app gone after one transient app_flow failure): only a good pass counts, unless the source keeps failing
    const failedHere = o.ok ? 0 : (this.failedSinceRebuild.get(source) ?? 0) + 1;
    this.failedSinceRebuild.set(source, failedHere);
    const failureCounts = this.failuresCountFrom === null || now >= this.failuresCountFrom || failedHere >= REBUILD_FAILURES;
    if (o.ok || failureCounts) this.seen.add(source);
    this.freshnessMoved = true;
    const health = healthOf(status);
    const held = this.health.get(source);
    const healthChanged = held === undefined || JSON.stringify(held) !== JSON.stringify(health);
    if (healthChanged) {
      this.health.set(source, health);
      this.healthMoved = true;
    }
    return { healthChanged, status };
  }

  /** The source's pace after this outcome's pass: the slow warning, or null. */
  private judgePace(source: SourceName, o: PassOutcome): string | null {
    if (this.intervalMs <= 0) return null;
    const interval = o.counters?.interval_ms;
    const own = o.counters?.[MIN_INTERVAL_COUNTER];
    const pace = nextPace(this.pace.get(source) ?? STEADY, {
      duration_ms: o.duration_ms, ...(typeof interval === 'number' && interval > 0 ? { interval_ms: interval } : {}),
      ...(typeof own === 'number' && own > 0 ? { min_interval_ms: own } : {}),
    }, this.intervalMs, this.maxIntervalMs);
    this.pace.set(source, pace);
    return slowWarning(pace, this.intervalMs);
  }

  /** Whether the source is held slower than its interval (market_runtime_source_slow). */
  isSlow(source: SourceName): boolean {
    return this.pace.get(source)?.slow ?? false;
  }

  /** How long the store took to apply a source's last pass (counters.apply_ms: freshness). */
  noteApplyTime(source: SourceName, ms: number): void {
    const status = this.status.get(source);
    if (status) status.counters = { ...status.counters, apply_ms: Math.round(ms * 10) / 10 };
  }

  noteStaleEvent(source: SourceName): void {
    this.staleEvents.set(source, (this.staleEvents.get(source) ?? 0) + 1);
  }

  /**
   * Whom readiness waits for, and the configured collection interval (what a pass is judged slow against) and
   * the longest one the pacing gives (COLLECT_MAX_INTERVAL_MS: a source asking for more is slow past this).
   */
  expect(sources: Iterable<SourceName>, intervalMs?: number, maxIntervalMs?: number): void {
    for (const s of sources) this.expected.add(s);
    if (intervalMs !== undefined) this.intervalMs = intervalMs;
    if (maxIntervalMs !== undefined && maxIntervalMs > 0) this.maxIntervalMs = maxIntervalMs;
  }

  /**
   * Freshness known from before this store (a store that replaces a dead one): each source's last success,
   * failures in a row, durations and counters stand until its next run, which goes on from them. Health is not
   * restored: it is content, rebuilt from the passes like the rest of the state.
   */
  restore(known: Partial<Record<SourceName, SourceStatus>>): void {
    for (const [source, status] of Object.entries(known) as [SourceName, SourceStatus][]) {
      if (this.status.has(source)) continue;
      this.status.set(source, { ...status, counters: { ...status.counters } });
      this.freshnessMoved = true;
    }
  }

  /**
   * This store replaces one that died: the state is rebuilt from the collectors' passes, and a source is ready
   * with its first good pass. A source whose runs fail counts after REBUILD_FAILURES of them in a row (seen by
   * this store) or once
   * `graceMs` (from `now`) is over, whichever comes first, so one truly down cannot keep the store unready.
   */
  rebuild(graceMs: number, now = Date.now()): void {
    this.failuresCountFrom = now + graceMs;
  }

  get expectedSources(): ReadonlySet<SourceName> {
    return this.expected;
  }

  get ready(): boolean {
    for (const s of this.expected) if (!this.seen.has(s)) return false;
    return true;
  }

  /** Every source's health and freshness (…/sources); unversioned. */
  freshness(): Partial<Record<SourceName, SourceStatus>> {
    return Object.fromEntries(this.status);
  }

  /** freshness moved since the last takeFreshnessMoved() */
  get hasFreshness(): boolean {
    return this.freshnessMoved;
  }

  takeFreshnessMoved(): boolean {
    const moved = this.freshnessMoved;
    this.freshnessMoved = false;
    return moved;
  }

  /** The snapshot's `sources` block when a health changed since the last call, else undefined. */
  takeHealthChange(): string | undefined {
    if (!this.healthMoved) return undefined;
    this.healthMoved = false;
    return this.healthJson();
  }

  /** The snapshot's `sources` block: each source's health, in name order (same content, same bytes). */
  healthJson(): string {
    return JSON.stringify(Object.fromEntries([...this.health].sort(([a], [b]) => byCodeUnits(a, b))));
  }
}

/** The collector's own warning and the slow one, in one text. */
function joinWarnings(...warnings: (string | null)[]): string | null {
  const given = warnings.filter((w): w is string => !!w);
  return given.length === 0 ? null : given.join('; ');
}

function healthOf(s: SourceStatus): SourceHealth {
  return s.warning ? { ok: s.ok, last_error: s.last_error, warning: s.warning } : { ok: s.ok, last_error: s.last_error };
}

/**
 * One component per collector, so operators see our own health beside the market's: health only (its times and
 * counters are freshness, in …/sources); last_check stays the time its health last changed.
 */
export function collectorComponent(source: SourceName, o: PassOutcome, status: SourceStatus): ComponentStatus {
  return {
    name: `collector_${source}`,
    healthy: o.ok,
    status: o.ok ? 'running' : 'error',
    last_check: o.finished_at,
    // message is omitempty in Go's struct: an empty error leaves it out
    ...(o.ok || !status.last_error ? {} : { message: status.last_error }),
  };
}
