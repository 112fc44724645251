import type { MessagePort } from 'node:worker_threads';
import type { AppliedMessage, CollectorSpec, CollectorTask, PassMessage, PassOutcome, RunReport } from '../protocol.ts';
import type { Collector, CreateCollector } from './collector.ts';

/**
 * The inside of a collector thread. `init` loads the collector module and keeps the store port; each `run`
 * collects once and posts the whole pass to the store in one message. A run that fails posts an outcome
 * with no steps, so a failing source never removes anything already known.
 */
export class CollectorRuntime {
  private spec: CollectorSpec | null = null;
  private port: MessagePort | null = null;
  private collector: Collector | null = null;
  private seq = 0;

  async handle(task: CollectorTask): Promise<RunReport> {
    if (task.kind === 'init') return this.init(task.spec, task.port);
    if (!this.collector || !this.port || !this.spec) return { kind: 'need_init' };
    return { kind: 'done', outcome: await this.run(this.spec, this.collector, this.port, task.deadline_ms) };
  }

  private async init(spec: CollectorSpec, port: MessagePort): Promise<RunReport> {
    this.port?.close();
    this.port = port;
    if (!this.collector || this.spec?.module !== spec.module) {
      await this.collector?.close?.();
      const mod = (await import(spec.module)) as { createCollector: CreateCollector };
      this.collector = await mod.createCollector(spec.options);
    }
    this.spec = spec;
    return { kind: 'ready' };
  }

  private async run(spec: CollectorSpec, collector: Collector, port: MessagePort, deadlineMs: number):
    Promise<PassOutcome> {
    const started = performance.now();
    const signal = AbortSignal.timeout(deadlineMs);
    let msg: PassMessage;
    const seq = ++this.seq;
    try {
      const result = await collector.collect({ signal, now: () => new Date() });
      msg = {
        type: 'pass', seq, source: spec.source, steps: result.steps,
        outcome: outcome(started, true, result.warning ?? null, result.counters),
      };
    } catch (err) {
      msg = { type: 'pass', seq, source: spec.source, steps: [], outcome: outcome(started, false, errorText(err)) };
    }
    try {
      await this.post(port, msg, deadlineMs);
    } catch (err) {
      return outcome(started, false, errorText(err));
    }
    return msg.outcome;
  }

  /** Posts a pass and waits until the store applied it, so a slow store slows collection, not memory. */
  private post(port: MessagePort, msg: PassMessage, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        port.off('message', onMessage);
        reject(new Error(`store did not apply the pass within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (m: AppliedMessage) => {
        if (m?.type !== 'applied' || m.seq !== msg.seq) return;
        clearTimeout(timer);
        port.off('message', onMessage);
        resolve();
      };
      port.on('message', onMessage);
      port.postMessage(msg);
    });
  }
}

function outcome(started: number, ok: boolean, error: string | null, counters?: Record<string, number>): PassOutcome {
  return {
    ok, error, duration_ms: performance.now() - started, finished_at: new Date().toISOString(),
    ...(counters ? { counters } : {}),
  };
}

/** One line, bounded: errors end up in the snapshot and in logs. */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
