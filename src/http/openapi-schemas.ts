import * as v from 'valibot';
import {
  AppFlowState, ChartRepoApp, ChartRepoImage, ChartRepoStatus, ComponentStatus, Count, HydratorTask, Id, SOURCE_NAMES,
  SUMMARY_KEYS, SourceHealth, SourceStatus, TaskState, Text, Time, type RuntimeSnapshot, type RuntimeSummary,
} from '../model/index.ts';
import { GoAppFlowState, GoComponents, GoComponentStatus, GoRuntimeSnapshot, GoSummary, GoTaskState } from '../model/go-wire.ts';
import type { History, TimelineEntry as TimelineEntryType } from '../store/timeline.ts';

/**
 * Valibot schemas of the answers that are assembled from the model schemas (snapshot, envelope, freshness,
 * history, stream events): the OpenAPI document converts these, so each shape is written once.
 * Entities are documented as the Go-wire schema (src/model/go-wire.ts: what a Go client decodes, what we
 * guarantee) and ours (the additive keys and allowed values) at once: both hold for every answer.
 */

const fromKeys = <K extends string, S extends v.GenericSchema>(keys: readonly K[], schema: S) =>
  Object.fromEntries(keys.map((k) => [k, schema])) as Record<K, S>;

export const RuntimeSummarySchema = v.object(fromKeys(SUMMARY_KEYS, Count));
export const WireSummary = v.intersect([GoSummary, RuntimeSummarySchema]);
export const WireApp = v.intersect([GoAppFlowState, AppFlowState]);
export const WireTask = v.intersect([GoTaskState, TaskState]);
export const WireComponent = v.intersect([GoComponentStatus, ComponentStatus]);
/** components by name: Go's own under their schemas (status words, metric keys), each with our keys too */
export const WireComponents = v.intersect([GoComponents, v.record(v.string(), ComponentStatus)]);

/** each source's health in the snapshot (a source that never reported is absent) */
export const SourcesHealth = v.object(fromKeys(SOURCE_NAMES, v.optional(SourceHealth)));

/**
 * `data` of /state: the Go module's RuntimeSnapshot (what a Go client decodes) and ours at once: its entities
 * with our keys and allowed values, and the additive `version` and `sources`.
 */
export const RuntimeSnapshotSchema = v.intersect([GoRuntimeSnapshot, v.object({
  version: Count,
  app_states: v.record(v.string(), AppFlowState),
  tasks: v.record(v.string(), TaskState),
  components: v.record(v.string(), ComponentStatus),
  summary: RuntimeSummarySchema,
  sources: SourcesHealth,
})]);

/** `data` of GET …/apps: one page of apps in key order */
export const AppsPageSchema = v.object({
  version: v.pipe(Count, v.description('the store version this page was cut from: pages of one listing may come from different versions')),
  total: v.pipe(Count, v.description('how many apps match the filters (at that version)')),
  items: v.pipe(v.array(WireApp), v.description('the apps, by key (user:source:app) in string order; each as in /state app_states')),
  next_cursor: v.pipe(v.nullable(v.string()), v.description('opaque: pass it as `cursor` for the next page; null on the last page')),
  chart_repo: v.pipe(
    v.optional(v.object({ apps: v.array(ChartRepoApp), hydrator_tasks: v.array(HydratorTask) })),
    v.description('only with ?include=chart_repo: the Chart Repo apps and hydrator tasks (current and recently failed) of the apps on this page'),
  ),
});

const countsBy = (what: string) => v.pipe(v.record(v.string(), Count), v.description(`how many, per ${what}`));

/** `data` of GET …/overview: the snapshot without the lists that grow with the market */
export const OverviewSchema = v.object({
  timestamp: Time,
  version: Count,
  tasks: v.record(v.string(), WireTask),
  components: WireComponents,
  chart_repo: v.pipe(v.optional(ChartRepoStatus), v.description('as in /state, without `apps` and `images` (page apps with …/apps?include=chart_repo)')),
  chart_repo_counts: v.object({ apps: countsBy('Chart Repo app state'), images: countsBy('image status') }),
  summary: WireSummary,
  sources: SourcesHealth,
});

/** The `data:` of the events of …/events?view=summary: a version, without its entities. */
export const SummaryEvent = v.object({
  version: Count,
  timestamp: Time,
  summary: WireSummary,
  sources: v.pipe(v.optional(SourcesHealth), v.description('change events only, when a source\'s health changed')),
});

/** GET …/sources and the stream's `freshness` event */
export const FreshnessSchema = v.object({
  fresh_as_of: v.pipe(v.nullable(Time), v.description('the oldest last_success over the sources; null until every source succeeded once')),
  sources: v.object(fromKeys(SOURCE_NAMES, v.optional(SourceStatus))),
  threads: v.pipe(
    v.record(Id, v.object({
      restarts: v.pipe(v.number(), v.integer(), v.minValue(0)),
      last_restart_at: v.nullable(Time),
      last_restart_reason: v.nullable(Text),
    })),
    v.description('every thread (store, http, compress, collector_<source>), how often it was replaced since the process started, when last and why when known'),
  ),
});

export const TimelineEntry = v.object({
  at: Time,
  stage: Id,
  health: v.optional(Id),
  progress: v.optional(Id),
  detail: v.optional(Text),
  op: v.pipe(v.optional(Text), v.description('apps: on the entry where a new operation began in the same stage (an install canceled and begun again), its id: app-service\'s opID, else the task forcing the stage')),
  evidence: Text,
});

export const HistorySchema = v.object({
  key: Text,
  since: Time,
  gone_at: v.optional(Time),
  entries: v.array(TimelineEntry),
});

const domainMap = <S extends v.GenericSchema>(s: S) => v.optional(v.record(v.string(), s));
const keyList = v.optional(v.array(v.string()));

/** The `data:` of one `event: change` of …/events. */
export const ChangeEvent = v.object({
  version: Count,
  timestamp: Time,
  upserts: v.object({ app_states: domainMap(WireApp), tasks: domainMap(WireTask), components: v.optional(WireComponents) }),
  removed: v.object({ app_states: keyList, tasks: keyList, components: keyList }),
  chart_repo: v.optional(v.object({
    frame: v.pipe(v.optional(ChartRepoStatus), v.description('the block without its item lists, when it moved')),
    upserts: v.object({ apps: domainMap(ChartRepoApp), images: domainMap(ChartRepoImage), hydrator_tasks: domainMap(HydratorTask) }),
    removed: v.object({ apps: keyList, images: keyList, hydrator_tasks: keyList }),
  })),
  sources: v.optional(SourcesHealth),
  timeline: v.pipe(
    v.optional(v.object({ app_states: domainMap(v.array(TimelineEntry)), tasks: domainMap(v.array(TimelineEntry)) })),
    v.description('only with ?timeline=true: the entries recorded in this version, per app or task key'),
  ),
  timeline_omitted: v.pipe(
    v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    v.description('only with ?timeline=true, when this version\'s entries would have taken the event past the 2 MiB a change event may hold: how many entries (of the apps and tasks this client sees) it left out; read the …/history of those you follow'),
  ),
  summary: WireSummary,
});

export const ErrorEnvelope = v.object({ success: v.literal(false), message: v.string(), data: v.null() });

export const envelope = <S extends v.GenericSchema>(data: S) => v.object({ success: v.literal(true), message: v.string(), data });

export const Healthz = v.object({ status: v.literal('ok') });
export const Readyz = v.object({ ready: v.boolean(), store: v.picklist(['up', 'down']), version: Count });

// the hand-kept TypeScript types and these schemas must agree (a compile error otherwise)
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type SchemasAgree = [
  Assert<Same<v.InferOutput<typeof RuntimeSummarySchema>, RuntimeSummary>>,
  Assert<Same<v.InferOutput<typeof TimelineEntry>, TimelineEntryType>>,
  Assert<Same<v.InferOutput<typeof HistorySchema>, History & { key: string }>>,
  // the whole snapshot: ours, as the Go wire narrows it (metadata.status on every app, Go integers and times)
  Assert<Same<v.InferOutput<typeof RuntimeSnapshotSchema>, RuntimeSnapshot & v.InferOutput<typeof GoRuntimeSnapshot>>>,
];
