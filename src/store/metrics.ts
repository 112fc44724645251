import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ThreadMemoryGauges } from '../thread-metrics.ts';
import { APP_STAGES, appHealth, COMPONENT_STATUSES, HEALTH, TASK_STATUSES, TASK_TYPES } from '../model/index.ts';
import type { PassOutcome, SourceName } from '../protocol.ts';
import type { RuntimeStore } from './runtime-store.ts';

/**
 * The store thread's Prometheus metrics. The store owns the state, so it alone counts apps, tasks,
 * components and collection passes: each metric exists once for the process, whatever thread scrapes it.
 * Gauges are set from the store's tables at scrape time; pass outcomes are observed as they are recorded.
 * Every name here starts with `market_runtime_` and never with `market_runtime_http_` (the HTTP thread's).
 */
export class StoreMetrics {
  readonly registry = new Registry();
  private readonly appsByStage: Gauge<'stage'>;
  private readonly appsByHealth: Gauge<'health'>;
  private readonly tasksByStatus: Gauge<'status'>;
  private readonly tasksByType: Gauge<'type'>;
  private readonly componentHealthy: Gauge<'component'>;
  private readonly componentsByStatus: Gauge<'status'>;
  private readonly duration: Histogram<'source' | 'result'>;
  private readonly passes: Counter<'source' | 'result'>;
  private readonly failures: Counter<'source'>;
  private readonly lastSuccess: Gauge<'source'>;
  private readonly consecutiveFailures: Gauge<'source'>;
  private readonly sourceUp: Gauge<'source'>;
  private readonly collectInterval: Gauge<'source'>;
  private readonly sourceSlow: Gauge<'source'>;
  private readonly version: Gauge;
  private readonly ready: Gauge;
  private readonly stuckApps: Gauge;
  private readonly stuckTasks: Gauge;
  private readonly consecutive = new Map<string, number>();
  /** per-thread memory: the store's own, and what the other threads report */
  readonly threads: ThreadMemoryGauges;

  constructor(private readonly store: RuntimeStore) {
    const registers = [this.registry];
    this.appsByStage = new Gauge({ name: 'market_runtime_apps_by_stage', help: 'Applications in view, by lifecycle stage', labelNames: ['stage'], registers });
    this.appsByHealth = new Gauge({ name: 'market_runtime_apps_by_health', help: 'Applications in view, by health (absent health counts as unknown)', labelNames: ['health'], registers });
    this.tasksByStatus = new Gauge({ name: 'market_runtime_tasks_by_status', help: 'Tasks in view (active and recent), by status', labelNames: ['status'], registers });
    this.tasksByType = new Gauge({ name: 'market_runtime_tasks_by_type', help: 'Tasks in view (active and recent), by type', labelNames: ['type'], registers });
    this.componentHealthy = new Gauge({ name: 'market_runtime_component_healthy', help: '1 when the component reports healthy, else 0', labelNames: ['component'], registers });
    this.componentsByStatus = new Gauge({ name: 'market_runtime_components_by_status', help: 'Components, by status', labelNames: ['status'], registers });
    this.duration = new Histogram({
      name: 'market_runtime_collection_duration_seconds', help: 'Duration of one collection pass, per source',
      labelNames: ['source', 'result'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers,
    });
    this.passes = new Counter({ name: 'market_runtime_collection_passes_total', help: 'Collection passes recorded, per source and result', labelNames: ['source', 'result'], registers });
    this.failures = new Counter({ name: 'market_runtime_collection_failures_total', help: 'Failed collection passes, per source', labelNames: ['source'], registers });
    this.lastSuccess = new Gauge({ name: 'market_runtime_collection_last_success_timestamp_seconds', help: 'Unix time of the last successful pass, per source (0 = never)', labelNames: ['source'], registers });
    this.consecutiveFailures = new Gauge({ name: 'market_runtime_collection_consecutive_failures', help: 'Failed passes in a row, per source', labelNames: ['source'], registers });
    this.sourceUp = new Gauge({ name: 'market_runtime_source_up', help: '1 when the last pass of the source succeeded, else 0', labelNames: ['source'], registers });
    // alert rules compare a source's last success with its interval (deploy/prometheus-rules.yaml)
    this.collectInterval = new Gauge({ name: 'market_runtime_collect_interval_seconds', help: 'Time between two collection passes, per source', labelNames: ['source'], registers });
    this.sourceSlow = new Gauge({ name: 'market_runtime_source_slow', help: "1 while the source's passes take longer than its collection interval (its warning in sources says so), else 0", labelNames: ['source'], registers });
    this.version = new Gauge({ name: 'market_runtime_store_version', help: 'Current store version (increases on every committed change)', registers });
    this.threads = new ThreadMemoryGauges('store', registers);
    this.ready = new Gauge({ name: 'market_runtime_store_ready', help: '1 once every collector finished its first pass', registers });
    this.stuckApps = new Gauge({ name: 'market_runtime_stuck_apps', help: 'Apps in a transitional stage past its limit or with stalled progress (STUCK_* settings)', registers });
    this.stuckTasks = new Gauge({ name: 'market_runtime_stuck_tasks', help: 'Tasks pending or running past their limit (STUCK_TASK_* settings)', registers });
  }

  /** A source is expected: its series exist (at zero, down) before its first pass, so alerts can see "never". */
  expect(sources: Iterable<SourceName>, intervalMs?: number): void {
    for (const source of sources) {
      if (intervalMs !== undefined) this.collectInterval.set({ source }, intervalMs / 1000);
      this.sourceUp.set({ source }, 0);
      this.sourceSlow.set({ source }, 0);
      this.failures.inc({ source }, 0);
      this.lastSuccess.set({ source }, 0);
      this.consecutiveFailures.set({ source }, 0);
      for (const result of ['ok', 'error']) this.passes.inc({ source, result }, 0);
    }
  }

  /** One pass outcome, as the store records it. */
  observe(source: SourceName, o: PassOutcome): void {
    const result = o.ok ? 'ok' : 'error';
    this.duration.observe({ source, result }, Math.max(0, o.duration_ms) / 1000);
    this.passes.inc({ source, result });
    this.sourceUp.set({ source }, o.ok ? 1 : 0);
    // the interval a slow source backed off to (supervisor/collector-pacing.ts): alerts compare against it
    const interval = o.counters?.interval_ms;
    if (typeof interval === 'number' && interval > 0) this.collectInterval.set({ source }, interval / 1000);
    if (o.ok) {
      this.consecutive.set(source, 0);
      const t = Date.parse(o.finished_at);
      this.lastSuccess.set({ source }, Number.isFinite(t) ? t / 1000 : Date.now() / 1000);
    } else {
      this.failures.inc({ source });
      this.consecutive.set(source, (this.consecutive.get(source) ?? 0) + 1);
    }
    this.consecutiveFailures.set({ source }, this.consecutive.get(source) ?? 0);
  }

  /** Prometheus text of the store's metrics, with gauges taken from the store's state now. */
  async render(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  private refresh(): void {
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
    this.componentHealthy.reset();
    for (const { value } of this.store.components.rows.values()) {
      this.componentHealthy.set({ component: value.name }, value.healthy ? 1 : 0);
      compStatuses[value.status] = (compStatuses[value.status] ?? 0) + 1;
    }
    setAll(this.appsByStage, 'stage', stages);
    setAll(this.appsByHealth, 'health', health);
    setAll(this.tasksByStatus, 'status', statuses);
    setAll(this.tasksByType, 'type', types);
    setAll(this.componentsByStatus, 'status', compStatuses);
    for (const source of Object.keys(this.store.freshness()) as SourceName[]) this.sourceSlow.set({ source }, this.store.sources.isSlow(source) ? 1 : 0);
    this.version.set(this.store.version);
    this.ready.set(this.store.ready ? 1 : 0);
    const summary = this.store.getSummary();
    this.stuckApps.set(summary.stuck_apps);
    this.stuckTasks.set(summary.stuck_tasks);
  }
}

function zeroes(keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, 0]));
}

function setAll<L extends string>(g: Gauge<L>, label: L, counts: Record<string, number>): void {
  for (const [k, n] of Object.entries(counts)) g.set({ [label]: k } as Record<L, string>, n);
}
