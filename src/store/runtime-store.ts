import { randomUUID } from 'node:crypto';
import {
  envelopePrefix, OK_MESSAGE, type RuntimeSummary, type SourceName, type SourceStatus,
} from '../model/index.ts';
import { changesBytes, MAX_CHANGE_BYTES, timelineBytes, type AppFilter, type PassMessage, type PassOutcome, type StateFilter, type StoreStep, type VersionChanges } from '../protocol.ts';
import { ChangeLog } from './change-log.ts';
import { ChartRepoView } from './chart-repo-view.ts';
import { EntityTimelines } from './entity-timelines.ts';
import { EntityWriter } from './entity-writer.ts';
import { heldMark, heldSteps } from './held-source.ts';
import { PassApplier } from './pass-applier.ts';
import { SnapshotRenderer } from './snapshot-render.ts';
import { collectorComponent, SourceBook } from './source-book.ts';
import { StoreQueries } from './store-queries.ts';
import { StoreTables } from './store-tables.ts';
import { StuckWatch } from './stuck-watch.ts';
import type { StuckClock, StuckLimits } from './stuck.ts';
import type { TimelineKind } from './timeline.ts';
import type { Turns } from './turns.ts';

/** The timeline's evidence for entities a new store took from the one before it (restoreHeld). */
const HELD_EVIDENCE = 'kept from the store before a restart (source down)';

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

/**
 * The runtime state machine: the only owner of runtime state, pure and synchronous (the store thread
 * wraps it). Every message is applied whole; `commit()` turns what changed into a new version. It composes
 * the parts: tables and indexes, reconciliation of passes, stuck timing, timelines, change tracking,
 * rendering and queries.
 */
export class RuntimeStore {
  readonly epoch = randomUUID().slice(0, 8);
  version = 0;
  /** the content digest of the last committed version (Commit.content) */
  content = '';
  timestamp: string;
  /** each collector's health (content) and freshness, and readiness */
  readonly sources = new SourceBook();
  private readonly tables = new StoreTables();
  readonly components = this.tables.components;
  /** the tables' indexes and counts (read by the metrics) */
  readonly indexes: Pick<StoreTables, 'appsByStage' | 'appsByHealth' | 'tasksByStatus' | 'tasksByType'> = this.tables;
  private readonly chartRepo = new ChartRepoView();
  private readonly changes = new ChangeLog();
  private readonly stuck = new StuckWatch();
  private readonly timelines: EntityTimelines;
  private readonly writer: EntityWriter;
  private readonly passes: PassApplier;
  private readonly snapshot: SnapshotRenderer;
  private readonly queries: StoreQueries;
  /** the sources whose passes reached this store (a restored listing must not overwrite one: restoreHeld) */
  private readonly passesFrom = new Set<SourceName>();

  constructor(private readonly clock: () => Date = () => new Date()) {
    this.timestamp = clock().toISOString();
    this.timelines = new EntityTimelines(this.timestamp, clock);
    this.writer = new EntityWriter(this.tables, this.stuck, this.timelines, this.changes, clock);
    this.passes = new PassApplier(this.tables, this.writer, this.chartRepo, this.changes, this.sources, clock);
    this.snapshot = new SnapshotRenderer(this, this.tables, this.chartRepo, this.sources);
    this.queries = new StoreQueries(this, this.tables, this.stuck, this.chartRepo, this.snapshot);
  }

  // ---- writes ------------------------------------------------------------------------------------

  /**
   * Why this store cannot apply the pass (it lacks the listing a `changes` step changes, or items a replace step
   * sent ahead), or null.
   */
  unappliable(msg: PassMessage): string | null {
    return this.passes.unappliable(msg.source, msg.steps);
  }

  /** A pass of this source was dropped unapplied: what it sent ahead is dropped with it. */
  dropped(source: SourceName): void {
    this.passes.dropped(source);
  }

  /**
   * Applies one collection pass whole, then records its outcome. Answers the keys its listings kept that the
   * store cannot vouch for (AppliedMessage.reread).
   */
  apply(msg: PassMessage): string[] {
    this.passesFrom.add(msg.source);
    const reread = this.passes.apply(msg.source, msg.steps);
    if (msg.outcome) this.recordOutcome(msg.source, msg.outcome);
    return reread;
  }

  /**
   * The costly part of applying the pass worked out ahead without changing what readers see (a Chart Repo pass:
   * its pairs and how the item index changes), as work cut into turns; null when there is none. apply() takes
   * what was worked out if nothing was written since, or works it out again.
   */
  prepare(msg: PassMessage): Turns<void> | null {
    const step = msg.steps.find((s) => s.op === 'chart_repo_pairs');
    return step?.op === 'chart_repo_pairs' ? this.chartRepo.prepare(step) : null;
  }

  /** What this store holds of `source`, as the steps that give it to another store (held-source.ts). */
  heldOf(source: SourceName): StoreStep[] {
    return heldSteps(source, this.tables, this.chartRepo);
  }

  /** Moves whenever what heldOf(source) gives changes, pushed app events included; equal marks, equal copies. */
  heldMark(source: SourceName): number {
    return heldMark(source, this.tables, this.chartRepo);
  }

  /**
   * What a dead store held of `source` (its heldOf), the source having been down since: applied as the source's
   * listing, its timeline entries saying so. Refused (false) once a pass of the source reached this store: that
   * is newer.
   */
  restoreHeld(source: SourceName, steps: StoreStep[]): boolean {
    if (this.passesFrom.has(source)) return false;
    this.passes.apply(source, steps, HELD_EVIDENCE);
    return true;
  }

  /**
   * A run's outcome. Its health (ok, error, warning) is content: it mints a version only when it changes. Its
   * times and counters are freshness: kept here (the store is their only owner, so a collector thread's restart
   * loses nothing) and published apart from versions. A failing source changes the version when its error
   * changes, not on every failed attempt.
   */
  recordOutcome(source: SourceName, o: PassOutcome): void {
    const wasReady = this.sources.ready;
    const { healthChanged, status } = this.sources.record(source, o, this.clock().getTime());
    // readiness travels with versions: the pass that completes it publishes one even if nothing else changed
    if (healthChanged || (!wasReady && this.sources.ready)) this.changes.dirty = true;
    // owned by the store, so the components collector's full listing never removes it
    this.writer.upsert('components', collectorComponent(source, o, status), 'self');
  }

  /** What this store knows of apps' stuck clocks that the rows do not say (StuckWatch.takeClocks). */
  takeStuckClocks(all = false): [string, StuckClock | null][] {
    return this.stuck.takeClocks(all);
  }

  /** A dead store's stuck clocks, given before any pass reaches this one (StuckWatch.restoreClocks). */
  restoreStuckClocks(clocks: [string, StuckClock][]): void {
    this.stuck.restoreClocks(clocks);
  }

  /** Time passes: flips the stuck verdict of watched apps and tasks that crossed (or left) their limit. */
  recheckStuck(): void {
    this.writer.recheckStuck();
  }


  setStuckLimits(limits: StuckLimits): void {
    this.writer.setStuckLimits(limits);
  }

  noteApplyTime(source: SourceName, ms: number): void {
    this.sources.noteApplyTime(source, ms);
  }

  /** Every source's health and freshness (…/sources); unversioned. */
  freshness(): Partial<Record<SourceName, SourceStatus>> {
    return this.sources.freshness();
  }

  /**
   * Whom readiness waits for, and the configured collection interval (a slower source gets a warning).
   * `rebuildGraceMs`: this store replaces one that died; a source is ready with its first good pass, or once it
   * has failed 3 runs in a row or this long has passed (SourceBook.rebuild).
   */
  expectSources(
    sources: Iterable<SourceName>, intervalMs?: number, rebuildGraceMs?: number, known?: Partial<Record<SourceName, SourceStatus>>,
    maxIntervalMs?: number,
  ): void {
    this.sources.expect(sources, intervalMs, maxIntervalMs);
    if (known) this.sources.restore(known);
    if (rebuildGraceMs !== undefined) this.sources.rebuild(rebuildGraceMs, this.clock().getTime());
  }

  get ready(): boolean {
    return this.sources.ready;
  }

  get isDirty(): boolean {
    return this.changes.dirty;
  }

  // ---- versions ----------------------------------------------------------------------------------

  /**
   * Turns pending changes into a new version; null when nothing changed. Runs on every flush of the actor (after
   * each pass, before each query, on each watchdog ping), so it is also where time passes on a quiet market.
   */
  commit(): Commit | null {
    // a dead store's clock of an app this store has not seen by the time it is ready is of an app gone
    if (this.sources.ready) this.stuck.dropRestored();
    this.recheckStuck();
    // departed histories past their time go whether or not anything changed: a history is no part of a version
    this.timelines.expire();
    if (!this.changes.dirty) return null;
    this.version += 1;
    this.timestamp = this.clock().toISOString();
    this.content = this.snapshot.digest();
    const changes = this.takeChanges();
    const version = this.version;
    const store = this;
    return {
      version,
      content: this.content,
      timestamp: this.timestamp,
      size_hint: this.snapshot.sizeHint(),
      get body() { return store.body(version); },
      summary: { ...this.tables.summary },
      changes,
    };
  }

  /** Everything the new version changed, as the change stream sends it. */
  private takeChanges(): VersionChanges {
    const out = this.changes.take(this.tables);
    const chart = this.chartRepo.takeChanges();
    if (chart) out.chart_repo = chart;
    const health = this.sources.takeHealthChange();
    if (health !== undefined) out.sources = health;
    const timeline = this.timelines.take();
    const bytes = changesBytes(out);
    if (bytes > MAX_CHANGE_BYTES) {
      return { app_states: [], tasks: [], components: [], ...(health === undefined ? {} : { sources: health }), oversize: true };
    }
    // timeline entries ride along only where they fit: they never make a version too large to follow item by
    // item. Left out, the version says how many per key (the stream's `timeline_omitted`: read …/history)
    if (timeline) {
      if (bytes + timelineBytes(timeline) <= MAX_CHANGE_BYTES) out.timeline = timeline;
      else out.timeline_omitted = omittedEntries(timeline);
    }
    return out;
  }

  /**
   * The `/state` body of the latest committed version, rendered now (concatenation of what each entity
   * rendered when it changed). Asked for an earlier version, or with changes applied and not committed, it
   * throws: those bytes no longer exist (the actor commits before it asks).
   */
  body(version = this.version): string {
    return this.bodyParts(version).join('');
  }

  /** body() as the pieces it is concatenated from (the actor writes them into the body's buffer one by one). */
  bodyParts(version = this.version): string[] {
    const dirty = this.changes.dirty;
    if (version !== this.version || dirty) throw new Error(`the body of version ${version} is gone (the store is at ${this.version}${dirty ? ', with changes pending' : ''})`);
    const out = [envelopePrefix(true, OK_MESSAGE)];
    this.snapshot.wholeInto(out);
    out.push('}');
    return out;
  }

  getSummary(): RuntimeSummary {
    return { ...this.tables.summary };
  }

  // ---- queries (always answered at the last committed version: the store thread commits first) ----

  /** The snapshot narrowed by filters, with the summary recomputed over what was kept. */
  state(f: StateFilter): string {
    return this.queries.state(f);
  }

  /** state(f) as pieces appended to `out`, and what it says for its ETag (StoreQueries.stateInto). */
  stateInto(out: string[], f: StateFilter): string {
    return this.queries.stateInto(out, f);
  }

  /** What the store saw happen to one app or task (kept a while after it left the view), or null. */
  history(kind: TimelineKind, key: string): string | null {
    return this.timelines.history(kind, key);
  }

  /** How many timeline entries each kind holds (market_runtime_timeline_entries). */
  timelineEntries(): Record<TimelineKind, number> {
    const e = this.timelines.entries();
    return { app_states: e.app_states.entries, tasks: e.tasks.entries };
  }

  app(user_id: string, source_id: string, app_name: string): string | null {
    return this.queries.app(user_id, source_id, app_name);
  }

  /** What app() says, for its ETag: the same on every store that holds the same row (QueryAnswer.own_content). */
  appContent(user_id: string, source_id: string, app_name: string): string {
    return this.queries.appContent(user_id, source_id, app_name);
  }

  task(task_id: string): string | null {
    return this.queries.task(task_id);
  }

  /** Tasks of an app (and optionally of one user): a JSON array. */
  tasksBy(f: { app_name?: string; user_id?: string }): string {
    return this.queries.tasksBy(f);
  }

  appsByUser(user_id: string): string {
    return this.queries.appsByUser(user_id);
  }

  appsByUserContent(user_id: string): string {
    return this.queries.appsByUserContent(user_id);
  }

  /** One page of apps in key order (…/apps), with the page's Chart Repo items when asked: StoreQueries.appsPage. */
  appsPage(f: AppFilter, limit: number, after: string | null, withChart = false): string {
    return this.queries.appsPage(f, limit, after, withChart);
  }

  /** appsPage() and, without the Chart Repo's items, what it says for its ETag: StoreQueries.appsPageWithContent. */
  appsPageWithContent(f: AppFilter, limit: number, after: string | null, withChart: boolean): { json: string; content: string | null } {
    return this.queries.appsPageWithContent(f, limit, after, withChart);
  }

  /** The snapshot without the lists that grow with the market (…/overview): SnapshotRenderer.overview. */
  overview(): string {
    return this.snapshot.overview();
  }
}

/** How many timeline entries each key of a version's timeline holds (its json is an array of them). */
function omittedEntries(t: NonNullable<VersionChanges['timeline']>): NonNullable<VersionChanges['timeline_omitted']> {
  const count = (list: { key: string; json: string }[]) => list.map(({ key, json }) => ({ key, n: (JSON.parse(json) as unknown[]).length }));
  return { app_states: count(t.app_states), tasks: count(t.tasks) };
}
