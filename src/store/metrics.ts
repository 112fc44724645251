import { HistogramCounts } from '../histogram-counts.ts';
import { APP_STAGES, appHealth, COMPONENT_STATUSES, HEALTH, TASK_STATUSES, TASK_TYPES, type SourceStatus } from '../model/index.ts';
import {
  COLLECTION_DURATION_BOUNDS, type PassOutcome, type SourceMetricsSample, type SourceName, type StoreMetricsSample,
} from '../protocol.ts';
import { ThreadMemoryBook } from '../thread-memory.ts';
import type { RuntimeStore } from './runtime-store.ts';

/** One source's counts as its sample has them (slow is read at scrape time), durations still counting. */
type SourceCounts = Omit<SourceMetricsSample, 'slow' | 'duration'> & { duration: Partial<Record<'ok' | 'error', HistogramCounts>> };

/**
 * The store thread's metrics, as plain numbers. The store owns the state, so it alone counts apps, tasks,
 * components and collection passes: each metric exists once for the process. Counts are taken from the
 * store's tables at scrape time; pass outcomes are counted as they are recorded. The HTTP thread renders the
 * sample (http/store-metrics.ts): prom-client is ~4 MiB of a thread's memory, and this thread needs none of it.
 */
export class StoreMetrics {
  private readonly sources = new Map<SourceName, SourceCounts>();
  /** per-thread memory: the store's own, and what the other threads report */
  readonly threads = new ThreadMemoryBook('store');

  constructor(private readonly store: RuntimeStore) {}

  private of(source: SourceName): SourceCounts {
    let s = this.sources.get(source);
    if (!s) {
      s = { passes: { ok: 0, error: 0 }, failures: 0, last_success_s: 0, consecutive_failures: 0, up: 0, duration: {} };
      this.sources.set(source, s);
    }
    return s;
  }

  /** A source is expected: its series exist (at zero, down) before its first pass, so alerts can see "never". */
  expect(sources: Iterable<SourceName>, intervalMs?: number): void {
    for (const source of sources) {
      const s = this.of(source);
      if (intervalMs !== undefined) s.interval_s = intervalMs / 1000;
    }
  }

  /**
   * The gauges of each source as they stood before this store (one replacing a dead store): last success, up,
   * failures in a row, the interval it was backed off to. Counters start again from zero, as Prometheus expects.
   */
  restore(known: Partial<Record<SourceName, SourceStatus>>): void {
    for (const [source, status] of Object.entries(known) as [SourceName, SourceStatus][]) {
      const s = this.of(source);
      const t = status.last_success === null ? NaN : Date.parse(status.last_success);
      if (Number.isFinite(t)) s.last_success_s = t / 1000;
      s.up = status.ok ? 1 : 0;
      s.consecutive_failures = status.consecutive_failures;
      const interval = status.counters?.interval_ms;
      if (typeof interval === 'number' && interval > 0) s.interval_s = interval / 1000;
    }
  }

  /** One pass outcome, as the store records it. */
  observe(source: SourceName, o: PassOutcome): void {
    const s = this.of(source);
    const result = o.ok ? 'ok' : 'error';
    (s.duration[result] ??= new HistogramCounts(COLLECTION_DURATION_BOUNDS)).observe(Math.max(0, o.duration_ms) / 1000);
    s.passes[result] += 1;
    s.up = o.ok ? 1 : 0;
    // the interval a slow source backed off to (supervisor/collector-pacing.ts): alerts compare against it
    const interval = o.counters?.interval_ms;
    if (typeof interval === 'number' && interval > 0) s.interval_s = interval / 1000;
    if (o.ok) {
      s.consecutive_failures = 0;
      const t = Date.parse(o.finished_at);
      s.last_success_s = Number.isFinite(t) ? t / 1000 : Date.now() / 1000;
    } else {
      s.failures += 1;
      s.consecutive_failures += 1;
    }
  }

  /** Every metric now, gauges taken from the store's state. */
  sample(): StoreMetricsSample {
    const stages = zeroes(APP_STAGES);
    const health = zeroes(HEALTH);
    for (const { value } of this.store.apps.rows.values()) {
      stages[value.stage] = (stages[value.stage] ?? 0) + 1;
      const h = appHealth(value);
      health[h] = (health[h] ?? 0) + 1;
    }
    const statuses = zeroes(TASK_STATUSES);
    const types = zeroes(TASK_TYPES);
    for (const { value } of this.store.tasks.rows.values()) {
      statuses[value.status] = (statuses[value.status] ?? 0) + 1;
      types[value.type] = (types[value.type] ?? 0) + 1;
    }
    const compStatuses = zeroes(COMPONENT_STATUSES);
    const healthy: Record<string, number> = {};
    for (const { value } of this.store.components.rows.values()) {
      healthy[value.name] = value.healthy ? 1 : 0;
      compStatuses[value.status] = (compStatuses[value.status] ?? 0) + 1;
    }
    for (const source of Object.keys(this.store.freshness()) as SourceName[]) this.of(source);
    const sources: Record<string, SourceMetricsSample> = {};
    for (const [source, s] of this.sources) {
      const duration: SourceMetricsSample['duration'] = {};
      for (const result of ['ok', 'error'] as const) {
        const h = s.duration[result];
        if (h) duration[result] = h.toSample();
      }
      sources[source] = { ...s, passes: { ...s.passes }, slow: this.store.sources.isSlow(source) ? 1 : 0, duration };
    }
    const summary = this.store.getSummary();
    return {
      apps_by_stage: stages, apps_by_health: health, tasks_by_status: statuses, tasks_by_type: types,
      components_by_status: compStatuses, component_healthy: healthy, sources,
      version: this.store.version, ready: this.store.ready ? 1 : 0,
      stuck_apps: summary.stuck_apps, stuck_tasks: summary.stuck_tasks,
      threads: this.threads.all(),
    };
  }
}

function zeroes(keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, 0]));
}
