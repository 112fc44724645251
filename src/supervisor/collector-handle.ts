import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ResourceLimits } from 'node:worker_threads';
import { MIN_INTERVAL_COUNTER, RUN_ABORT_GRACE_MS } from '../protocol.ts';
import type { CollectorSpec, CollectorTask, PassOutcome, RunReport, StoreControlApi, ThreadMemory, ThreadRestart } from '../protocol.ts';
import { CALL_DEADLINE_MS, CallDeadlineError, callWithDeadline, Comlink, threadFile, type Comlink as C } from '../threads.ts';
import type { Logger } from '../log.ts';
import { threadInit } from '../log-thread.ts';
import { threadLimits } from '../thread-limits.ts';
import { FailureLogLimiter, PaceLog, WarningLog, type LogDecision } from './log-limiter.ts';
import { CollectorPacing } from './collector-pacing.ts';
import { FullPassGate } from './full-pass-gate.ts';

/** A thread's memory to the store, for /metrics: nothing waits on it, and it gives up at the call deadline. */
export function reportMemory(store: C.Remote<StoreControlApi>, thread: string, memory: ThreadMemory): void {
  void callWithDeadline(store.reportThreadMemory(thread, memory), CALL_DEADLINE_MS, 'store.reportThreadMemory').catch(() => undefined);
}

const MAX_BACKOFF_MS = 30_000;
/** how early a tick may come and still count as the one the pacing meant (timers and Date.now() differ by a ms) */
const TICK_SLACK_MS = 20;

/**
 * One collector: a piscina pool of exactly one long-lived thread. Never two runs at once. A run is told to
 * stop at its deadline (COLLECT_DEADLINE_MS); if its thread has not answered RUN_ABORT_GRACE_MS (2 s) later,
 * the thread is replaced. A thread that dies is replaced with backoff. Every replacement is counted here
 * (this object outlives its threads).
 */
export class CollectorHandle {
  private readonly pool: Piscina<CollectorTask, RunReport>;
  private inFlight: Promise<void> | null = null;
  private needsInit = true;
  /** counts store replacements: an init or a run that spans one must not undo what storeReplaced asked for */
  private storeGen = 0;
  /** thread replacements (death, out of memory, deadline): counted when piscina drops the thread */
  restarts = 0;

  /** Whether a run is in flight now. */
  get running(): boolean {
    return this.inFlight !== null;
  }
  /** hears every run's outcome (the supervisor keeps each source's freshness for a store that replaces a dead one) */
  onOutcome: (outcome: PassOutcome) => void = () => undefined;
  /** the last replacement: when, and why when known */
  lastRestart: ThreadRestart | null = null;
  /** why the thread is about to end, when known before piscina drops it (an error event, a kill, an overrun) */
  private endReason: string | null = null;
  private closing = false;
  private crashStreak = 0;
  private notBefore = 0;
  private abort: AbortController | null = null;
  private readonly failureLog: FailureLogLimiter;
  private readonly paceLog = new PaceLog();
  private readonly warningLog: WarningLog;

  constructor(
    readonly spec: CollectorSpec,
    private readonly store: () => C.Remote<StoreControlApi>,
    private readonly deadlineMs: number,
    private readonly log: Logger,
    /** hears of every replacement (the supervisor exports the counts) */
    private readonly onRestart: () => void = () => undefined,
    resourceLimits?: ResourceLimits,
    /** when the next pass may start (default: the supervisor's every tick) */
    private readonly pacing: CollectorPacing = new CollectorPacing(0, 0),
    /** where a full pass waits for the other collectors' full passes (the supervisor's, shared) */
    private readonly fullPasses: FullPassGate = new FullPassGate(0),
  ) {
    this.pool = new Piscina({
      filename: fileURLToPath(threadFile('collector')),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      // one task at a time: init and run are sequential, and the scheduler never overlaps two runs (piscina
      // would not start a second task beside an abortable one anyway)
      concurrentTasksPerWorker: 1,
      // piscina's default parks an idle thread in Atomics.wait, which freezes its event loop between runs:
      // an event collector (NATS) must keep receiving, so idle threads wait on messages instead
      atomics: 'disabled',
      workerData: threadInit(log.level),
      resourceLimits: resourceLimits ?? threadLimits('collector'),
    });
    this.failureLog = new FailureLogLimiter(spec.source);
    this.warningLog = new WarningLog(spec.source);
    // a thread that dies between runs (out of memory included: ERR_WORKER_OUT_OF_MEMORY) lands here; the
    // pool replaces it and the next run re-inits it
    this.pool.on('error', (err: unknown) => {
      const e = err as (Error & { code?: string }) | undefined;
      this.endReason = e?.code ?? e?.message ?? 'thread error';
      this.log.error({ source: spec.source, err }, 'collector thread error');
    });
    // with one thread that never idles out, every destroyed thread outside close() is a replacement
    this.pool.on('workerDestroy', () => {
      if (this.closing) return;
      this.restarts += 1;
      this.lastRestart = { at: new Date().toISOString(), reason: this.endReason };
      this.endReason = null;
      this.needsInit = true;
      this.onRestart();
    });
  }

  /**
   * The store thread was replaced: the next run hands the thread a port of the new store first. A run in
   * flight has already failed its wait on the old store's port (it closed with the dead thread).
   */
  storeReplaced(): void {
    this.storeGen += 1;
    this.needsInit = true;
    // the new store has nothing of this source and is unready until its pass: run at once, not after the pacing
    // or a backoff (a run that failed waiting on the old store included)
    this.notBefore = 0;
  }

  /** Starts a run unless one is in flight or the thread is backing off. */
  tick(): void {
    const now = Date.now();
    // a tick may come a millisecond before the pacing's time: that tick is the one it meant
    if (this.inFlight || now + TICK_SLACK_MS < this.notBefore) return;
    this.inFlight = this.runOnce(now).finally(() => { this.inFlight = null; });
  }

  /** Waits for the in-flight run, aborting it after `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    // stopping: a thread ended from here on is no restart
    this.closing = true;
    if (!this.inFlight) return;
    const timer = setTimeout(() => this.abort?.abort(new Error('shutting down')), graceMs);
    await this.inFlight;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.pool.destroy();
  }

  /** Chaos control and tests: kill the collector's thread the way a crash would (the pool replaces it). */
  killThread(): Promise<number> | null {
    const thread = this.pool.threads[0];
    if (!thread) return null;
    this.endReason = 'killed (chaos control)';
    return thread.terminate();
  }

  /** `tickAt`: when the run was due; the pacing counts from there (a run starts a moment after its tick) */
  private async runOnce(tickAt: number): Promise<void> {
    // a run that starts with init is a full pass (a new thread or a new store has nothing to compare with)
    const leave = this.needsInit ? await this.fullPasses.enter() : null;
    try {
      await this.run(tickAt);
    } finally {
      leave?.();
    }
  }

  private async run(tickAt: number): Promise<void> {
    const started = Date.now();
    this.abort = new AbortController();
    const abort = this.abort.signal;
    const restartsBefore = this.restarts;
    const storeGen = this.storeGen;
    // each step gets deadline + grace of its own, counted from when it starts: the thread counts its run's deadline
    // from the run's start, so time spent starting the thread (a busy new store taking its port) must not eat
    // into the grace of a run that stops on time
    let overrun: AbortSignal | undefined;
    const bounded = (): AbortSignal => {
      overrun = AbortSignal.timeout(this.deadlineMs + RUN_ABORT_GRACE_MS);
      return AbortSignal.any([abort, overrun]);
    };
    const task = (): CollectorTask => ({
      kind: 'run', deadline_ms: this.deadlineMs, restarts: this.restarts, interval_ms: this.pacing.intervalMs,
    });
    try {
      if (this.needsInit) await this.init(bounded());
      let report = await this.pool.run(task(), { signal: bounded() });
      if (report.kind === 'need_init') {
        // the thread was replaced since the last run: it lost its port
        await this.init(bounded());
        report = await this.pool.run(task(), { signal: bounded() });
      }
      this.crashStreak = 0;
      this.pace(tickAt, started, report.kind === 'done' ? report.outcome.counters?.[MIN_INTERVAL_COUNTER] : undefined);
      // the store was replaced during the run: the new one waits for this source's pass, not for the pacing
      if (this.storeGen !== storeGen) this.notBefore = 0;
      if (report.kind === 'done') {
        this.onOutcome(report.outcome);
        if (report.memory) reportMemory(this.store(), `collector_${this.spec.source}`, report.memory);
        this.logDecision(report.outcome.ok ? this.failureLog.success()
          : this.failureLog.failure(report.outcome.error ?? 'unknown error'));
        // a good pass's error text is its warning
        if (report.outcome.ok) {
          const detail = report.outcome.warning_detail;
          this.logDecision(this.warningLog.seen(report.outcome.error), detail ? { detail } : {});
        }
      }
    } catch (err) {
      this.needsInit = true;
      const message = err instanceof Error ? err.message : String(err);
      // the store not answering is no fault of this thread: retry at the next tick, without backoff
      const storeGone = err instanceof CallDeadlineError;
      if (!storeGone) this.crashStreak += 1;
      const backoff = storeGone ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.crashStreak - 1));
      this.notBefore = Date.now() + backoff;
      const reason = this.abort.signal.aborted ? 'aborted: shutting down'
        : overrun?.aborted ? `deadline of ${this.deadlineMs} ms exceeded and the run did not stop within ${RUN_ABORT_GRACE_MS} ms; thread replaced`
        : storeGone ? message
        : `collector thread died: ${message}`;
      // the thread's replacement says why, when nothing said more: the run's reason (piscina may drop the
      // thread before or after this run's failure is seen; an overrun always ends it)
      if (this.restarts > restartsBefore) {
        if (this.lastRestart && this.lastRestart.reason === null) {
          this.lastRestart.reason = reason.slice(0, 500);
          this.onRestart();
        }
      } else if (overrun?.aborted) this.endReason = reason;
      this.logDecision(this.failureLog.failure(reason, 'error'), { backoff_ms: backoff });
      const outcome: PassOutcome = {
        ok: false, error: reason.slice(0, 500), duration_ms: Date.now() - started,
        finished_at: new Date().toISOString(), counters: { restarts: this.restarts },
      };
      // shutting down: the store ends next, nothing will read this outcome
      if (this.abort.signal.aborted) return;
      this.onOutcome(outcome);
      // a store that is gone loses this outcome; the run is over either way and the next tick runs
      await callWithDeadline(this.store().reportOutcome(this.spec.source, outcome), CALL_DEADLINE_MS, 'store.reportOutcome')
        .catch((e: unknown) => this.log.debug({ source: this.spec.source, err: String(e) }, 'outcome not reported'));
    } finally {
      this.abort = null;
    }
  }

  /** The next pass starts no sooner than the pacing allows (a slow pass spaces the next ones out). */
  private pace(tickAt: number, started: number, minIntervalMs: number | undefined): void {
    const took = Date.now() - started;
    const wasBackedOff = this.pacing.backedOff;
    const interval = this.pacing.passed(took, minIntervalMs);
    // from the tick, not the run's start: from the start, the next run would fall just after the next tick
    // (a full pass waits for the others' at the gate) and a source would be collected every other interval
    this.notBefore = Math.max(this.notBefore, tickAt + interval);
    // one line when the pace changes kind, not one per pass, and at most one a minute (the interval is in
    // …/sources and /metrics)
    const line = this.pacing.backedOff !== wasBackedOff ? this.paceLog.changed() : null;
    if (line !== null) {
      const fields = { source: this.spec.source, pass_ms: took, interval_ms: interval, ...(line.unlogged > 0 ? { changes_not_logged: line.unlogged } : {}) };
      if (wasBackedOff) this.log.info(fields, 'passes are quick again (3 in a row): back to the collection interval');
      else this.log.warn(fields, 'passes take over a quarter of the collection interval: spacing them out');
    }
  }

  /** one line per failure, rate-limited while a source stays down (supervisor/log-limiter.ts) */
  private logDecision(d: LogDecision | null, extra: Record<string, number | string[]> = {}): void {
    if (d) this.log[d.level]({ ...d.fields, ...extra }, d.msg);
  }

  private async init(signal: AbortSignal): Promise<void> {
    const storeGen = this.storeGen;
    const { port1, port2 } = new MessageChannel();
    try {
      await callWithDeadline(this.store().attachDeltaPort(Comlink.transfer(port1, [port1])), CALL_DEADLINE_MS, 'store.attachDeltaPort');
    } catch (err) {
      // (port1 went to the store, which may still take it late: closing this end ends that pair too)
      port2.close();
      throw err;
    }
    const report = await this.pool.run({ kind: 'init', spec: this.spec, port: port2 }, { signal, transferList: [port2] });
    if (report.kind !== 'ready') throw new Error(`collector ${this.spec.source} did not start`);
    // a store replaced while this init ran: the thread holds a port of the dead one, so the next run inits again
    if (this.storeGen === storeGen) this.needsInit = false;
  }
}
