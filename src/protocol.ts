/**
 * Everything that crosses a thread boundary, in one place. Messages are plain structured-clone data.
 *
 *   collector thread --StoreMessage--> store thread        (MessagePort handed to the collector at init)
 *   store thread    --VersionMessage--> HTTP thread        (MessagePort; a version's digest, summary, changes)
 *   HTTP thread     --comlink StoreQueryApi--> store       (MessagePort)
 *   supervisor      --comlink StoreControlApi--> store     (the store worker's parentPort)
 *   supervisor      --piscina CollectorTask--> collector   (piscina task; returns a RunReport)
 *   supervisor     <--SupervisorLinkMessage--> HTTP thread (MessagePort handed in workerData at spawn)
 *   supervisor      --comlink HttpControlApi--> HTTP       (the HTTP worker's parentPort)
 *   HTTP thread     --piscina CompressTask--> compression  (returns the compressed bytes)
 *   supervisor      --ThreadInit / HttpThreadInit--> every thread it starts (workerData)
 */
import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import type {
  AppFlowState, ChartRepoSystem, ComponentStatus,
  HydratorStatus, ImageAnalyzerStatus, RuntimeSummary, SourceName, SourceStatus, TaskState,
} from './model/index.ts';

// ---- collector -> store ----------------------------------------------------------------------------

export interface DomainEntity {
  app_states: AppFlowState;
  tasks: TaskState;
  components: ComponentStatus;
}
export type Domain = keyof DomainEntity;
export const DOMAINS = ['app_states', 'tasks', 'components'] as const satisfies readonly Domain[];

/** A removed key whose row the source read: why it left (its state, e.g. `uninstalled`) and when the market wrote it. */
export interface LeftRow { key: string; at: string; state: string }

/**
 * One step of a collection pass.
 * - replace: the source's full listing of a domain: upsert every item, then remove what this source (or a
 *   source it reconciles, e.g. app_flow reconciles pushed nats upserts) held and no longer lists. `keep`: keys
 *   listed but not sent again (unchanged since the source last sent them); they count as listed. A kept key the
 *   store cannot vouch for (it no longer holds it, or a pushed step changed it since) comes back in the
 *   acknowledgement's `reread`. `ahead`: how many of its items were sent ahead (items_ahead); a store that
 *   holds another number of them drops the pass.
 * - changes: the source's listing as its last replace (or changes) step gave it, with `items` upserted and the
 *   `removed` keys gone; reconciled as a replace of that listing would be (kept keys the store cannot vouch for
 *   come back in `reread`). A store that holds no listing of that source drops the pass (AppliedMessage.dropped):
 *   the source then lists everything. `left`: of the removed, those whose row was read, with the state and time it
 *   left in (the timeline's `removed` entry says them).
 * - upsert / remove: incremental changes (pushed events).
 * - chart_repo_pairs: the merged Chart Repo view as its parts: the Chart Repo's own blocks (`frame`) and every (user, source)
 *   pair in order, each with the digest of its own part and the part itself only when the store does not hold
 *   it yet (so a pass costs the pairs that changed, not the whole view). A pair sent without its part that the
 *   store does not hold with that digest comes back in the acknowledgement's `reread` (its key `user\0source`).
 */
export type StoreStep =
  | { [D in Domain]: { op: 'replace'; domain: D; items: DomainEntity[D][]; keep?: string[]; reconciles?: SourceName[]; ahead?: number } }[Domain]
  | { [D in Domain]: { op: 'changes'; domain: D; items: DomainEntity[D][]; removed: string[]; left?: LeftRow[]; reconciles?: SourceName[] } }[Domain]
  | { [D in Domain]: { op: 'upsert'; domain: D; items: DomainEntity[D][] } }[Domain]
  | { op: 'remove'; domain: Domain; keys: string[] }
  | { op: 'chart_repo_pairs'; frame: ChartRepoFrame; shared_content: string; pairs: ChartRepoPairSlot[] }
  /**
   * parts of the pass's chart_repo_pairs step sent ahead, in messages of their own (a pass of the whole Chart
   * Repo is ~85 MB of JSON at 50,000 apps: one message would hold it twice over, in both threads, at once).
   * The store keeps them aside, unseen by readers, until the chart_repo_pairs step names them by content.
   */
  | { op: 'chart_repo_parts'; pairs: ChartRepoPairSlot[] }
  /**
   * items of the pass's replace step sent ahead, in messages of their own (a full app_flow pass at 50,000 apps
   * would be one message of every app). The store keeps them aside, unseen by readers; the source's replace step
   * says how many it sent ahead (`ahead`) and is applied with them. The source's next message that sends nothing
   * ahead (its pass, applied or dropped, or a failed run's outcome) ends their life either way; `first` starts
   * a pass's items afresh (what a run whose thread died sent before is dropped).
   */
  | { [D in Domain]: { op: 'items_ahead'; domain: D; items: DomainEntity[D][]; first?: boolean } }[Domain]
  | { op: 'app_events'; events: AppEvent[] };

/** The steps a collector sends ahead of its pass, in messages of their own (CollectContext.sendAhead). */
export type AheadStep = Extract<StoreStep, { op: 'chart_repo_parts' | 'items_ahead' }>;

/** The Chart Repo's own blocks, as the merged view carries them, and when the view's content last changed. */
export interface ChartRepoFrame {
  last_update: string;
  system?: ChartRepoSystem;
  image_analyzer?: ImageAnalyzerStatus;
}

/**
 * One Chart Repo item as the collector rendered it: the store keeps these strings as they come (it holds no
 * objects for the Chart Repo's items: at 50,000 apps those were ~3x the JSON, and a wave of changed pairs
 * crossed as objects cost the store a few hundred MB for a moment).
 */
export interface ChartItemPart {
  /** the item's JSON, in Go's shape */
  json: string;
  /** its key in its list (chartItemKeys): apps `user_id:source_id:app_name`, images `user_id:source_id:image_name`, hydrator tasks `task_id` */
  key: string;
  /** the item's own user_id / source_id / app_name (what filters and the change stream read) */
  facets: Facets;
  /** an app's state, an image's status (the overview's counts) */
  state?: string;
}

/** The hydrator's counters of one pair's answer (summed over pairs in the view). */
export type HydratorCounters = Pick<HydratorStatus, 'queue_length' | 'active_tasks' | 'completed_tasks' | 'failed_tasks' | 'worker_count'>;

/**
 * One (user, source) pair's own part of the Chart Repo view, its items rendered. As sent (`SentPairPart`), an
 * item may be a number instead: the index of the same item in the same list of the part the store holds for the
 * pair with the slot's `base` content (the item did not change, so only what changed crosses and is held anew).
 */
export interface ChartRepoPairPart<I = ChartItemPart> {
  apps: I[];
  images: I[];
  hydrator?: { counters: HydratorCounters; tasks: I[]; recent_failed: I[] };
}

/** A pair's part as it crosses: its unchanged items as indexes into the part held with the slot's `base` content. */
export type SentPairPart = ChartRepoPairPart<ChartItemPart | number>;

export interface ChartRepoPairSlot {
  user: string;
  source: string;
  /** the digest of the pair's own part */
  content: string;
  /** absent when the store already holds this content */
  part?: SentPairPart;
  /**
   * the content of the held part that `part`'s numbers index; a store that holds the pair with other content
   * cannot take the part (the pair comes back in `reread`, and the collector sends it whole)
   */
  base?: string;
}

/**
 * A pushed app-service state change for one app. `app` null = the app left the view (uninstalled, a
 * canceled install). Applied only when `at` (the event's createTime) is not older than the event time
 * the store holds for that app; what the event does not carry (app_id, version, cfg_type) is kept.
 */
export interface AppEvent {
  key: string;
  at: string;
  app: AppFlowState | null;
  /** the event's eventID, when it has one (the timeline's evidence) */
  id?: string;
  /** app null: the app-service state it left in (`uninstalled`, `installFailed`…), the `removed` entry's detail */
  left?: string;
}

/** How one run of a collector ended; the store turns outcomes into the `sources` block. */
export interface PassOutcome {
  ok: boolean;
  error: string | null;
  duration_ms: number;
  finished_at: string;
  /**
   * collector-specific numbers: rows read, items dropped, requests failed, restarts ... One is read by the
   * supervisor and the store: MIN_INTERVAL_COUNTER, the least time the collector asks for between its passes.
   */
  counters?: Record<string, number>;
  /**
   * for the log only: what a good pass's warning leaves out (the Chart Repo: which pairs failed, at most
   * WARNING_DETAIL_MAX). Never shown in the snapshot: which pairs fail moves from pass to pass, and each move
   * would mint a version
   */
  warning_detail?: string[];
}

/** at most this many entries in PassOutcome.warning_detail */
export const WARNING_DETAIL_MAX = 10;

/**
 * The counter in which a collector asks for at least this many ms between the starts of its passes (the Chart
 * Repo: its request-rate bound). The supervisor's pacing honours it (never beyond COLLECT_MAX_INTERVAL_MS), and
 * the store judges the source slow only against it (a source is not slow for keeping to its own pace).
 */
export const MIN_INTERVAL_COUNTER = 'min_interval_ms';

/** A whole collection pass: applied atomically, so readers never see half of it. */
export interface PassMessage {
  type: 'pass';
  /** the store answers `{type:'applied', seq}` on the same port: the collector's backpressure */
  seq: number;
  source: SourceName;
  steps: StoreStep[];
  /** absent on pushed changes between runs: they do not count as a collection pass */
  outcome?: PassOutcome;
  /** the pass was read in bulk (a full listing, most answers changed): the store collects its garbage once committed */
  bulk?: true;
}

export type StoreMessage = PassMessage;

/** store -> collector: the pass `seq` is applied (a collector never runs ahead of the store). */
export interface AppliedMessage {
  type: 'applied';
  seq: number;
  /**
   * keys a replace step kept that the store cannot vouch for: it does not hold them (e.g. a NATS event removed
   * the app) or a pushed step changed them since the source last sent them. The source sends them again.
   */
  reread?: string[];
  /** the pass was malformed and nothing of it was applied (store/pass-check.ts) */
  dropped?: true;
}

// ---- store -> HTTP ---------------------------------------------------------------------------------

/** Pushed on every new store version: what it says and what changed (its /state body is asked for, StoreQueryApi.body). */
export interface VersionMessage {
  type: 'version';
  /** changes when the store thread restarts, so ETags of an earlier store never match */
  epoch: string;
  version: number;
  /** digest of the content (no store-local version or times): ETags are made from it, so they match across restarts and replicas */
  content: string;
  timestamp: string;
  /** every collector has finished its first pass */
  ready: boolean;
  summary: RuntimeSummary;
  /**
   * about how many bytes the /state body has (never more): whether to compress it is decided on this, so a
   * 304 for a compressed variant needs no body. The body itself is rendered only when asked (StoreQueryApi.body).
   */
  size_hint: number;
  /** what changed since the previous version, for the change stream */
  changes: VersionChanges;
}

/**
 * Pushed when sources reported but nothing a reader can see changed (and beside every version): each source's
 * health and freshness. Never a version: it feeds `…/sources`, the freshness header and the stream's
 * `freshness` events.
 */
export interface FreshnessMessage {
  type: 'freshness';
  epoch: string;
  /** JSON of `Record<SourceName, SourceStatus>` */
  sources: string;
  /** the oldest last_success over every expected source; null while one has never succeeded */
  fresh_as_of: string | null;
}

/** What the store pushes on a version port. */
export type StorePush = VersionMessage | FreshnessMessage;

/** Fields a change-stream filter needs, so the HTTP thread never parses entity JSON to filter. */
export interface Facets {
  user_id?: string;
  source_id?: string;
  app_name?: string;
  /** tasks: status; apps: health */
  status?: string;
  type?: string;
  stuck?: boolean;
  /**
   * Chart Repo images: the (user, source) pairs that hold the image, users[i] with sources[i]: the pair whose
   * answer held it
   */
  users?: string[];
  sources?: string[];
}

export interface ChangedEntity {
  key: string;
  /** the entity's JSON (upserts only) */
  json?: string;
  /** facets after the change (absent for removals) */
  now?: Facets;
  /** facets before the change (absent for new entities) */
  before?: Facets;
}

/** An entity that came and went within one version, with the facets it last had. */
export interface PassedEntity {
  key: string;
  facets: Facets;
}

/** The Chart Repo's item lists, as the change stream sends them (store/chart-repo-items.ts says how they are keyed). */
export type ChartList = 'apps' | 'images' | 'hydrator_tasks';

export interface ChangedChartItem {
  key: string;
  /** the item's JSON (upserts only) */
  json?: string;
  /** what a filtered stream client matches (upserts only) */
  facets?: Facets;
  /** what it matched at the previous version (absent: it was not there) */
  before?: Facets;
}

/** What changed in chart_repo: items one by one, and the rest of the block (`frame`) whole when it moved. */
export interface ChartRepoChanges {
  frame?: string;
  apps: ChangedChartItem[];
  images: ChangedChartItem[];
  hydrator_tasks: ChangedChartItem[];
}

export interface VersionChanges {
  app_states: ChangedEntity[];
  tasks: ChangedEntity[];
  components: ChangedEntity[];
  /** what changed in chart_repo, item by item */
  chart_repo?: ChartRepoChanges;
  /** the new sources JSON when it changed */
  sources?: string;
  /** timeline entries recorded in this version, per app or task key (json: an array of entries) */
  timeline?: { app_states: { key: string; json: string }[]; tasks: { key: string; json: string }[] };
  /**
   * timeline entries this version recorded but does not carry (they would have taken its changes past
   * MAX_CHANGE_BYTES): how many, per app or task key. The stream tells clients that asked for entries how many
   * of theirs were left out (`timeline_omitted`), so they read …/history instead.
   */
  timeline_omitted?: { app_states: { key: string; n: number }[]; tasks: { key: string; n: number }[] };
  /**
   * apps and tasks that came and went within this version (an install that failed at once): no reader ever saw
   * them, so they are neither upserts nor removals, but their timeline entries reach the stream clients whose
   * filter the facets they last had match
   */
  passed?: { app_states: PassedEntity[]; tasks: PassedEntity[] };
  /**
   * true: this version changed more than MAX_CHANGE_BYTES, and its lists are left empty (sources stays). A
   * stream client cannot follow it item by item: it resumes from a snapshot. At start, or when a whole
   * market moves at once, the items would be tens of MB copied to the HTTP thread for no one.
   */
  oversize?: true;
}

/** A version whose changes hold more than this (changesBytes) carries none (VersionChanges.oversize). */
export const MAX_CHANGE_BYTES = 2 * 1024 * 1024;

/** The string bytes a version's changes hold (entity JSON, chart_repo items, sources, timeline): about a second copy of its event. */
export function changesBytes(c: VersionChanges): number {
  const cr = c.chart_repo;
  return itemBytes(c.app_states) + itemBytes(c.tasks) + itemBytes(c.components) + (c.sources?.length ?? 0)
    + (cr ? (cr.frame?.length ?? 0) + itemBytes(cr.apps) + itemBytes(cr.images) + itemBytes(cr.hydrator_tasks) : 0)
    + timelineBytes(c.timeline) + itemBytes(c.timeline_omitted?.app_states) + itemBytes(c.timeline_omitted?.tasks)
    + itemBytes(c.passed?.app_states) + itemBytes(c.passed?.tasks);
}

/** The string bytes of a version's timeline entries (part of changesBytes). */
export function timelineBytes(t: VersionChanges['timeline']): number {
  return itemBytes(t?.app_states) + itemBytes(t?.tasks);
}

function itemBytes(list: readonly { key: string; json?: string }[] | undefined): number {
  return (list ?? []).reduce((n, e) => n + e.key.length + (e.json?.length ?? 0), 0);
}

// ---- HTTP -> store (comlink) ---------------------------------------------------------------------

export interface StateFilter {
  user_id?: string;
  source_id?: string;
  app_name?: string;
  task_status?: string;
  task_type?: string;
  /** true: only stuck apps and tasks; false: only those not stuck */
  stuck?: boolean;
}

/** What `…/apps` pages filter on: the app filters of /state, and (…/apps only) an app's stage and health. */
export interface AppFilter extends Pick<StateFilter, 'user_id' | 'source_id' | 'app_name' | 'stuck'> {
  /** one of the model's APP_STAGES */
  stage?: string;
  /** healthy, unhealthy (as the summary's healthy_apps / unhealthy_apps count them) or unknown: the model's appHealth */
  health?: string;
}

/** Every store query answers the version it was computed at and the JSON of `data` (null = not found). */
/** The `/state` body of the store's latest version: UTF-8 of `{success,message,data:snapshot}`, transferred. */
export interface BodyAnswer {
  version: number;
  content: string;
  body: ArrayBuffer;
}

export interface QueryAnswer {
  version: number;
  /** the content digest of that version (VersionMessage.content) */
  content: string;
  /**
   * the answer's JSON (null: not found). A filtered /state comes as bytes, transferred: the whole response body
   * (the success envelope around its JSON, UTF-8), written by the store piece by piece, so it never exists as one
   * string in either thread and the HTTP thread sends it as it came (at 50,000 apps one user's answer is ~60 kB,
   * asked hundreds of times a second)
   */
  json: string | ArrayBuffer | null;
  /**
   * The answer's ETag names its own JSON from this character on (past a page's store-local `version`), so an
   * answer that did not change keeps its tag while other parts of the market move on: set where that JSON holds
   * only what the sources said (entities, pages of apps, histories). Absent: own_content or the version's
   * content digest names it.
   */
  own_from?: number;
  /**
   * The answer's ETag names this digest of what its apps' rows say (EntityTable.rowsContent), without the
   * last_update each store keeps from when it first saw the content: the same rows give the same tag on every
   * replica and after a restart. Set on answers of apps (one app, a user's apps, a page without Chart Repo items),
   * and a filtered /state (its rows', the summary's, components', the Chart Repo view's and the sources' digests,
   * as the version's names the snapshot: times only this store saw left out).
   */
  own_content?: string;
}

export interface StoreQueryApi {
  /** the whole /state body of the latest version (pending changes are committed first) */
  body(): BodyAnswer;
  state(filter: StateFilter): QueryAnswer;
  app(user_id: string, source_id: string, app_name: string): QueryAnswer;
  task(task_id: string): QueryAnswer;
  tasks(filter: { app_name?: string; user_id?: string }): QueryAnswer;
  appsByUser(user_id: string): QueryAnswer;
  /**
   * One page of `…/apps`: the first `limit` apps matching `filter` whose key (user:source:app) sorts after `after`
   * (null: from the first), at the latest version. json: `{version, total, items, next_cursor}`, and with
   * `withChart` `chart_repo: {apps, hydrator_tasks}`: the Chart Repo items of the page's apps.
   */
  appsPage(filter: AppFilter, limit: number, after: string | null, withChart?: boolean): QueryAnswer;
  /** The snapshot without app_states and the Chart Repo's apps and images (counted instead): …/overview. */
  overview(): QueryAnswer;
  /** what the store saw happen to one app (key user:source:app) or task */
  history(kind: 'app_states' | 'tasks', key: string): QueryAnswer;
  tasksByUser(user_id: string): QueryAnswer;
  ping(): { epoch: string; version: number; ready: boolean };
  /**
   * The store-owned metrics as plain numbers (apps, tasks, components, collection, version, the memory other
   * threads reported): the HTTP thread renders them with its own, so the store loads no metrics library
   */
  metrics(): StoreMetricsSample;
}

/** Bounds (seconds) of the collection-duration histogram's buckets. */
export const COLLECTION_DURATION_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** A histogram's counts: `buckets` non-cumulative, one per bound and the last for +Inf */
export interface HistogramSample {
  count: number;
  sum: number;
  buckets: number[];
}

/** What /metrics shows of one source (market_runtime_collection_*, market_runtime_source_*). */
export interface SourceMetricsSample {
  passes: { ok: number; error: number };
  failures: number;
  /** Unix seconds; 0 = never */
  last_success_s: number;
  consecutive_failures: number;
  up: 0 | 1;
  slow: 0 | 1;
  /** the time between its passes, once known (seconds) */
  interval_s?: number;
  /** pass durations by result, once a pass of that result was seen (COLLECTION_DURATION_BOUNDS) */
  duration: Partial<Record<'ok' | 'error', HistogramSample>>;
}

/** What the HTTP thread shows in /metrics while no ready store answers: the last ready store's view, the last sources' figures. */
export interface HeldGauges {
  view?: Pick<StoreMetricsSample, ViewGaugeField>;
  sources?: StoreMetricsSample['sources'];
}

/** What a metrics sample says of the view (the counts of /state), as against the sources' and threads' own figures. */
export const VIEW_GAUGE_FIELDS = [
  'apps_by_stage', 'apps_by_health', 'tasks_by_status', 'tasks_by_type', 'components_by_status', 'component_healthy',
  'stuck_apps', 'stuck_tasks', 'version',
] as const satisfies readonly (keyof StoreMetricsSample)[];
export type ViewGaugeField = (typeof VIEW_GAUGE_FIELDS)[number];

/** The store's metrics at one scrape (store -> HTTP). Counts are keyed by label value. */
export interface StoreMetricsSample {
  apps_by_stage: Record<string, number>;
  apps_by_health: Record<string, number>;
  tasks_by_status: Record<string, number>;
  tasks_by_type: Record<string, number>;
  components_by_status: Record<string, number>;
  /** 1 when the component reports healthy, else 0 */
  component_healthy: Record<string, number>;
  sources: Record<string, SourceMetricsSample>;
  version: number;
  ready: 0 | 1;
  stuck_apps: number;
  stuck_tasks: number;
  /** entries the store's timelines hold, per kind (bounded: docs/api.md, Timeline: what happened before) */
  timeline_entries: Record<string, number>;
  /** the store's own memory and what the supervisor reported for itself and each collector */
  threads: Record<string, ThreadMemory>;
}

/** One thread's memory, as it reports it (bytes; see thread-memory.ts) */
export interface ThreadMemory {
  heap_used: number;
  heap_total: number;
  /** the most its V8 heap may grow to (its resourceLimits; past it the thread ends and is replaced) */
  heap_limit: number;
  external: number;
  /** seconds the thread's event loop was busy since it started (wall time: it counts time the thread waited for a core) */
  busy_s: number;
  /** CPU seconds the thread used since it started, user and kernel (Linux: /proc/thread-self/stat; absent elsewhere) */
  cpu_s?: number;
}

// ---- supervisor -> store (comlink) ---------------------------------------------------------------

/** A copy of what the store holds of one source (StoreControlApi.heldOf). */
export interface HeldCopy {
  /** what the store's held-source mark was (heldMark): a later call with it answers null while nothing changed */
  mark: number;
  /** the steps that give it to another store, v8-serialized and transferred; null when it holds nothing of it */
  bytes: ArrayBuffer | null;
}

export interface StoreControlApi {
  /** a collector's delta port (sent again when a collector thread is replaced) */
  attachDeltaPort(port: MessagePort): void;
  /** a port on which the store exposes StoreQueryApi with comlink */
  attachQueryPort(port: MessagePort): void;
  /** a port on which the store pushes VersionMessage and FreshnessMessage */
  attachVersionPort(port: MessagePort): void;
  /**
   * the collectors whose first pass /readyz waits for, and the time between their passes (a metric);
   * `rebuildGraceMs` for a store that replaces one that died: a source's failed run counts only after 3 in a row
   * or once that long has passed, a good pass at once (store/source-book.ts); `known`: each source's freshness
   * before that store died (the supervisor's record of the runs), so the rebuild loses no last success;
   * `maxIntervalMs`: COLLECT_MAX_INTERVAL_MS, past which a source asking for a longer interval is slow all the same
   */
  expectSources(
    sources: SourceName[], intervalMs?: number, rebuildGraceMs?: number, known?: Partial<Record<SourceName, SourceStatus>>,
    maxIntervalMs?: number,
  ): void;
  /** how long transitional stages and active tasks may last before they count as stuck */
  setStuckLimits(limits: import('./store/stuck.ts').StuckLimits): void;
  /** outcome of a run that could not report itself (thread died, deadline passed) */
  reportOutcome(source: SourceName, outcome: PassOutcome): void;
  /**
   * what the store holds of a source (store/held-source.ts), for the supervisor to keep while the source is down;
   * null when it is unchanged since the copy taken at `unlessMark` (no bytes are made)
   */
  heldOf(source: SourceName, unlessMark?: number): HeldCopy | null;
  /**
   * a dead store's heldOf(source), given to the store replacing it while the source is still down: applied as
   * that source's listing (false: refused, a pass of the source came first or the bytes are not a pass)
   */
  restoreHeld(source: SourceName, held: ArrayBuffer): boolean;
  /**
   * the apps' stuck clocks that changed since the last call, a gone one as null (`all`: every one), for the
   * supervisor to keep (store/stuck.ts StuckClock)
   */
  stuckClocks(all: boolean): [string, import('./store/stuck.ts').StuckClock | null][];
  /** a dead store's stuck clocks, given to the store replacing it before any collector reaches it */
  restoreStuckClocks(clocks: [string, import('./store/stuck.ts').StuckClock][]): void;
  /** memory of a thread that has no metrics of its own (main, collectors), for /metrics */
  reportThreadMemory(thread: string, memory: ThreadMemory): void;
  ping(): { epoch: string; version: number; ready: boolean };
  /** answers once the store is ready (a pass of every collector): a restart that got this far took */
  whenReady(): Promise<true>;
  /** chaos testing only: blocks the store thread for `ms` (a hung store; the supervisor's watchdog replaces it) */
  hang(ms: number): void;
}

// ---- supervisor -> collector (piscina task) ------------------------------------------------------

/** Which collector a thread runs: a module exporting `createCollector(options)`, and its options. */
export interface CollectorSpec {
  source: SourceName;
  /** file URL of the module exporting `createCollector` */
  module: string;
  options: unknown;
  /**
   * false: its first run for a store reads nothing in bulk (an event collector subscribes), so it does not queue
   * behind the other collectors' full passes (supervisor/full-pass-gate.ts); default true
   */
  bulkFirstPass?: boolean;
}

export type CollectorTask =
  | { kind: 'init'; spec: CollectorSpec; port: MessagePort }
  /**
   * `restarts`: how often the supervisor replaced this collector's thread; `interval_ms`: the time between this
   * collector's passes now (it backs off while passes are slow: collector-pacing.ts). Both are reported in the
   * outcome's counters.
   */
  | { kind: 'run'; deadline_ms: number; restarts?: number; interval_ms?: number };

/**
 * A run is told to stop (its signal aborts) at `deadline_ms`; a thread that has not answered
 * RUN_ABORT_GRACE_MS later is replaced. So no run outlives deadline + this grace from its start. Starting a
 * collector thread (its module loaded, its sources opened, the store given its port) has the same bound of its own.
 */
export const RUN_ABORT_GRACE_MS = 2000;

export type RunReport =
  | { kind: 'ready' }
  /** the thread is new (no store port yet), or the store behind its port died: the supervisor inits it again */
  | { kind: 'need_init' }
  | { kind: 'done'; outcome: PassOutcome; memory?: ThreadMemory };

export type { SourceName };

// ---- supervisor <-> HTTP thread (MessagePort, no replies) ----------------------------------------

/**
 * Replacements of a thread, counted by the supervisor (they survive the thread): `store`, `http`,
 * `compress` and `collector_<source>`.
 */
export type ThreadRestarts = Record<string, number>;

/** A thread's last replacement: when, and why when the supervisor knows (`…/sources` `threads`). */
export interface ThreadRestart {
  at: string;
  reason: string | null;
}

export type SupervisorLinkMessage =
  /**
   * supervisor -> HTTP: the current counts and each thread's last replacement, for /metrics and `…/sources`
   * (sent on every change and to a new HTTP thread)
   */
  | { type: 'thread_restarts'; counts: ThreadRestarts; last: Record<string, ThreadRestart> }
  /** HTTP -> supervisor: the compression thread (a piscina thread of the HTTP thread) was replaced, and why if known */
  | { type: 'thread_restart'; thread: 'compress'; reason?: string }
  /**
   * HTTP -> supervisor, when they change: the /metrics gauges the HTTP thread holds through a store restart
   * (store-metrics.ts HeldViewGauges); supervisor -> HTTP: the same, to a new HTTP thread, so that an HTTP thread
   * and a store replaced together do not show a half-built store's counts (stuck apps 0) either
   */
  | { type: 'held_gauges'; held: HeldGauges }
  /**
   * supervisor -> HTTP: the store thread numbered `store` (HttpControlApi.attachStore) died; until a new one is
   * attached nothing may be answered from it. This port and attachStore's are not ordered: a late word of a store
   * older than the one attached is ignored
   */
  | { type: 'store_down'; store: number };

// ---- supervisor -> HTTP thread (comlink) -------------------------------------------------------------

/** What the dashboards' pages are written with at start (the same for every request). */
export interface DashboardSettings {
  /** COLLECT_INTERVAL_MS: the pages call a source stale past 3 of them (default 5000) */
  collectIntervalMs?: number;
  /** the data is the embedded demo market's: each page says so in a banner */
  demo?: boolean;
}

/** What the HTTP thread enforces (RUNTIME_API_TOKEN, METRICS_REQUIRE_TOKEN, CORS_ORIGINS); its own logger and metrics stay in it. */
export interface HttpSecurityConfig {
  /** RUNTIME_API_TOKEN: when set, everything but /healthz and /readyz (and /metrics, see below) needs it */
  apiToken?: string;
  /** with a token set, /metrics needs it too (default true) */
  metricsRequireToken?: boolean;
  /** CORS_ORIGINS: unset = no CORS */
  corsOrigins?: string[];
}

export interface HttpControlApi {
  ping(): true;
  /** chaos testing only: blocks the thread for `ms` (a hung thread) */
  hang(ms: number): void;
  /** chaos testing only: kills the compression thread; false when none runs */
  killCompress(): boolean;
  /**
   * the store's query port (StoreQueryApi) and version port (StorePush); `rebuilt`: the store replaces one that
   * died; `store`: the store thread's number (1, 2, … as the supervisor starts them), which store_down names
   */
  attachStore(queryPort: MessagePort, versionPort: MessagePort, rebuilt: boolean, store: number): void;
  listen(opts: { port: number; host: string; security?: HttpSecurityConfig; dashboards?: DashboardSettings }): Promise<{ port: number }>;
  close(timeoutMs: number): Promise<void>;
  /** ends the thread at once, the way a crash would, after closing its sockets (HttpThread.drop); never answers */
  drop(): void;
}

// ---- HTTP thread -> compression thread (piscina task) ------------------------------------------------

export type Encoding = 'gzip' | 'br';

/** One body to compress; the answer is the compressed bytes (a Uint8Array). */
export interface CompressTask {
  body: Uint8Array;
  encoding: Encoding;
}

// ---- supervisor -> every thread at spawn (workerData) -------------------------------------------------

/** What every thread it starts gets: the configured LOG_LEVEL (read once, by config.ts in the main thread). */
export interface ThreadInit {
  logLevel: string;
}

/** The HTTP thread's workerData besides ThreadInit: its link to the supervisor, and its compression thread's limits. */
export interface HttpThreadInit extends ThreadInit {
  link?: MessagePort;
  compressLimits?: ResourceLimits;
  /** the byte bounds of the HTTP thread's answer caches (thread-limits.ts answerCacheBytes) */
  answerCaches?: AnswerCacheBytes;
}

/** How many bytes of answers the HTTP thread keeps for the current version: cached for Hono, remembered for the raw path. */
export interface AnswerCacheBytes {
  cached: number;
  remembered: number;
}
