import type { MessagePort } from 'node:worker_threads';
import { RUN_ABORT_GRACE_MS, WARNING_DETAIL_MAX, type CollectorSpec, type CollectorTask, type PassOutcome, type RunReport } from '../protocol.ts';
import type { CollectResult, Collector, CreateCollector } from './collector.ts';
import { PassSender } from './pass-sender.ts';
import { HeapBound, releaseMemory } from '../release-memory.ts';
import { threadMemory } from '../thread-memory.ts';

/**
 * The inside of a collector thread. `init` loads the collector module and keeps the store port; each `run`
 * collects once and posts the whole pass to the store in one message. A run that fails posts an outcome
 * with no steps, so a failing source never removes anything already known.
 */
export class CollectorRuntime {
  private spec: CollectorSpec | null = null;
  private sender: PassSender | null = null;
  private collector: Collector | null = null;
  private readonly heap = new HeapBound();

  async handle(task: CollectorTask): Promise<RunReport> {
    if (task.kind === 'init') return this.init(task.spec, task.port);
    // no store port yet, or the store behind it died (its port closed): the supervisor hands a port of the current one
    if (!this.collector || !this.sender || !this.spec || this.sender.closed) return { kind: 'need_init' };
    const { outcome, bulk } = await this.run(this.collector, this.sender, task.deadline_ms, {
      ...(task.restarts === undefined ? {} : { restarts: task.restarts }),
      ...(task.interval_ms === undefined ? {} : { interval_ms: task.interval_ms }),
    });
    // (here, once the pass's steps are out of reach: inside run they would survive the collection)
    if (bulk) releaseMemory();
    else this.heap.check();
    // this thread has no metrics of its own: the supervisor passes its memory on to /metrics
    return { kind: 'done', outcome, memory: threadMemory() };
  }

  private async init(spec: CollectorSpec, port: MessagePort): Promise<RunReport> {
    this.sender?.close();
    const sender = new PassSender(port, spec.source);
    this.sender = sender;
    if (!this.collector || this.spec?.module !== spec.module) {
      await this.collector?.close?.();
      const mod = (await import(spec.module)) as { createCollector: CreateCollector };
      // pushes always go to the current store port, even after a store restart re-inits this thread
      this.collector = await mod.createCollector(spec.options, { push: (steps) => this.sender?.push(steps) });
    }
    this.spec = spec;
    return { kind: 'ready' };
  }

  /**
   * The collector is told to stop at the deadline; the pass (or the failure) then waits for the store's
   * acknowledgement at most until half the grace after it, so the thread answers before the supervisor
   * replaces it (deadline + RUN_ABORT_GRACE_MS).
   */
  private async run(
    collector: Collector, sender: PassSender, deadlineMs: number, fromSupervisor: Record<string, number>,
  ): Promise<{ outcome: PassOutcome; bulk: boolean }> {
    const started = performance.now();
    const signal = AbortSignal.timeout(deadlineMs);
    // (pushed steps the store never applied: PassSender.pushesLost)
    const counters: Record<string, number> = sender.pushesLost > 0 ? { ...fromSupervisor, pushes_lost: sender.pushesLost } : fromSupervisor;
    const extra = Object.keys(counters).length === 0 ? undefined : counters;
    let result: { steps: Parameters<PassSender['send']>[0]; outcome: PassOutcome; full: boolean; bulk: boolean };
    const full = sender.needsFull;
    /** what is left for an acknowledgement: until half the grace after the deadline */
    const untilAck = () => Math.max(100, started + deadlineMs + RUN_ABORT_GRACE_MS / 2 - performance.now());
    try {
      const r = await collector.collect({
        signal, now: () => new Date(), full, reread: sender.takeReread(), sendAhead: (step) => sender.ahead(step, untilAck()),
      });
      const counters = r.counters || extra ? { ...r.counters, ...extra } : undefined;
      result = {
        steps: r.steps, outcome: withDetail(outcome(started, r.failed === undefined, r.failed ?? r.warning ?? null, counters), r),
        full: full && r.failed === undefined,
        bulk: full || r.bulk === true,
      };
    } catch (err) {
      result = { steps: [], outcome: outcome(started, false, errorText(err), extra), full: false, bulk: full };
    }
    try {
      await sender.send(result.steps, result.outcome, untilAck(), result.full, result.bulk);
    } catch (err) {
      return { outcome: outcome(started, false, errorText(err), extra), bulk: result.bulk };
    }
    return { outcome: result.outcome, bulk: result.bulk };
  }
}

function outcome(started: number, ok: boolean, error: string | null, counters?: Record<string, number>): PassOutcome {
  return {
    ok, error, duration_ms: performance.now() - started, finished_at: new Date().toISOString(),
    ...(counters ? { counters } : {}),
  };
}

/** A good pass's warning detail, bounded (it crosses to the supervisor's log). */
function withDetail(o: PassOutcome, r: CollectResult): PassOutcome {
  if (!o.ok || r.warning === undefined || !r.warningDetail?.length) return o;
  return { ...o, warning_detail: r.warningDetail.slice(0, WARNING_DETAIL_MAX).map((d) => errorText(d)) };
}

/** One line, bounded: errors end up in the snapshot and in logs. */
function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
