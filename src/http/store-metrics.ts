import { Registry } from 'prom-client';
import {
  COLLECTION_DURATION_BOUNDS, VIEW_GAUGE_FIELDS, type HeldGauges, type SourceMetricsSample, type StoreMetricsSample, type ThreadMemory,
} from '../protocol.ts';
import { customMetric, histogramSamples, type PromSample } from './prom-custom.ts';

type Family = readonly [name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: (s: StoreMetricsSample) => PromSample[]];

/** A gauge per label value of a count map. */
const byLabel = (label: string, counts: Record<string, number>): PromSample[] =>
  Object.entries(counts).map(([k, value]) => ({ value, labels: { [label]: k } }));
const one = (value: number): PromSample[] => [{ value, labels: {} }];
/** one sample per source, of one field */
const perSource = (s: StoreMetricsSample, value: (m: SourceMetricsSample) => number | undefined): PromSample[] =>
  Object.entries(s.sources).flatMap(([source, m]) => {
    const v = value(m);
    return v === undefined ? [] : [{ value: v, labels: { source } }];
  });
const perThread = (s: StoreMetricsSample, field: keyof ThreadMemory): PromSample[] =>
  Object.entries(s.threads).flatMap(([thread, m]) => (m[field] === undefined ? [] : [{ value: m[field], labels: { thread } }]));

const DURATION = 'market_runtime_collection_duration_seconds';

/**
 * The store's metric families (names start with `market_runtime_` and never `market_runtime_http_`), each
 * read from the sample the store sent for this scrape. The store owns the state, so each exists once.
 */
const FAMILIES: readonly Family[] = [
  ['market_runtime_apps_by_stage', 'Applications in view, by lifecycle stage', 'gauge', (s) => byLabel('stage', s.apps_by_stage)],
  ['market_runtime_apps_by_health', 'Applications in view, by health (absent health counts as unknown)', 'gauge', (s) => byLabel('health', s.apps_by_health)],
  ['market_runtime_tasks_by_status', 'Tasks in view (active and recent), by status', 'gauge', (s) => byLabel('status', s.tasks_by_status)],
  ['market_runtime_tasks_by_type', 'Tasks in view (active and recent), by type', 'gauge', (s) => byLabel('type', s.tasks_by_type)],
  ['market_runtime_component_healthy', '1 when the component reports healthy, else 0', 'gauge', (s) => byLabel('component', s.component_healthy)],
  ['market_runtime_components_by_status', 'Components, by status', 'gauge', (s) => byLabel('status', s.components_by_status)],
  [DURATION, 'Duration of one collection pass, per source', 'histogram', (s) => Object.entries(s.sources).flatMap(([source, m]) =>
    (['ok', 'error'] as const).flatMap((result) => {
      const h = m.duration[result];
      return h ? histogramSamples(DURATION, COLLECTION_DURATION_BOUNDS, h, { source, result }) : [];
    }))],
  ['market_runtime_collection_passes_total', 'Collection passes recorded, per source and result', 'counter', (s) => Object.entries(s.sources).flatMap(([source, m]) =>
    (['ok', 'error'] as const).map((result) => ({ value: m.passes[result], labels: { source, result } })))],
  ['market_runtime_collection_failures_total', 'Failed collection passes, per source', 'counter', (s) => perSource(s, (m) => m.failures)],
  ['market_runtime_collection_last_success_timestamp_seconds', 'Unix time of the last successful pass, per source (0 = never)', 'gauge', (s) => perSource(s, (m) => m.last_success_s)],
  ['market_runtime_collection_consecutive_failures', 'Failed passes in a row, per source', 'gauge', (s) => perSource(s, (m) => m.consecutive_failures)],
  ['market_runtime_source_up', '1 when the last pass of the source succeeded, else 0', 'gauge', (s) => perSource(s, (m) => m.up)],
  // alert rules compare a source's last success with its interval (deploy/prometheus-rules.yaml)
  ['market_runtime_collect_interval_seconds', 'Time between two collection passes, per source', 'gauge', (s) => perSource(s, (m) => m.interval_s)],
  ['market_runtime_source_slow', "1 while the source's passes take longer than its collection interval (its warning in sources says so), else 0", 'gauge', (s) => perSource(s, (m) => m.slow)],
  ['market_runtime_store_version', 'Current store version (increases on every committed change)', 'gauge', (s) => one(s.version)],
  ['market_runtime_thread_heap_bytes', 'V8 heap in use, per thread (the threads together with native memory make up the process RSS)', 'gauge', (s) => perThread(s, 'heap_used')],
  ['market_runtime_thread_heap_total_bytes', 'V8 heap reserved (in use and free), per thread', 'gauge', (s) => perThread(s, 'heap_total')],
  ['market_runtime_thread_heap_limit_bytes', 'The most the thread\'s V8 heap may grow to (its resourceLimits): past it the thread alone is replaced, per thread', 'gauge', (s) => perThread(s, 'heap_limit')],
  ['market_runtime_thread_external_bytes', 'Memory outside the V8 heap held by a thread\'s objects (Buffers, bodies), per thread', 'gauge', (s) => perThread(s, 'external')],
  ['market_runtime_thread_busy_seconds', 'Seconds the thread\'s event loop was busy since the thread started, waits for a core included (starts again when the thread is replaced)', 'gauge', (s) => perThread(s, 'busy_s')],
  ['market_runtime_thread_cpu_seconds_total', 'CPU seconds the thread used since it started, user and kernel (rate(): the share of a core it uses; Linux only; starts again when the thread is replaced)', 'counter', (s) => perThread(s, 'cpu_s')],
  ['market_runtime_store_ready', '1 once every collector finished its first pass', 'gauge', (s) => one(s.ready)],
  ['market_runtime_stuck_apps', 'Apps in a transitional stage past its limit or with stalled progress (STUCK_* settings)', 'gauge', (s) => one(s.stuck_apps)],
  ['market_runtime_timeline_entries', 'Timeline entries the store holds (…/history), per kind: they grow toward a bound that follows the apps and tasks in view and those that left within the hour', 'gauge', (s) => byLabel('kind', s.timeline_entries)],
  ['market_runtime_stuck_tasks', 'Tasks pending or running past their limit (STUCK_TASK_* settings)', 'gauge', (s) => one(s.stuck_tasks)],
];

/** Prometheus text of the store's sample (with the HTTP thread's memory among the threads' when given). */
export function storeMetricsText(sample: StoreMetricsSample, here: Record<string, ThreadMemory> = {}): Promise<string> {
  const s = { ...sample, threads: { ...sample.threads, ...here } };
  const registry = new Registry();
  for (const [name, help, type, values] of FAMILIES) registry.registerMetric(customMetric({ name, help }, type, () => values(s)));
  return registry.metrics();
}

/**
 * The view's gauges through a store restart: while a new store has not yet had a pass of every collector (or
 * no store answers), they stay those of the last ready store, as `/state` keeps serving its bytes. Counts from a
 * half-built store (stuck apps 0 for the second before app_flow reports) would resolve an alert and start its
 * `for` again; absent series would too. Before any store was ready, the sample is shown as it is. What is held
 * goes to `keep` when it changes (the supervisor keeps it, and gives it to a new HTTP thread: restore).
 */
export class HeldViewGauges {
  private held: HeldGauges['view'];
  /**
   * Each source's figures as the last store that answered gave them (any store: a new one starts from the
   * supervisor's record of every run). Shown while no store answers (dead, or hung until the watchdog replaces
   * it 30 s on): `source_up` and the last success vanishing would reset the source alerts' `for` just when
   * collection cannot reach the store.
   */
  private sources: HeldGauges['sources'];
  private kept = '';

  constructor(private readonly keep: (held: HeldGauges) => void = () => {}) {}

  /** What an HTTP thread before this one held (the supervisor kept it); what this one has seen since wins. */
  restore(held: HeldGauges): void {
    this.held ??= held.view;
    this.sources ??= held.sources;
  }

  through(sample: StoreMetricsSample | undefined): StoreMetricsSample | undefined {
    if (sample !== undefined) this.sources = sample.sources;
    if (sample?.ready === 1) this.held = Object.fromEntries(VIEW_GAUGE_FIELDS.map((k) => [k, sample[k]])) as HeldGauges['view'];
    if (sample !== undefined) this.tellKeeper();
    if (sample?.ready === 1 || this.held === undefined) return sample;
    const rest = sample ?? { sources: this.sources ?? {}, threads: {}, timeline_entries: {} };
    return { ...rest, ...this.held, ready: 0 };
  }

  /** (a scrape's few KB, and only when they differ from what was last kept) */
  private tellKeeper(): void {
    const held: HeldGauges = { ...(this.held && { view: this.held }), ...(this.sources && { sources: this.sources }) };
    const text = JSON.stringify(held);
    if (text === this.kept) return;
    this.kept = text;
    this.keep(held);
  }
}
