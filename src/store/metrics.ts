import { HistogramCounts } from '../histogram-counts.ts';
import { APP_STAGES, COMPONENT_STATUSES, HEALTH, TASK_STATUSES, TASK_TYPES } from '../model/index.ts';
import {
  COLLECTION_DURATION_BOUNDS, type PassOutcome, type SourceMetricsSample, type SourceName, type StoreMetricsSample,
} from '../protocol.ts';
import { ThreadMemoryBook } from '../thread-memory.ts';
import type { RuntimeStore } from './runtime-store.ts';
import { StoreTables } from './store-tables.ts';

/**
 * What only the metrics count of a source: passes and failures since this store started, and their durations.
 * Its gauges (up, last success, failures in a row, interval) are read from the store's SourceBook at scrape
 * time, so /metrics and …/sources never disagree (a store that replaces a dead one starts both from what the
 * supervisor knew).
 */
interface SourceCounts {
  passes: { ok: number; error: number };
  failures: number;
  duration: Partial<Record<'ok' | 'error', HistogramCounts>>;
  /** the configured collection interval (seconds), until a pass says the interval it ran at */
  interval_s?: number;
}

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
      s = { passes: { ok: 0, error: 0 }, failures: 0, duration: {} };
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

  /** One pass outcome, as the store records it. */
  observe(source: SourceName, o: PassOutcome): void {
    const s = this.of(source);
    const result = o.ok ? 'ok' : 'error';
    (s.duration[result] ??= new HistogramCounts(COLLECTION_DURATION_BOUNDS)).observe(Math.max(0, o.duration_ms) / 1000);
    s.passes[result] += 1;
    if (!o.ok) s.failures += 1;
  }

  /** Every metric now, gauges taken from the store's state. */
  sample(): StoreMetricsSample {
    // from the indexes the queries use: a scrape costs the number of stages and statuses, not of apps (50,000)
    const t = this.store.indexes;
    const stages = StoreTables.counts(t.appsByStage, APP_STAGES);
    const health = StoreTables.counts(t.appsByHealth, HEALTH);
    const statuses = StoreTables.counts(t.tasksByStatus, TASK_STATUSES);
    const types = StoreTables.counts(t.tasksByType, TASK_TYPES);
    const compStatuses = zeroes(COMPONENT_STATUSES);
    const healthy: Record<string, number> = {};
    for (const { value } of this.store.components.rows.values()) {
      healthy[value.name] = value.healthy ? 1 : 0;
      compStatuses[value.status] = (compStatuses[value.status] ?? 0) + 1;
    }
    const known = this.store.freshness();
    for (const source of Object.keys(known) as SourceName[]) this.of(source);
    const sources: Record<string, SourceMetricsSample> = {};
    for (const [source, s] of this.sources) {
      const duration: SourceMetricsSample['duration'] = {};
      for (const result of ['ok', 'error'] as const) {
        const h = s.duration[result];
        if (h) duration[result] = h.toSample();
      }
      const status = known[source];
      const lastSuccess = status?.last_success ? Date.parse(status.last_success) : NaN;
      // the interval a slow source backed off to (supervisor/collector-pacing.ts): alerts compare against it
      const ran = status?.counters?.interval_ms;
      const interval_s = typeof ran === 'number' && ran > 0 ? ran / 1000 : s.interval_s;
      sources[source] = {
        passes: { ...s.passes }, failures: s.failures, duration,
        last_success_s: Number.isFinite(lastSuccess) ? lastSuccess / 1000 : 0,
        consecutive_failures: status?.consecutive_failures ?? 0,
        up: status?.ok ? 1 : 0,
        slow: this.store.sources.isSlow(source) ? 1 : 0,
        ...(interval_s === undefined ? {} : { interval_s }),
      };
    }
    const summary = this.store.getSummary();
    return {
      apps_by_stage: stages, apps_by_health: health, tasks_by_status: statuses, tasks_by_type: types,
      components_by_status: compStatuses, component_healthy: healthy, sources,
      version: this.store.version, ready: this.store.ready ? 1 : 0,
      stuck_apps: summary.stuck_apps, stuck_tasks: summary.stuck_tasks,
      timeline_entries: this.store.timelineEntries(),
      threads: this.threads.all(),
    };
  }
}

function zeroes(keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, 0]));
}
