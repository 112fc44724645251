import { deserialize, serialize } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import { blockFor, Comlink, expose } from '../threads.ts';
import type {
  AppliedMessage, BodyAnswer, FreshnessMessage, HeldCopy, PassOutcome, QueryAnswer, SourceName, StateFilter, StoreControlApi, StoreMessage, StoreQueryApi, StoreStep,
  ThreadMemory, VersionMessage,
} from '../protocol.ts';
import { envelopePrefix, OK_MESSAGE, SOURCE_NAMES, type SourceStatus } from '../model/index.ts';
import { HeapBound, releaseMemory, releaseSmallHeap } from '../release-memory.ts';
import { CommitPacing } from './commit-pacing.ts';
import { StoreMetrics } from './metrics.ts';
import { passProblem } from './pass-check.ts';
import { RuntimeStore, type Commit } from './runtime-store.ts';
import { runInTurns } from './turns.ts';
import { utf8Of } from './utf8-answer.ts';
import type { StuckClock, StuckLimits } from './stuck.ts';

export interface StoreActorOptions {
  /** shortest time between two versions: a burst of messages inside it becomes one version */
  minCommitIntervalMs?: number;
  clock?: () => Date;
}

/**
 * The store thread: owns one RuntimeStore, applies every delta message as it arrives (one message = one
 * atomic step), and coalesces what arrived into versions. Each version is announced to every HTTP thread (its
 * digest, summary and changes); its /state body is built once, when an HTTP thread first asks for it. Queries
 * commit pending changes first, so every answer is a published version.
 */
export class StoreActor implements StoreControlApi {
  readonly store: RuntimeStore;
  readonly metrics: StoreMetrics;
  private readonly versionPorts = new Set<MessagePort>();
  /** malformed passes dropped, per source (its counters: dropped_passes) */
  private readonly droppedPasses = new Map<string, number>();
  private readonly heap = new HeapBound();
  private last: Commit | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** the supervisor's whenReady calls, answered at the first flush that finds the store ready */
  private readonly readyWaiters: Array<() => void> = [];
  private lastCommitAt = 0;
  private readonly pacing: CommitPacing;

  constructor(opts: StoreActorOptions = {}) {
    this.store = new RuntimeStore(opts.clock);
    this.metrics = new StoreMetrics(this.store);
    this.pacing = new CommitPacing(opts.minCommitIntervalMs ?? 10);
  }

  /** Applies one message; answers its acknowledgement. */
  receive(msg: StoreMessage): AppliedMessage {
    return this.applyOrDrop(msg, passProblem(msg) ?? this.store.unappliable(msg));
  }

  /**
   * receive(), with the costly part of a pass worked out first in turns (RuntimeStore.prepare) while queries are
   * answered from the last version; then the pass is applied whole, at the cost of taking what was worked out.
   */
  async receiveInTurns(msg: StoreMessage): Promise<AppliedMessage> {
    const problem = passProblem(msg);
    const work = problem === null && this.store.unappliable(msg) === null ? this.store.prepare(msg) : null;
    if (work) await runInTurns(work);
    // (what changed in between, a restored copy, say, is checked again: the plan itself is checked when taken)
    return this.applyOrDrop(msg, problem ?? this.store.unappliable(msg));
  }

  private applyOrDrop(msg: StoreMessage, problem: string | null): AppliedMessage {
    const applied: AppliedMessage = { type: 'applied', seq: msg?.seq };
    if (problem !== null) {
      // nothing of it is applied; the source shows why, and its known data stays
      const source = SOURCE_NAMES.includes(msg?.source) ? msg.source : null;
      if (source) {
        const dropped = (this.droppedPasses.get(source) ?? 0) + 1;
        this.droppedPasses.set(source, dropped);
        this.store.dropped(source);
        this.store.recordOutcome(source, {
          ok: false, error: `malformed pass dropped: ${problem}`, duration_ms: 0, finished_at: new Date().toISOString(),
          counters: { dropped_passes: dropped },
        });
        this.schedule();
      }
      // the collector learns it: a collector that sends only changes lists everything again
      applied.dropped = true;
      return applied;
    }
    const started = performance.now();
    const reread = this.store.apply(msg);
    if (reread.length > 0) applied.reread = reread;
    if (msg.outcome) this.store.noteApplyTime(msg.source, performance.now() - started);
    if (msg.outcome) this.metrics.observe(msg.source, msg.outcome);
    // a stuck verdict flips with time alone: each pass is the moment to look (a quiet pass mints no version)
    if (msg.outcome) this.store.recheckStuck();
    if (msg.bulk) {
      // what the pass replaced is garbage now: committed first, then collected while the heap is small enough
      // that readers barely wait for it (release-memory.ts)
      this.flush();
      releaseSmallHeap();
    } else if (performance.now() - this.lastCommitAt > 2 * this.interval()) {
      // under a flood of messages timers may starve: past twice the commit interval, commit right here
      this.flush();
    } else {
      this.schedule();
    }
    return applied;
  }

  heldOf(source: SourceName, unlessMark?: number): HeldCopy | null {
    this.flush();
    const mark = this.store.heldMark(source);
    if (mark === unlessMark) return null;
    const steps = this.store.heldOf(source);
    if (steps.length === 0) return { mark, bytes: null };
    const bytes = serialize(steps);
    // (a small Buffer can be a view on a shared pool: only its own bytes cross)
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? bytes.buffer as ArrayBuffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return Comlink.transfer({ mark, bytes: own }, [own]);
  }

  restoreHeld(source: SourceName, held: ArrayBuffer): boolean {
    let steps: unknown;
    try {
      steps = deserialize(new Uint8Array(held));
    } catch {
      return false;
    }
    const msg = { type: 'pass', seq: 0, source, steps };
    if (passProblem(msg) !== null) return false;
    if (!this.store.restoreHeld(source, steps as StoreStep[])) return false;
    this.flush();
    releaseMemory();
    return true;
  }

  attachDeltaPort(port: MessagePort): void {
    port.on('message', (msg: StoreMessage) => {
      // one message at a time, in the order they came: the next waits while one is worked out in turns
      this.deltas = this.deltas.then(() => this.receiveInTurns(msg)).then((ack) => port.postMessage(ack)).catch((err: unknown) => {
        // a message that cannot be applied is a crash, as it would be outside a promise: the supervisor replaces the store
        process.nextTick(() => { throw err; });
      });
    });
    port.unref();
  }

  /** the delta messages' queue (attachDeltaPort) */
  private deltas: Promise<void> = Promise.resolve();

  attachQueryPort(port: MessagePort): void {
    expose(this.queryApi, port);
  }

  attachVersionPort(port: MessagePort): void {
    this.versionPorts.add(port);
    port.on('close', () => this.versionPorts.delete(port));
    // a (re)started HTTP thread serves the current version at once
    this.flush();
    if (this.last) this.push(port, this.last);
    port.postMessage(this.freshnessMessage());
  }

  private freshnessMessage(): FreshnessMessage {
    const sources = this.store.freshness();
    let oldest: string | null = null;
    let complete = true;
    for (const name of this.store.sources.expectedSources) {
      const at = sources[name]?.last_success;
      if (!at) complete = false;
      else if (oldest === null || at < oldest) oldest = at;
    }
    return { type: 'freshness', epoch: this.store.epoch, sources: JSON.stringify(sources), fresh_as_of: complete ? oldest : null };
  }

  expectSources(
    sources: SourceName[], intervalMs?: number, rebuildGraceMs?: number, known?: Partial<Record<SourceName, SourceStatus>>, maxIntervalMs?: number,
  ): void {
    this.store.expectSources(sources, intervalMs, rebuildGraceMs, known, maxIntervalMs);
    this.metrics.expect(sources, intervalMs);
    this.schedule();
  }

  setStuckLimits(limits: StuckLimits): void {
    this.store.setStuckLimits(limits);
    this.schedule();
  }

  reportOutcome(source: SourceName, outcome: PassOutcome): void {
    this.store.recordOutcome(source, outcome);
    this.metrics.observe(source, outcome);
    this.store.recheckStuck();
    this.schedule();
  }

  stuckClocks(all: boolean): [string, StuckClock | null][] {
    return this.store.takeStuckClocks(all);
  }

  restoreStuckClocks(clocks: [string, StuckClock][]): void {
    this.store.restoreStuckClocks(clocks);
  }

  reportThreadMemory(thread: string, memory: ThreadMemory): void {
    this.metrics.threads.report(thread, memory);
  }

  hang(ms: number): void {
    blockFor(ms);
  }

  /** Resolves once this store is ready (a pass of every collector): the supervisor then knows the restart took. */
  whenReady(): Promise<true> {
    this.flush();
    if (this.store.ready) return Promise.resolve(true);
    return new Promise((resolve) => this.readyWaiters.push(() => resolve(true)));
  }

  ping(): { epoch: string; version: number; ready: boolean } {
    this.flush();
    return { epoch: this.store.epoch, version: this.store.version, ready: this.store.ready };
  }

  /** Commits now if anything is pending. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const started = performance.now();
    const commit = this.store.commit();
    if (this.readyWaiters.length > 0 && this.store.ready) for (const resolve of this.readyWaiters.splice(0)) resolve();
    if (this.store.sources.takeFreshnessMoved()) {
      const fresh = this.freshnessMessage();
      for (const port of this.versionPorts) port.postMessage(fresh);
    }
    if (!commit) return;
    this.last = commit;
    this.lastCommitAt = performance.now();
    this.pacing.noteCost(this.lastCommitAt - started);
    for (const port of this.versionPorts) this.push(port, commit);
    // what the commit replaced is garbage now; a small store collects it (release-memory.ts HeapBound)
    this.heap.check();
  }

  private schedule(): void {
    if (this.timer || !(this.store.isDirty || this.store.sources.hasFreshness)) return;
    const wait = Math.max(0, this.lastCommitAt + this.interval() - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  private interval(): number {
    return this.pacing.intervalMs();
  }

  private push(port: MessagePort, c: Commit): void {
    const msg: VersionMessage = {
      type: 'version', epoch: this.store.epoch, version: c.version, content: c.content, timestamp: c.timestamp,
      ready: this.store.ready, summary: c.summary, size_hint: c.size_hint, changes: c.changes,
    };
    port.postMessage(msg);
  }

  /**
   * The latest version's body, rendered now: its pieces encoded one by one straight into a fresh ArrayBuffer
   * that is transferred, not copied (no string of the whole body is ever made).
   */
  private body(): BodyAnswer {
    this.flush();
    const body = utf8Of(this.store.bodyParts());
    return Comlink.transfer({ version: this.store.version, content: this.store.content, body }, [body]);
  }

  /** A filtered /state, written the same way as the body, envelope and all (QueryAnswer.json). */
  private state(f: StateFilter): QueryAnswer {
    this.flush();
    const out = [envelopePrefix(true, OK_MESSAGE)];
    const content = this.store.stateInto(out, f);
    out.push('}');
    const json = utf8Of(out);
    return Comlink.transfer(this.ownAnswer(json, content), [json]);
  }

  /** `ownFrom`: where the JSON its ETag names starts (QueryAnswer.own_from); undefined: the content digest names it */
  private answer(json: string | ArrayBuffer | null, ownFrom?: number): QueryAnswer {
    const a: QueryAnswer = { version: this.store.version, content: this.store.content, json };
    if (json !== null && ownFrom !== undefined) a.own_from = ownFrom;
    return a;
  }

  /** An answer named by what it says (QueryAnswer.own_content); null content: the version's digest. */
  private ownAnswer(json: string | ArrayBuffer | null, content: string | null): QueryAnswer {
    const a = this.answer(json);
    if (json !== null && content !== null) a.own_content = content;
    return a;
  }

  readonly queryApi: StoreQueryApi = {
    body: () => this.body(),
    state: (f: StateFilter) => this.state(f),
    app: (u, s, a) => (this.flush(), this.ownAnswer(this.store.app(u, s, a), this.store.appContent(u, s, a))),
    task: (id) => (this.flush(), this.answer(this.store.task(id), 0)),
    tasks: (f) => (this.flush(), this.answer(this.store.tasksBy(f), 0)),
    appsByUser: (u) => (this.flush(), this.ownAnswer(this.store.appsByUser(u), this.store.appsByUserContent(u))),
    // a page with the Chart Repo's items carries their last_update (this store's): named by the content digest
    appsPage: (f, limit, after, withChart) => {
      this.flush();
      const page = this.store.appsPageWithContent(f, limit, after, withChart ?? false);
      return this.ownAnswer(page.json, page.content);
    },
    // (named by the version's content: the dashboards read it to learn whether the version they show is the latest)
    overview: () => (this.flush(), this.answer(this.store.overview())),
    history: (kind, key) => (this.flush(), this.answer(this.store.history(kind, key), 0)),
    tasksByUser: (u) => (this.flush(), this.answer(this.store.tasksBy({ user_id: u }), 0)),
    ping: () => this.ping(),
    metrics: () => (this.flush(), this.metrics.sample()),
  };
}
