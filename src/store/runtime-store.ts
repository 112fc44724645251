import { randomUUID } from 'node:crypto';
import {
  appKey, emptySummary,
  type AppFlowState, type ChartRepoOrigin, type ChartRepoStatus, type ComponentStatus, type RuntimeSummary, type SourceName,
  type SourceStatus, type TaskState,
} from '../model/index.ts';
import {
  DOMAINS,
  type AppEvent, type ChangedEntity, type Domain, type DomainEntity, type Facets, type PassMessage, type PassOutcome,
  type AppFilter, type StateFilter, type StoreStep, type VersionChanges,
} from '../protocol.ts';
import { diffChartIndex, emptyChartPending, indexChartRepo, takeChartChanges, type ChartIndex } from './chart-repo-items.ts';
import { EntityTable, type Owner } from './entity-table.ts';
import { SourceBook } from './source-book.ts';
import { appEntry, taskEntry, taskPast, Timeline, TIMELINE_LIMITS, type TimelineKind } from './timeline.ts';
import { mergeAppEvent } from '../collect/app-event.ts';
import { chartRepoContentKey } from '../collect/chart-repo-content.ts';
import { digestOf } from '../content-digest.ts';
import { appMatches, filterChartRepo, hasChartFilter, taskMatches } from './filter.ts';
import { MultiIndex } from './multi-index.ts';
import { encodeCursor } from './page-cursor.ts';
import { firstAfter, SortedIndex, SortedKeys } from './sorted-keys.ts';
import { countApp, countComponent, countTask } from './summary.ts';
import {
  appVerdict, DEFAULT_STUCK_LIMITS, isWatchedApp, isWatchedTask, nextProgressMark, taskStuck, withStuck,
  type ProgressMark, type StuckLimits,
} from './stuck.ts';

export const OK_MESSAGE = 'Runtime state retrieved successfully';

/** How long an app known only from a pushed event survives polls that do not list it yet. */
export const RECONCILE_GRACE_MS = 30_000;

/** The timeline's evidence for what each source's passes say. */
const EVIDENCE: Record<SourceName, string> = {
  app_flow: 'poll user_application_states', tasks: 'poll task_records', components: 'poll components',
  chart_repo: 'poll chart repo', nats: 'event',
};

function eventEvidence(ev: AppEvent): string {
  return ev.id ? `event ${ev.id}` : `event at ${ev.at}`;
}

/** Per domain: every key touched since the last commit, with its facets before the first touch (null = new). */
type Touched = Record<Domain, Map<string, Facets | null>>;

export interface Commit {
  version: number;
  /** the digest of what a reader sees (not when this store saw it): the same content, the same digest anywhere */
  content: string;
  timestamp: string;
  /** about how many bytes the body has (at most that many): whether it is worth compressing is decided on it */
  size_hint: number;
  /**
   * the full `/state` response body, rendered when read (RuntimeStore.body): a version nobody reads the whole
   * of is never rendered. Only while this is the store's latest version, with nothing applied since.
   */
  readonly body: string;
  summary: RuntimeSummary;
  changes: VersionChanges;
}

function emptyTouched(): Touched {
  return { app_states: new Map(), tasks: new Map(), components: new Map() };
}

function emptyKeySets(): Record<Domain, Set<string>> {
  return { app_states: new Set(), tasks: new Set(), components: new Set() };
}

/** What a change-stream filter looks at. */
export function facetsOf(domain: Domain, value: object): Facets {
  if (domain === 'app_states') {
    const a = value as AppFlowState;
    return { user_id: a.user_id, source_id: a.source_id, app_name: a.app_name, status: a.health, stuck: a.stuck === true };
  }
  if (domain === 'tasks') {
    const t = value as TaskState;
    return { user_id: t.user_id, app_name: t.app_name, status: t.status, type: t.type, stuck: t.stuck === true };
  }
  return {};
}

/** The app-service event time an app's state reflects (metadata.status.createTime), if known. */
function eventTimeOf(a: AppFlowState): string | undefined {
  const status = (a.metadata as { status?: { createTime?: unknown } } | undefined)?.status;
  return typeof status?.createTime === 'string' ? status.createTime : undefined;
}

/**
 * The runtime state machine: the only owner of runtime state, pure and synchronous (the store thread
 * wraps it). Every message is applied whole; `commit()` turns what changed into a new version and
 * builds its response bytes by concatenating pre-rendered entities.
 */
export class RuntimeStore {
  readonly epoch = randomUUID().slice(0, 8);
  version = 0;
  /** the content digest of the last committed version (Commit.content) */
  content = '';
  timestamp: string;
  private readonly summary = emptySummary();
  /** apps by user and by name are read in key order too (…/apps pages) */
  private readonly byUser = { apps: new SortedIndex(), tasks: new MultiIndex() };
  private readonly byAppName = { apps: new SortedIndex(), tasks: new MultiIndex() };
  /** every app key in string order, re-sorted only as keys come and go (…/apps pages) */
  private readonly appOrder = new SortedKeys();
  private readonly tasksByStatus = new MultiIndex();
  private readonly tasksByType = new MultiIndex();
  private chartRepo: { value: ChartRepoStatus; json: string; content: string; index: ChartIndex; origins?: ChartRepoOrigin[] } | null = null;
  /** Chart Repo items changed since the last commit (the stream sends them one by one) */
  private readonly chartPending = emptyChartPending();
  /** each collector's health (content) and freshness, and readiness */
  readonly sources = new SourceBook();
  private touched = emptyTouched();
  private dirty = false;
  private stuckLimits: StuckLimits = DEFAULT_STUCK_LIMITS;
  /** apps in a transitional stage and active tasks: their stuck verdict changes with time alone (stuck apps are among them) */
  private readonly watched = { app_states: new SortedKeys(), tasks: new Set<string>() };
  /** per app in a transitional stage that reports progress: that progress and since when (stalled progress) */
  private readonly progress = new Map<string, ProgressMark>();
  /** what happened to each app and task (…/history) */
  readonly timelines: Record<TimelineKind, Timeline>;
  /**
   * Held keys a pushed step (an event, an upsert) changed since a listing last sent them: a listing that only
   * keeps such a key is asked to send it again (AppliedMessage.reread), as its full listing would have.
   */
  private readonly pushed = emptyKeySets();

  readonly apps = new EntityTable<AppFlowState>(appKey, {
    onAdd: (k, a) => {
      countApp(this.summary, a, 1);
      this.appOrder.add(k);
      this.byUser.apps.add(a.user_id, k);
      this.byAppName.apps.add(a.app_name, k);
    },
    onDelete: (k, a) => {
      countApp(this.summary, a, -1);
      this.appOrder.delete(k);
      this.byUser.apps.delete(a.user_id, k);
      this.byAppName.apps.delete(a.app_name, k);
    },
  }, carryLastUpdate);

  readonly tasks = new EntityTable<TaskState>((t) => t.task_id, {
    onAdd: (k, t) => {
      countTask(this.summary, t, 1);
      this.byUser.tasks.add(t.user_id, k);
      this.byAppName.tasks.add(t.app_name, k);
      this.tasksByStatus.add(t.status, k);
      this.tasksByType.add(t.type, k);
    },
    onDelete: (k, t) => {
      countTask(this.summary, t, -1);
      this.byUser.tasks.delete(t.user_id, k);
      this.byAppName.tasks.delete(t.app_name, k);
      this.tasksByStatus.delete(t.status, k);
      this.tasksByType.delete(t.type, k);
    },
  });

  readonly components = new EntityTable<ComponentStatus>((c) => c.name, {
    onAdd: (_k, c) => countComponent(this.summary, c, 1),
    onDelete: (_k, c) => countComponent(this.summary, c, -1),
  }, carryLastCheck);

  constructor(private readonly clock: () => Date = () => new Date()) {
    this.timestamp = clock().toISOString();
    // one bound for both: apps get what tasks do not
    const { total, tasks } = TIMELINE_LIMITS;
    this.timelines = {
      app_states: new Timeline(this.timestamp, { ...TIMELINE_LIMITS, total: total - tasks }),
      tasks: new Timeline(this.timestamp, { ...TIMELINE_LIMITS, total: tasks }),
    };
  }

  private table<D extends Domain>(domain: D): EntityTable<DomainEntity[D]> {
    const tables = { app_states: this.apps, tasks: this.tasks, components: this.components };
    return tables[domain] as unknown as EntityTable<DomainEntity[D]>;
  }

  // ---- writes ------------------------------------------------------------------------------------

  /**
   * Applies one collection pass whole, then records its outcome. Answers the keys its listings kept that the
   * store cannot vouch for (AppliedMessage.reread).
   */
  apply(msg: PassMessage): string[] {
    const reread: string[] = [];
    for (const step of msg.steps) this.applyStep(msg.source, step, reread);
    if (msg.outcome) this.recordOutcome(msg.source, msg.outcome);
    return reread;
  }

  private applyStep(source: SourceName, step: StoreStep, reread: string[]): void {
    switch (step.op) {
      case 'upsert':
      case 'replace': {
        const table = this.table(step.domain);
        const pushed = this.pushed[step.domain];
        const listed = new Set<string>();
        for (const item of step.items as DomainEntity[Domain][]) {
          const key = table.key(item as never);
          if (step.op === 'replace') {
            listed.add(key);
            pushed.delete(key);
          }
          // a poll never takes an app back behind a newer pushed event: the market may not have written it yet
          if (step.domain === 'app_states' && this.heldIsNewer(key, item as AppFlowState)) continue;
          this.upsert(step.domain, item, source, EVIDENCE[source]);
          if (step.op === 'upsert') pushed.add(key);
        }
        if (step.op === 'replace') {
          // kept keys are listed without being sent: what the store holds for them stands, unless it lost them
          for (const key of step.keep ?? []) {
            listed.add(key);
            if (!table.rows.has(key) || pushed.has(key)) reread.push(key);
          }
          // deletions come after every upsert: a reader never sees the domain emptied mid-pass
          const owners = new Set<SourceName>([source, ...(step.reconciles ?? [])]);
          for (const key of table.missing(owners, listed)) {
            if (step.domain === 'app_states' && this.recentlyPushed(key, source)) continue;
            this.remove(step.domain, key, EVIDENCE[source]);
          }
        }
        return;
      }
      case 'remove':
        for (const key of step.keys) this.remove(step.domain, key, EVIDENCE[source]);
        return;
      case 'chart_repo': {
        const json = JSON.stringify(step.value);
        if (this.chartRepo?.json === json) {
          // the same view; where its items came from can still have moved (it is not on the wire)
          this.chartRepo.origins = step.origins;
          return;
        }
        const index = indexChartRepo(step.value, step.origins);
        diffChartIndex(this.chartRepo?.index ?? null, index, this.chartPending);
        // (the collector sends the digest of its content key; a step without one is digested here)
        const content = step.content ?? digestOf([chartRepoContentKey(step.value)]);
        this.chartRepo = { value: step.value, json, content, index, origins: step.origins };
        this.dirty = true;
        return;
      }
      case 'app_events':
        for (const ev of step.events) this.applyAppEvent(source, ev);
        return;
    }
  }

  private heldIsNewer(key: string, polled: AppFlowState): boolean {
    const held = this.apps.rows.get(key);
    const heldAt = held && eventTimeOf(held.value);
    const polledAt = eventTimeOf(polled);
    return heldAt !== undefined && polledAt !== undefined && heldAt > polledAt;
  }

  /** An app another source pushed moments ago, which the market's own record may not show yet. */
  private recentlyPushed(key: string, reconciling: SourceName): boolean {
    const row = this.apps.rows.get(key);
    if (!row || row.owner === reconciling) return false;
    const at = eventTimeOf(row.value);
    return at !== undefined && this.clock().getTime() - Date.parse(at) < RECONCILE_GRACE_MS;
  }

  /** A pushed app state: ignored when older than what is held; keeps what the event does not carry. */
  private applyAppEvent(source: SourceName, ev: AppEvent): void {
    const prev = this.apps.rows.get(ev.key);
    const heldAt = prev && eventTimeOf(prev.value);
    if (heldAt !== undefined && ev.at < heldAt) {
      this.sources.noteStaleEvent(source);
      return;
    }
    if (ev.app === null) {
      this.remove('app_states', ev.key, eventEvidence(ev), ev.at);
      return;
    }
    const merged = mergeAppEvent(prev?.value, ev.app);
    // an app the poll knows stays the poll's: its next full listing reconciles it
    this.pushed.app_states.add(this.upsert('app_states', merged, prev?.owner ?? source, eventEvidence(ev), ev.at));
  }

  /** `evidence` (and the time it gives, if any): what the timeline records when the entity moved */
  private upsert<D extends Domain>(domain: D, item: DomainEntity[D], owner: Owner, evidence = 'store', at?: string): string {
    const table = this.table(domain) as unknown as EntityTable<object>;
    const key = table.key(item);
    const prev = table.rows.get(key);
    const value = this.prepare(domain, key, item, prev?.value as DomainEntity[D] | undefined);
    if (table.upsert(value, owner) !== null) {
      this.touch(domain, key, prev?.value);
      this.recordTimeline(domain, key, value, evidence, at);
    }
    this.watchStuck(domain, key, value);
    return key;
  }

  /**
   * What the store adds to apps and tasks: an app keeps its stage_since while its stage stays the same
   * (a poll or event inside one stage does not restart the clock), and both get their stuck verdict.
   */
  private prepare<D extends Domain>(domain: D, key: string, item: DomainEntity[D], prev: DomainEntity[D] | undefined): DomainEntity[D] {
    const now = this.clock().getTime();
    if (domain === 'app_states') {
      let a = item as AppFlowState;
      const before = prev as AppFlowState | undefined;
      if (before?.stage === a.stage && before.stage_since !== undefined && a.stage_since !== before.stage_since) {
        a = { ...a, stage_since: before.stage_since };
      }
      const mark = nextProgressMark(this.progress.get(key), a, now, this.stuckLimits) ?? undefined;
      if (mark) this.progress.set(key, mark);
      else this.progress.delete(key);
      return withStuck(a, appVerdict(a, mark, now, this.stuckLimits)) as DomainEntity[D];
    }
    if (domain === 'tasks') {
      const t = item as TaskState;
      return withStuck(t, taskStuck(t, now, this.stuckLimits)) as DomainEntity[D];
    }
    return item;
  }

  private watchStuck(domain: Domain, key: string, value: object): void {
    if (domain === 'app_states') {
      if (isWatchedApp(value as AppFlowState, this.stuckLimits)) this.watched.app_states.add(key);
      else this.watched.app_states.delete(key);
    } else if (domain === 'tasks') {
      if (isWatchedTask(value as TaskState)) this.watched.tasks.add(key);
      else this.watched.tasks.delete(key);
    }
  }

  /** Time passes: flips the stuck verdict of watched apps and tasks that crossed (or left) their limit. */
  recheckStuck(): void {
    const now = this.clock().getTime();
    for (const key of this.watched.app_states.keys) {
      const row = this.apps.rows.get(key);
      if (!row) { this.watched.app_states.delete(key); continue; }
      // the reason too: stalled progress and the stage limit may come one after the other
      const verdict = appVerdict(row.value, this.progress.get(key), now, this.stuckLimits);
      if (verdict?.reason !== row.value.stuck_reason) this.upsert('app_states', row.value, row.owner);
    }
    for (const key of this.watched.tasks) {
      const row = this.tasks.rows.get(key);
      if (!row) { this.watched.tasks.delete(key); continue; }
      if (Boolean(taskStuck(row.value, now, this.stuckLimits)) !== Boolean(row.value.stuck)) this.upsert('tasks', row.value, row.owner);
    }
  }

  setStuckLimits(limits: StuckLimits): void {
    this.stuckLimits = limits;
    for (const row of [...this.apps.rows.values()]) this.upsert('app_states', row.value, row.owner);
    for (const row of [...this.tasks.rows.values()]) this.upsert('tasks', row.value, row.owner);
  }

  private touch(domain: Domain, key: string, before: object | undefined): void {
    const touched = this.touched[domain];
    if (!touched.has(key)) touched.set(key, before === undefined ? null : facetsOf(domain, before));
    this.dirty = true;
  }

  private recordTimeline(domain: Domain, key: string, value: object, evidence: string, at?: string): void {
    if (domain === 'app_states') {
      this.timelines.app_states.record(key, appEntry(value as AppFlowState, evidence, at));
    } else if (domain === 'tasks') {
      const t = value as TaskState;
      this.timelines.tasks.record(key, taskEntry(t, evidence, this.clock().toISOString()), t.created_at, taskPast(t));
    }
  }

  private remove(domain: Domain, key: string, evidence = 'store', at?: string): void {
    const prev = this.table(domain).rows.get(key);
    if (!prev || !this.table(domain).delete(key)) return;
    if (domain !== 'components') this.timelines[domain].gone(key, at ?? this.clock().toISOString(), evidence);
    if (domain !== 'components') this.watched[domain].delete(key);
    if (domain === 'app_states') this.progress.delete(key);
    this.pushed[domain].delete(key);
    this.touch(domain, key, prev.value);
  }

  /**
   * A run's outcome. Its health (ok, error, warning) is content: it mints a version only when it changes. Its
   * times and counters are freshness: kept here (the store is their only owner, so a collector thread's restart
   * loses nothing) and published apart from versions. A failing source changes the version when its error
   * changes, not on every failed attempt.
   */
  recordOutcome(source: SourceName, o: PassOutcome): void {
    const wasReady = this.sources.ready;
    const { healthChanged, status } = this.sources.record(source, o);
    if (healthChanged) this.dirty = true;
    // readiness travels with versions: the pass that completes it publishes one even if nothing else changed
    if (!wasReady && this.sources.ready) this.dirty = true;
    // one component per collector, so operators see our own health beside the market's: health only (its
    // times and counters are freshness, in …/sources); last_check stays the time its health last changed
    const component: ComponentStatus = {
      name: `collector_${source}`,
      healthy: o.ok,
      status: o.ok ? 'running' : 'error',
      last_check: o.finished_at,
      ...(o.ok ? {} : { message: status.last_error ?? undefined }),
    };
    // owned by the store, so the components collector's full listing never removes it
    this.upsert('components', component, 'self');
  }

  noteApplyTime(source: SourceName, ms: number): void {
    this.sources.noteApplyTime(source, ms);
  }

  /** Every source's health and freshness (…/sources); unversioned. */
  freshness(): Partial<Record<SourceName, SourceStatus>> {
    return this.sources.freshness();
  }

  expectSources(sources: Iterable<SourceName>): void {
    this.sources.expect(sources);
  }

  get ready(): boolean {
    return this.sources.ready;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  // ---- versions ----------------------------------------------------------------------------------

  /** Turns pending changes into a new version with its response bytes; null when nothing changed. */
  commit(): Commit | null {
    this.recheckStuck();
    if (!this.dirty) return null;
    this.version += 1;
    this.timestamp = this.clock().toISOString();
    this.content = this.digestContent();
    const changes = this.collectChanges();
    this.dirty = false;
    const version = this.version;
    const store = this;
    return {
      version,
      content: this.content,
      timestamp: this.timestamp,
      size_hint: this.apps.chars + this.tasks.chars + this.components.chars + (this.chartRepo?.json.length ?? 0),
      get body() { return store.body(version); },
      summary: { ...this.summary },
      changes,
    };
  }

  /**
   * The `/state` body of the latest committed version, rendered now (concatenation of what each entity
   * rendered when it changed). Asked for an earlier version, or with changes applied and not committed, it
   * throws: those bytes no longer exist (the actor commits before it asks).
   */
  body(version = this.version): string {
    if (version !== this.version || this.dirty) throw new Error(`the body of version ${version} is gone (the store is at ${this.version}${this.dirty ? ', with changes pending' : ''})`);
    return this.envelope(this.renderSnapshot());
  }

  /** The touched entities as they are now: upserts with JSON and facets, removals with their keys. */
  private collectChanges(): VersionChanges {
    const out: VersionChanges = { app_states: [], tasks: [], components: [] };
    for (const domain of DOMAINS) {
      const table = this.table(domain) as unknown as EntityTable<object>;
      for (const [key, before] of this.touched[domain]) {
        const row = table.rows.get(key);
        if (row) {
          const change: ChangedEntity = { key, json: table.json(key), now: facetsOf(domain, row.value) };
          if (before) change.before = before;
          out[domain].push(change);
        } else if (before) {
          out[domain].push({ key, before });
        }
      }
    }
    const chart = takeChartChanges(this.chartPending);
    if (chart) out.chart_repo = chart;
    const now = this.clock().getTime();
    const timeline: NonNullable<VersionChanges['timeline']> = { app_states: [], tasks: [] };
    for (const kind of ['app_states', 'tasks'] as const) {
      this.timelines[kind].expire(now);
      for (const [key, entries] of this.timelines[kind].take()) timeline[kind].push({ key, json: JSON.stringify(entries) });
    }
    if (timeline.app_states.length > 0 || timeline.tasks.length > 0) out.timeline = timeline;
    const health = this.sources.takeHealthChange();
    if (health !== undefined) out.sources = health;
    this.touched = emptyTouched();
    return out;
  }


  /**
   * Everything the snapshot says but its version and the times this store saw changes at (timestamp, an
   * app's last_update, a component's last_check, Chart Repo items' last_update): ETags are made from it.
   */
  private digestContent(): string {
    // 128 bits: as many as a query variant's (etag.ts)
    return digestOf([
      this.apps.digest.digest(), this.tasks.digest.digest(), this.components.digest.digest(),
      this.chartRepo?.content ?? '', JSON.stringify(this.summary), this.sources.healthJson(),
    ]).slice(0, 22);
  }

  getSummary(): RuntimeSummary {
    return { ...this.summary };
  }

  envelope(dataJson: string | null, message = OK_MESSAGE): string {
    return `{"success":true,"message":${JSON.stringify(message)},"data":${dataJson ?? 'null'}}`;
  }

  private renderSnapshot(): string {
    return this.renderParts(
      this.apps.renderObject(), this.tasks.renderObject(),
      this.chartRepo?.json, JSON.stringify(this.summary),
    );
  }

  private renderParts(apps: string, tasks: string, chartRepo: string | undefined, summary: string): string {
    return `{"timestamp":${JSON.stringify(this.timestamp)},"version":${this.version},`
      + `"app_states":${apps},"tasks":${tasks},"components":${this.components.renderObject()},`
      + (chartRepo === undefined ? '' : `"chart_repo":${chartRepo},`)
      + `"summary":${summary},"sources":${this.sources.healthJson()}}`;
  }

  // ---- queries (always answered at the last committed version: the store thread commits first) ----

  /** The snapshot narrowed by filters, with the summary recomputed over what was kept. */
  state(f: StateFilter): string {
    const appKeys = this.pick(this.apps, [
      f.stuck ? this.watched.app_states.keys : undefined,
      f.user_id === undefined ? undefined : this.byUser.apps.get(f.user_id),
      f.app_name === undefined ? undefined : this.byAppName.apps.get(f.app_name),
    ], (a) => appMatches(a, f));
    const taskKeys = this.pick(this.tasks, [
      f.stuck ? this.watched.tasks : undefined,
      f.task_status === undefined ? undefined : this.tasksByStatus.get(f.task_status),
      f.task_type === undefined ? undefined : this.tasksByType.get(f.task_type),
      f.user_id === undefined ? undefined : this.byUser.tasks.get(f.user_id),
      f.app_name === undefined ? undefined : this.byAppName.tasks.get(f.app_name),
    ], (t) => taskMatches(t, f));
    const summary = emptySummary();
    for (const k of appKeys) countApp(summary, this.apps.rows.get(k)!.value, 1);
    for (const k of taskKeys) countTask(summary, this.tasks.rows.get(k)!.value, 1);
    summary.active_components = this.summary.active_components;
    const chart = this.chartRepo && (hasChartFilter(f)
      ? JSON.stringify(filterChartRepo(this.chartRepo.value, f, this.chartRepo.origins))
      : this.chartRepo.json);
    return this.renderParts(
      this.apps.renderObject(appKeys), this.tasks.renderObject(taskKeys),
      chart ?? undefined, JSON.stringify(summary),
    );
  }

  /** Keys matching `test`, scanning the smallest applicable index (or everything when none applies). */
  private pick<T extends object>(
    table: EntityTable<T>, candidates: (ReadonlySet<string> | undefined)[], test: (v: T) => boolean,
  ): string[] {
    let best: Iterable<string> | undefined;
    let bestSize = Infinity;
    for (const c of candidates) if (c !== undefined && c.size < bestSize) { best = c; bestSize = c.size; }
    const out: string[] = [];
    for (const k of best ?? table.rows.keys()) {
      const row = table.rows.get(k);
      if (row && test(row.value)) out.push(k);
    }
    return out;
  }

  /** Whether versions carry new timeline entries (only while a stream client asked for them: they cost). */
  streamTimeline(on: boolean): void {
    for (const t of Object.values(this.timelines)) {
      t.listening = on;
      if (!on) t.take();
    }
  }

  /** What the store saw happen to one app or task (kept a while after it left the view), or null. */
  history(kind: TimelineKind, key: string): string | null {
    const h = this.timelines[kind].get(key);
    return h ? JSON.stringify({ key, ...h }) : null;
  }

  app(user_id: string, source_id: string, app_name: string): string | null {
    return this.apps.json(appKey({ user_id, source_id, app_name })) ?? null;
  }

  task(task_id: string): string | null {
    return this.tasks.json(task_id) ?? null;
  }

  /** Tasks of an app (and optionally of one user): a JSON array. */
  tasksBy(f: { app_name?: string; user_id?: string }): string {
    const keys = this.pick(this.tasks, [
      f.app_name === undefined ? undefined : this.byAppName.tasks.get(f.app_name),
      f.user_id === undefined ? undefined : this.byUser.tasks.get(f.user_id),
    ], (t) => taskMatches(t, f));
    return jsonArray(this.tasks, keys);
  }

  appsByUser(user_id: string): string {
    return jsonArray(this.apps, [...this.byUser.apps.get(user_id)]);
  }

  /**
   * One page of apps in key order (…/apps): the first `limit` apps matching `f` whose key sorts after `after`,
   * at this version, and how many match in all. It walks, from `after` on, the smallest ordered list that holds
   * every match (all apps, one user's, one name's, the watched ones when only stuck apps are asked for): a
   * binary search, then about `limit` keys when the filter is that list's own.
   */
  appsPage(f: AppFilter, limit: number, after: string | null, withChart = false): string {
    const ordered = this.smallest([
      f.user_id === undefined ? undefined : this.byUser.apps.ordered(f.user_id),
      f.app_name === undefined ? undefined : this.byAppName.apps.ordered(f.app_name),
      f.stuck ? this.watched.app_states : undefined,
    ]).sorted();
    const keys: string[] = [];
    let more = false;
    for (let i = after === null ? 0 : firstAfter(ordered, after); i < ordered.length; i++) {
      const row = this.apps.rows.get(ordered[i]!);
      if (!row || !appMatches(row.value, f)) continue;
      // one match past the page: there is a next page
      if (keys.length === limit) { more = true; break; }
      keys.push(ordered[i]!);
    }
    const cursor = more ? JSON.stringify(encodeCursor(keys[keys.length - 1]!)) : 'null';
    const chart = withChart ? `,"chart_repo":${this.chartOf(keys)}` : '';
    return `{"version":${this.version},"total":${this.countApps(f)},"items":${jsonArray(this.apps, keys)},"next_cursor":${cursor}${chart}}`;
  }

  /**
   * The Chart Repo items of these apps (keys user:source:app): its app entries and hydrator tasks, current and
   * recently failed. A lookup per key for the apps; a walk over the hydrator's lists, which hold its queue only.
   */
  private chartOf(keys: readonly string[]): string {
    const apps: string[] = [];
    const tasks: string[] = [];
    if (this.chartRepo) {
      const items = this.chartRepo.index.lists.apps;
      for (const k of keys) {
        const item = items.get(k);
        if (item) apps.push(item.json);
      }
      const wanted = new Set(keys);
      const h = this.chartRepo.value.tasks?.hydrator;
      for (const t of [...h?.tasks ?? [], ...h?.recent_failed ?? []]) {
        if (wanted.has(`${t.user_id}:${t.source_id}:${t.app_name}`)) tasks.push(JSON.stringify(t));
      }
    }
    return `{"apps":[${apps.join(',')}],"hydrator_tasks":[${tasks.join(',')}]}`;
  }

  /**
   * The snapshot without its lists that grow with the market (…/overview): no app_states, and chart_repo
   * without its apps and images, whose numbers per state and status are in `chart_repo_counts`. What a
   * dashboard shows beside a page of apps; one walk over the Chart Repo lists per version (the HTTP thread
   * keeps the answer per version).
   */
  overview(): string {
    let chart = '';
    const counts = { apps: {} as Record<string, number>, images: {} as Record<string, number> };
    if (this.chartRepo) {
      const { apps, images, ...frame } = this.chartRepo.value;
      for (const a of apps ?? []) counts.apps[a.state] = (counts.apps[a.state] ?? 0) + 1;
      for (const i of images ?? []) counts.images[i.status] = (counts.images[i.status] ?? 0) + 1;
      chart = `"chart_repo":${JSON.stringify(frame)},`;
    }
    return `{"timestamp":${JSON.stringify(this.timestamp)},"version":${this.version},`
      + `"tasks":${this.tasks.renderObject()},"components":${this.components.renderObject()},${chart}`
      + `"chart_repo_counts":${JSON.stringify(counts)},"summary":${JSON.stringify(this.summary)},"sources":${this.sources.healthJson()}}`;
  }

  /** the smallest of these ordered app lists, or every app */
  private smallest(lists: (SortedKeys | undefined)[]): SortedKeys {
    let best = this.appOrder;
    for (const l of lists) if (l !== undefined && l.size < best.size) best = l;
    return best;
  }

  /** How many apps match: an index's size when the filter is just that index, else a count over the smallest. */
  private countApps(f: AppFilter): number {
    const given = (Object.keys(f) as (keyof AppFilter)[]).filter((k) => f[k] !== undefined);
    if (given.length === 0) return this.apps.size;
    if (given.length === 1 && f.user_id !== undefined) return this.byUser.apps.get(f.user_id).size;
    if (given.length === 1 && f.app_name !== undefined) return this.byAppName.apps.get(f.app_name).size;
    return this.pick(this.apps, [
      f.stuck ? this.watched.app_states.keys : undefined,
      f.user_id === undefined ? undefined : this.byUser.apps.get(f.user_id),
      f.app_name === undefined ? undefined : this.byAppName.apps.get(f.app_name),
    ], (a) => appMatches(a, f)).length;
  }
}

function jsonArray<T extends object>(table: EntityTable<T>, keys: string[]): string {
  // the JSON rendered when each entity changed, not a second stringify per query
  return '[' + keys.map((k) => table.json(k)!).join(',') + ']';
}

/** A component whose content is unchanged keeps its last_check: the time its content last changed (docs/api.md, Compatibility). */
function carryLastCheck(prev: ComponentStatus, next: ComponentStatus): ComponentStatus {
  return next.last_check === prev.last_check ? next : { ...next, last_check: prev.last_check };
}


/** An app whose content is unchanged keeps its last_update: it says when content changed, not when polled. */
function carryLastUpdate(prev: AppFlowState, next: AppFlowState): AppFlowState {
  return next.last_update === prev.last_update ? next : { ...next, last_update: prev.last_update };
}
