import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { CollectorSpec, CollectorTask, PassOutcome, RunReport, StoreControlApi } from '../protocol.ts';
import { Comlink, threadFile, type Comlink as C } from '../threads.ts';
import type { Logger } from '../log.ts';
import { threadInit } from '../log-thread.ts';
import { threadLimits } from '../thread-limits.ts';
import { FailureLogLimiter, type LogDecision } from './log-limiter.ts';

const MAX_BACKOFF_MS = 30_000;

/**
 * One collector: a piscina pool of exactly one long-lived thread. Never two runs at once; a run past its
 * deadline is aborted (piscina replaces the thread); a thread that dies is replaced with backoff.
 */
export class CollectorHandle {
  private readonly pool: Piscina<CollectorTask, RunReport>;
  private inFlight: Promise<void> | null = null;
  private needsInit = true;
  private restarts = 0;
  private crashStreak = 0;
  private notBefore = 0;
  private abort: AbortController | null = null;
  private readonly failureLog: FailureLogLimiter;

  constructor(
    readonly spec: CollectorSpec,
    private readonly store: () => C.Remote<StoreControlApi>,
    private readonly deadlineMs: number,
    private readonly log: Logger,
  ) {
    this.pool = new Piscina({
      filename: fileURLToPath(threadFile('collector')),
      minThreads: 1,
      maxThreads: 1,
      idleTimeout: Infinity,
      // a run and an init may share the thread (storeReplaced); the scheduler never overlaps two runs
      concurrentTasksPerWorker: 2,
      // piscina's default parks an idle thread in Atomics.wait, which freezes its event loop between runs:
      // an event collector (NATS) must keep receiving, so idle threads wait on messages instead
      atomics: 'disabled',
      workerData: threadInit(log.level),
      resourceLimits: threadLimits('collector'),
    });
    this.failureLog = new FailureLogLimiter(spec.source);
    this.pool.on('error', (err: unknown) => this.log.error({ source: spec.source, err }, 'collector thread error'));
  }

  get running(): boolean {
    return this.inFlight !== null;
  }

  /**
   * The store thread was replaced. A run in flight would wait for the dead store's acknowledgement until
   * its deadline: hand the thread a fresh delta port now (init runs beside the run; replacing the port
   * fails the run's wait at once). With no run in flight, the next run does it first.
   */
  storeReplaced(): void {
    this.needsInit = true;
    if (this.inFlight) void this.init(AbortSignal.timeout(this.deadlineMs)).catch(() => undefined);
  }

  /** Starts a run unless one is in flight or the thread is backing off. */
  tick(): void {
    if (this.inFlight || Date.now() < this.notBefore) return;
    this.inFlight = this.runOnce().finally(() => { this.inFlight = null; });
  }

  /** Waits for the in-flight run, aborting it after `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    if (!this.inFlight) return;
    const timer = setTimeout(() => this.abort?.abort(new Error('shutting down')), graceMs);
    await this.inFlight;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  private async runOnce(): Promise<void> {
    const started = Date.now();
    this.abort = new AbortController();
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.deadlineMs + 2000)]);
    try {
      if (this.needsInit) await this.init(signal);
      let report = await this.pool.run({ kind: 'run', deadline_ms: this.deadlineMs }, { signal });
      if (report.kind === 'need_init') {
        // the thread was replaced since the last run: it lost its port
        await this.init(signal);
        report = await this.pool.run({ kind: 'run', deadline_ms: this.deadlineMs }, { signal });
      }
      this.crashStreak = 0;
      if (report.kind === 'done') {
        if (report.memory) void this.store().reportThreadMemory(`collector_${this.spec.source}`, report.memory).catch(() => undefined);
        this.logDecision(report.outcome.ok ? this.failureLog.success()
          : this.failureLog.failure(report.outcome.error ?? 'unknown error'));
      }
    } catch (err) {
      this.needsInit = true;
      this.restarts += 1;
      this.crashStreak += 1;
      const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.crashStreak - 1));
      this.notBefore = Date.now() + backoff;
      const reason = this.abort.signal.aborted ? 'aborted: shutting down'
        : signal.aborted ? `deadline of ${this.deadlineMs} ms exceeded; thread replaced`
        : `collector thread died: ${err instanceof Error ? err.message : String(err)}`;
      this.logDecision(this.failureLog.failure(reason, 'error'), { backoff_ms: backoff });
      const outcome: PassOutcome = {
        ok: false, error: reason.slice(0, 500), duration_ms: Date.now() - started,
        finished_at: new Date().toISOString(), counters: { restarts: this.restarts },
      };
      await this.store().reportOutcome(this.spec.source, outcome).catch(() => undefined);
    } finally {
      this.abort = null;
    }
  }

  /** one line per failure, rate-limited while a source stays down (supervisor/log-limiter.ts) */
  private logDecision(d: LogDecision | null, extra: Record<string, number> = {}): void {
    if (d) this.log[d.level]({ ...d.fields, ...extra }, d.msg);
  }

  private async init(signal: AbortSignal): Promise<void> {
    const { port1, port2 } = new MessageChannel();
    await this.store().attachDeltaPort(Comlink.transfer(port1, [port1]));
    const report = await this.pool.run({ kind: 'init', spec: this.spec, port: port2 }, { signal, transferList: [port2] });
    if (report.kind !== 'ready') throw new Error(`collector ${this.spec.source} did not start`);
    this.needsInit = false;
  }
}
