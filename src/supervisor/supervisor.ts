import { MessageChannel, Worker, type ResourceLimits } from 'node:worker_threads';
import type {
  CollectorSpec, HeldGauges, HttpControlApi, HttpSecurityConfig, HttpThreadInit, StoreControlApi, SupervisorLinkMessage, ThreadRestart, ThreadRestarts,
} from '../protocol.ts';
import { CALL_DEADLINE_MS, CallDeadlineError, callWithDeadline, Comlink, exitOf, THREAD_START_DEADLINE_MS, threadFile, wrap, type ThreadKind } from '../threads.ts';
import type { Logger } from '../log.ts';
import { threadInit } from '../log-thread.ts';
import { answerCacheBytes, collectorLimits, containerMemoryLimit, threadLimits } from '../thread-limits.ts';
import { threadMemory } from '../thread-memory.ts';
import { CollectorHandle, reportMemory } from './collector-handle.ts';
import { startChaosControl } from './chaos-control.ts';
import { Watchdog } from './watchdog.ts';
import { CollectorPacing } from './collector-pacing.ts';
import { FullPassGate } from './full-pass-gate.ts';
import { HeldWhileDown } from './held-while-down.ts';
import { StuckClocks, TAKE_EVERY_MS } from './stuck-clocks.ts';
import type { Server } from 'node:http';
import { SourceBook } from '../store/source-book.ts';
import type { StuckLimits } from '../store/stuck.ts';

export interface SupervisorOptions {
  port: number;
  host: string;
  collectIntervalMs: number;
  /** the collectors read the embedded demo market (the dashboards say so) */
  demo?: boolean;
  /** slow passes space out up to this (collector-pacing.ts); default: collectIntervalMs (no backing off) */
  collectMaxIntervalMs?: number;
  collectDeadlineMs: number;
  shutdownTimeoutMs: number;
  /** when apps and tasks count as stuck (store defaults when absent) */
  stuckLimits?: StuckLimits;
  collectors: CollectorSpec[];
  log: Logger;
  /** token, /metrics protection, CORS: handed to the HTTP thread at listen time */
  security?: HttpSecurityConfig;
  /**
   * Heap limits per thread kind: a thread past its limit dies alone (ERR_WORKER_OUT_OF_MEMORY) and is
   * replaced and counted like any other death, instead of the whole process being OOM-killed.
   */
  resourceLimits?: Partial<Record<ThreadKind, ResourceLimits>>;
  /** the whole process's memory (MEMORY_LIMIT_MB): every thread's heap limit is a share of it (thread-limits.ts) */
  memoryLimitBytes?: number;
  /** chaos testing only: loopback port of the kill control (chaos-control.ts) */
  chaosPort?: number;
  /** a store or HTTP thread that answers no ping for this long is replaced (default: HUNG_AFTER_MS) */
  threadHungAfterMs?: number;
}

type MessagePort = import('node:worker_threads').MessagePort;

const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
/**
 * A thread that answers no ping this long is hung. The store's bound is far beyond any pass it applies at 50,000
 * apps; the HTTP thread never does work that long between two turns of its loop (bodies are bytes, compression
 * has its own threads), and while it hangs nothing answers, `/readyz` included: it is replaced sooner.
 */
const HUNG_AFTER_MS = { store: 30_000, http: 10_000 } as const;
/**
 * a thread that lived this long before dying starts its restart delay from the beginning again; so does one
 * that proved itself (a store that became ready, an HTTP thread that listens): its death is not a start-up
 * crash, and a doubled delay would keep /readyz down past any liveness bound after a few kills in a row
 */
const STABLE_AFTER_MS = 60_000;
/**
 * A restarted store is ready once every collector's first good pass reached it; a source whose runs fail counts
 * after 3 of them in a row (store/source-book.ts REBUILD_FAILURES) or this many collection deadlines, whichever
 * comes first (by then every full pass has had its turn at the gate and its own deadline).
 */
const REBUILD_GRACE_DEADLINES = 2;
/** a store that did not take the HTTP thread's ports within the call deadline is asked again this much later */
const ATTACH_RETRY_MS = 1000;
/** How long the HTTP thread is given to end itself (Supervisor.end) before it counts as hung and is terminated. */
const DROP_GRACE_MS = 1000;

/**
 * The main thread's only job: start the store, the collectors and the HTTP thread, wire their ports,
 * schedule collection, restart a thread that dies, and stop everything in order.
 */
export class Supervisor {
  private storeWorker!: Worker;
  /** each store thread's number, 1, 2, … in the order they start (store_down and attachStore name it) */
  private readonly storeNumbers = new WeakMap<Worker, number>();
  private storesStarted = 0;
  private store!: Comlink.Remote<StoreControlApi>;
  private httpWorker!: Worker;
  private http!: Comlink.Remote<HttpControlApi>;
  private readonly handles: CollectorHandle[];
  private timer: NodeJS.Timeout | null = null;
  private clocksTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** the port actually bound (PORT=0 picks a free one) */
  port = 0;
  /** replacements of the threads this object starts itself (collectors count their own) */
  private readonly restarts = { store: 0, http: 0, compress: 0 };
  /** the last replacement of each of those threads: when, and why when known (collectors keep their own) */
  private readonly lastRestart = new Map<string, ThreadRestart>();
  /** why the supervisor itself ended a store or HTTP thread (hung, chaos kill, no answer at start) */
  private readonly endReasons = new WeakMap<Worker, string>();
  /** which supervised thread each worker is (store or http), for what is logged about it */
  private readonly kinds = new WeakMap<Worker, string>();
  /** the store and HTTP threads that finished starting: the watchdog pings only these */
  private readonly started = new WeakSet<Worker>();
  private readonly deaths = { store: 0, http: 0 };
  /** the current HTTP thread's end of the supervisor link (protocol.ts SupervisorLinkMessage) */
  private link: MessagePort | null = null;
  /** what the HTTP thread showed in /metrics while no ready store answered, for the HTTP thread after it */
  private heldGauges: HeldGauges | undefined;
  /** attachHttpToStore runs one at a time (a store and an HTTP restart may both want it) */
  private attaching: Promise<void> = Promise.resolve();
  private chaos: Server | null = null;
  private storeUp = false;
  private readonly watchdogs: Watchdog[] = [];
  /**
   * each source's freshness as the runs reported it (last success, failures in a row, durations): a store that
   * replaces a dead one starts from it, so its restart loses no source's last success
   */
  private readonly known = new SourceBook();
  /** what the store held of each source that is down, for a store that replaces a dead one meanwhile */
  private readonly heldWhileDown: HeldWhileDown;
  /** the store's stuck clocks, for a store that replaces a dead one */
  private readonly stuckClocks: StuckClocks;

  constructor(private readonly opts: SupervisorOptions) {
    const fullPasses = new FullPassGate(opts.collectDeadlineMs);
    const noWait = new FullPassGate(0);
    this.handles = opts.collectors.map((spec) =>
      new CollectorHandle(spec, () => this.store, opts.collectDeadlineMs, opts.log, () => this.pushRestarts(),
        this.opts.resourceLimits?.collector ?? collectorLimits(spec.source, this.memoryLimit()),
        new CollectorPacing(opts.collectIntervalMs, this.maxIntervalMs()),
        spec.bulkFirstPass === false ? noWait : fullPasses));
    this.heldWhileDown = new HeldWhileDown(opts.log);
    this.stuckClocks = new StuckClocks(opts.log);
    for (const h of this.handles) {
      h.onOutcome = (o) => {
        this.known.record(h.spec.source, o);
        this.heldWhileDown.outcome(h.spec.source, o, this.currentStore);
      };
    }
  }

  /** a thread kind's V8 limits: the ones given, or its share of the process's memory limit */
  private limits(kind: ThreadKind): ResourceLimits {
    return this.opts.resourceLimits?.[kind] ?? threadLimits(kind, this.memoryLimit());
  }

  /** the longest the pacing spaces a source's passes (and what a source asking for more is judged slow past) */
  private maxIntervalMs(): number {
    return this.opts.collectMaxIntervalMs ?? this.opts.collectIntervalMs;
  }

  private memoryLimit(): number | undefined {
    return this.opts.memoryLimitBytes ?? containerMemoryLimit();
  }

  /** how many apps' stuck clocks are kept for a store that replaces a dead one (StuckClocks) */
  get stuckClocksKept(): number {
    return this.stuckClocks.size;
  }

  get storeRestarts(): number {
    return this.restarts.store;
  }

  get httpRestarts(): number {
    return this.restarts.http;
  }

  /** Whether a run of `source`'s collector is in flight now (the reliability tests time their kills by it). */
  collectorRunning(source: string): boolean {
    return this.handles.some((h) => h.spec.source === source && h.running);
  }

  /** Every thread's replacements so far: `store`, `http`, `compress`, `collector_<source>`. */
  threadRestarts(): ThreadRestarts {
    const counts: ThreadRestarts = { ...this.restarts };
    for (const h of this.handles) counts[`collector_${h.spec.source}`] = h.restarts;
    return counts;
  }

  /** Every thread's last replacement (only those replaced at least once): when, and why when known. */
  lastRestarts(): Record<string, ThreadRestart> {
    const last: Record<string, ThreadRestart> = Object.fromEntries(this.lastRestart);
    for (const h of this.handles) if (h.lastRestart) last[`collector_${h.spec.source}`] = h.lastRestart;
    return last;
  }

  /**
   * The HTTP thread exports the counts in /metrics and shows them with the last replacements in `…/sources`;
   * a message to a dead thread is simply lost (a new one gets them when it starts).
   */
  private pushRestarts(): void {
    const msg: SupervisorLinkMessage = { type: 'thread_restarts', counts: this.threadRestarts(), last: this.lastRestarts() };
    this.link?.postMessage(msg);
  }

  private restarted(thread: 'store' | 'http' | 'compress', reason: string | null): void {
    this.restarts[thread] += 1;
    this.lastRestart.set(thread, { at: new Date().toISOString(), reason });
    this.pushRestarts();
  }

  async start(): Promise<void> {
    await this.startStore();
    await this.startHttp(this.opts.port);
    this.watch('store', () => this.store.ping(), () => this.storeWorker);
    this.watch('http', () => this.http.ping(), () => this.httpWorker);
    if (this.opts.chaosPort !== undefined) this.chaos = await startChaosControl(this, this.opts.chaosPort, this.opts.log);
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.collectIntervalMs);
    this.clocksTimer = setInterval(() => this.stuckClocks.take(this.currentStore), TAKE_EVERY_MS);
  }

  /** the store thread and its API while one is up */
  private readonly currentStore = () => (this.storeUp ? { worker: this.storeWorker, store: this.store } : null);

  /** Replaces the thread when it stops answering pings (Watchdog); a new thread of the kind starts afresh. */
  private watch(kind: 'store' | 'http', ping: () => Promise<unknown>, worker: () => Worker): void {
    let watched = worker();
    const dog = new Watchdog(() => {
      if (worker() !== watched) {
        watched = worker();
        dog.reset();
      }
      // a thread still starting is guarded by the deadlines of its start-up calls (control), not by pings: on a
      // busy machine loading its code can take longer than a running thread is given to answer
      return this.started.has(watched) ? ping() : Promise.resolve();
    }, (silentMs) => {
      // (a thread already gone is being restarted: nothing to end)
      if (this.stopping || watched.threadId === -1) return;
      this.opts.log.error({ thread: kind, silent_ms: silentMs }, 'thread stopped answering; replacing it');
      this.end(watched, `no answer to the supervisor's pings for ${Math.round(silentMs / 1000)} s`);
    }, this.opts.threadHungAfterMs ?? HUNG_AFTER_MS[kind]);
    this.watchdogs.push(dog);
  }

  /** Chaos control (RUNTIME_CHAOS_PORT; tests): blocks the store or HTTP thread for `ms`, the way a bug that loops would. */
  hang(thread: string, ms: number): boolean {
    if (thread === 'store') void this.store.hang(ms);
    else if (thread === 'http') void this.http.hang(ms);
    else return false;
    return true;
  }

  private tick(): void {
    // no store, nothing to collect into: the restart ticks once the new store is up
    if (this.stopping || !this.storeUp) return;
    for (const h of this.handles) h.tick();
    // the main thread has no metrics of its own: the store shows its memory with every thread's
    if (this.store) reportMemory(this.store, 'main', threadMemory());
  }

  /**
   * A supervised thread: when it dies unexpectedly, `restart` runs after a delay that doubles with each
   * quick death (0.5 s up to 30 s) and resets once the thread has lived a minute or proved itself (see
   * STABLE_AFTER_MS), so a thread that crashes on start-up cannot spin.
   */
  private spawn(kind: 'store' | 'http', restart: () => Promise<void>, extra: { data?: Omit<HttpThreadInit, 'logLevel'>; transfer?: MessagePort[] } = {}): Worker {
    const worker = new Worker(threadFile(kind), {
      name: kind, workerData: { ...threadInit(this.opts.log.level), ...extra.data }, transferList: extra.transfer,
      resourceLimits: this.limits(kind),
    });
    this.kinds.set(worker, kind);
    const bornAt = Date.now();
    let lastError: string | undefined;
    worker.on('error', (err: Error & { code?: string }) => {
      // ERR_WORKER_OUT_OF_MEMORY: the thread passed its resourceLimits; it exits and is restarted below
      lastError = err.code ?? err.message;
      this.opts.log.error({ err, thread: kind }, 'thread error');
    });
    worker.once('exit', (code) => {
      const current = kind === 'store' ? this.storeWorker : this.httpWorker;
      if (this.stopping || current !== worker) return;
      const streak = Date.now() - bornAt > STABLE_AFTER_MS ? 0 : this.deaths[kind];
      this.deaths[kind] = streak + 1;
      const delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** streak);
      this.opts.log.error({ code, thread: kind, reason: lastError, restart_in_ms: delay }, 'thread exited; restarting it');
      const reason = this.endReasons.get(worker) ?? lastError ?? `exited with code ${code}`;
      if (kind === 'store') {
        this.storeUp = false;
        this.heldWhileDown.storeExited(worker, reason);
        // at once, not at the restart: /readyz must not say ready on the strength of the dead store's last push
        this.link?.postMessage({ type: 'store_down', store: this.storeNumbers.get(worker) ?? 0 } satisfies SupervisorLinkMessage);
      }
      this.restarted(kind, reason);
      setTimeout(() => this.stopping || void restart().catch((err) =>
        this.opts.log.error({ err: err instanceof Error ? err.message : String(err), thread: kind }, 'thread restart failed')), delay);
    });
    return worker;
  }

  /**
   * Ends a thread (its exit handler restarts it), and says so when it has not ended 10 s later: terminate() stops
   * JavaScript, not a thread blocked inside a system call, and a replacement waits for the exit. The HTTP thread
   * is first asked to end itself (HttpThread.drop: terminate() while node's HTTP parser runs can abort the
   * whole process); one that does not within DROP_GRACE_MS is hung, and terminated.
   */
  private end(worker: Worker, reason: string): void {
    this.endReasons.set(worker, reason);
    const late = setTimeout(() => {
      if (worker.threadId !== -1) this.opts.log.error({ thread: this.kinds.get(worker), reason }, 'thread has not ended 10 s after it was told to');
    }, 10_000);
    late.unref();
    worker.once('exit', () => clearTimeout(late));
    if (worker !== this.httpWorker) {
      void worker.terminate();
      return;
    }
    void this.http.drop().catch(() => undefined);
    const hung = setTimeout(() => {
      this.opts.log.warn({ thread: 'http', reason }, `thread did not end itself within ${DROP_GRACE_MS} ms; terminating it`);
      void worker.terminate();
    }, DROP_GRACE_MS);
    hung.unref();
    worker.once('exit', () => clearTimeout(hung));
  }

  /**
   * A control call to a thread just started: past the deadline the thread is useless, so it is ended
   * (and, being current, restarted with backoff by its exit handler).
   */
  private async control<T>(worker: Worker, call: Promise<T>, what: string, ms = THREAD_START_DEADLINE_MS): Promise<T> {
    // a thread that exits meanwhile will never answer: give up at once rather than at the deadline (a store
    // restart that meets an HTTP thread's death would hold the new HTTP thread's attach 5 s behind it)
    const exit = exitOf(worker, what);
    try {
      return await Promise.race([callWithDeadline(call, ms, what), exit.exited]);
    } catch (err) {
      // (the restart's reason, shown in …/sources: a call the thread failed says how, not that it was silent)
      if (worker.threadId !== -1) {
        this.end(worker, err instanceof CallDeadlineError ? `no answer to ${what} within ${ms / 1000} s`
          : `${what} failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500));
      }
      throw err;
    } finally {
      exit.off();
    }
  }

  /** `rebuild`: the store replaces one that died (its readiness waits for good passes: SourceBook.rebuild) */
  private async startStore(rebuild = false): Promise<void> {
    const worker = this.spawn('store', () => this.restartStore());
    this.storeWorker = worker;
    this.storeNumbers.set(worker, ++this.storesStarted);
    const store = wrap<StoreControlApi>(worker);
    this.store = store;
    const grace = rebuild ? REBUILD_GRACE_DEADLINES * this.opts.collectDeadlineMs : undefined;
    const sources = this.opts.collectors.map((c) => c.source);
    await this.control(worker, store.expectSources(
      sources, this.opts.collectIntervalMs, grace, rebuild ? this.known.freshness() : undefined, this.maxIntervalMs(),
    ), 'store.expectSources');
    if (this.opts.stuckLimits) await this.control(worker, store.setStuckLimits(this.opts.stuckLimits), 'store.setStuckLimits');
    this.started.add(worker);
    if (worker === this.storeWorker) this.storeUp = true;
    // a store that became ready proved itself: its death is not a start-up crash (STABLE_AFTER_MS). Readiness
    // may take any time (no deadline fits it): the call's outcome when the store is gone first is its exit
    const exit = exitOf(worker, 'store.whenReady');
    Promise.race([store.whenReady(), exit.exited]).then(() => {
      if (worker === this.storeWorker) this.deaths.store = 0;
      this.heldWhileDown.storeReady(worker);
    }, () => undefined).finally(exit.off);
  }

  private async restartStore(): Promise<void> {
    if (this.stopping) return;
    this.stuckClocks.storeReplacing();
    await this.startStore(true);
    // the clocks first: what the held copies restore is judged with them
    await this.stuckClocks.restoreInto(this.storeWorker, this.store, this.opts.collectDeadlineMs);
    await this.heldWhileDown.restoreInto(this.storeWorker, this.store, this.opts.collectDeadlineMs);
    for (const h of this.handles) h.storeReplaced();
    this.tick(); // rebuild the state now rather than at the next interval
    await this.attachHttpToStore();
  }

  private async startHttp(port: number): Promise<void> {
    const link = new MessageChannel();
    const worker = this.spawn('http', () => this.startHttp(this.port), {
      // the compression pool lives in the HTTP thread: its heap limit travels with it
      data: { link: link.port2, compressLimits: this.limits('compress'), answerCaches: answerCacheBytes(this.memoryLimit()) }, transfer: [link.port2],
    });
    this.httpWorker = worker;
    // this thread's own API: `this.http` names whichever thread is current, which after the awaits below may be
    // a successor (this one died meanwhile), and a successor sent this one's listen would bind the port twice
    const http = wrap<HttpControlApi>(worker);
    this.http = http;
    this.link?.close();
    this.link = link.port1;
    link.port1.on('message', (m: SupervisorLinkMessage) => {
      if (m?.type === 'thread_restart' && m.thread === 'compress' && link.port1 === this.link) {
        this.restarted('compress', m.reason ?? null);
      } else if (m?.type === 'held_gauges' && link.port1 === this.link) this.heldGauges = m.held;
    });
    link.port1.unref();
    this.pushRestarts();
    if (this.heldGauges) link.port1.postMessage({ type: 'held_gauges', held: this.heldGauges } satisfies SupervisorLinkMessage);
    await this.attachHttpToStore(THREAD_START_DEADLINE_MS);
    const bound = await this.control(worker, http.listen({ port, host: this.opts.host, security: this.opts.security, dashboards: { collectIntervalMs: this.opts.collectIntervalMs, demo: this.opts.demo } }), 'http.listen');
    this.started.add(worker);
    this.port = bound.port;
    if (worker === this.httpWorker) this.deaths.http = 0;
  }

  /**
   * Hands the current HTTP thread a query port and a version port of the current store. A store that does
   * not answer is left to its own restart (which attaches again); an HTTP thread that does not is ended.
   */
  private attachHttpToStore(httpDeadlineMs = CALL_DEADLINE_MS): Promise<void> {
    const next = this.attaching.then(async () => {
      const store = this.store;
      const storeWorker = this.storeWorker;
      const http = this.http;
      const httpWorker = this.httpWorker;
      const query = new MessageChannel();
      const version = new MessageChannel();
      try {
        await callWithDeadline(store.attachQueryPort(Comlink.transfer(query.port1, [query.port1])), CALL_DEADLINE_MS, 'store.attachQueryPort');
        await callWithDeadline(store.attachVersionPort(Comlink.transfer(version.port1, [version.port1])), CALL_DEADLINE_MS, 'store.attachVersionPort');
      } catch (err) {
        // (our ends of the ports: closing them closes the store's, should it take them late)
        query.port2.close();
        version.port2.close();
        // a store busy past the deadline once (a bulk pass on a loaded machine) is asked again: left alone, the
        // HTTP thread would stay without a store for good. One that is hung is the watchdog's to replace, and
        // its replacement attaches itself
        const again = !this.stopping && storeWorker === this.storeWorker && httpWorker === this.httpWorker && storeWorker.threadId !== -1;
        this.opts.log.warn({ err: String(err), store_current: storeWorker === this.storeWorker, retry_in_ms: again ? ATTACH_RETRY_MS : null }, 'store did not take the HTTP ports');
        if (again) {
          const retry = setTimeout(() => {
            if (!this.stopping && storeWorker === this.storeWorker && httpWorker === this.httpWorker) void this.attachHttpToStore().catch(() => undefined);
          }, ATTACH_RETRY_MS);
          retry.unref();
        }
        return;
      }
      // a restarted store (a fresh HTTP thread included) is served only once ready: it may be rebuilding
      await this.control(httpWorker, http.attachStore(
        Comlink.transfer(query.port2, [query.port2]) as never,
        Comlink.transfer(version.port2, [version.port2]) as never,
        this.restarts.store > 0,
        this.storeNumbers.get(storeWorker) ?? 0,
      ), 'http.attachStore', httpDeadlineMs);
    });
    this.attaching = next.catch(() => undefined);
    return next;
  }

  /** Test and fault-injection hooks: kill a thread the way a crash would. */
  threads(): { store: Worker; http: Worker } {
    return { store: this.storeWorker, http: this.httpWorker };
  }

  /**
   * Chaos control (RUNTIME_CHAOS_PORT; tests): kills one thread the way a crash would: `store`, `http`,
   * `compress` or `collector_<source>`. Answers false for an unknown name or a thread that is down now (it
   * waits for its restart: nothing to kill); for `compress`, a promise of whether one ran (the HTTP thread starts it with the first compressed answer and ends it when idle).
   */
  kill(thread: string): boolean | Promise<boolean> {
    const killed = 'killed (chaos control)';
    if (thread === 'store' || thread === 'http') {
      const worker = thread === 'store' ? this.storeWorker : this.httpWorker;
      // down, waiting for its restart: nothing to kill (the chaos run counts only real kills)
      if (worker.threadId === -1) return false;
      this.end(worker, killed);
    } else if (thread === 'compress') {
      return callWithDeadline(this.http.killCompress(), CALL_DEADLINE_MS, 'http.killCompress').catch(() => false);
    } else {
      const h = this.handles.find((x) => `collector_${x.spec.source}` === thread);
      // (no thread between piscina's replacing one and starting the next: nothing to kill)
      if (!h || h.killThread() === null) return false;
    }
    return true;
  }

  /** The names `kill` accepts. */
  threadNames(): string[] {
    return ['store', 'http', 'compress', ...this.handles.map((h) => `collector_${h.spec.source}`)];
  }

  /**
   * Graceful stop: no new runs, in-flight runs finish or are aborted, the HTTP thread stops accepting and
   * finishes in-flight responses, then every thread ends.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.clocksTimer) clearInterval(this.clocksTimer);
    this.chaos?.close();
    for (const dog of this.watchdogs) dog.stop();
    const budget = this.opts.shutdownTimeoutMs;
    const t0 = Date.now();
    const log = this.opts.log;
    // an HTTP thread that died (its restart is off now) never answers: the close gives up at its exit, not at its deadline
    const httpExit = exitOf(this.httpWorker, 'http.close');
    await Promise.all([
      Promise.race([callWithDeadline(this.http.close(Math.floor(budget / 2)), Math.floor(budget / 2) + 500, 'http.close'), httpExit.exited])
        .catch(() => undefined).finally(() => httpExit.off())
        .then(() => log.debug({ ms: Date.now() - t0 }, 'http closed')),
      ...this.handles.map((h) => h.drain(Math.floor(budget / 3))
        .then(() => log.debug({ ms: Date.now() - t0, source: h.spec.source }, 'collector drained'))),
    ]);
    await Promise.all(this.handles.map((h) => h.close().catch(() => undefined)));
    log.debug({ ms: Date.now() - t0 }, 'collector pools closed');
    this.link?.close();
    await Promise.all([this.httpWorker.terminate(), this.storeWorker.terminate()]);
    log.debug({ ms: Date.now() - t0 }, 'threads ended');
  }
}
