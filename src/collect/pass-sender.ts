import type { MessagePort } from 'node:worker_threads';
import type { AheadStep, AppliedMessage, PassMessage, PassOutcome, SourceName, StoreStep } from '../protocol.ts';

/**
 * Sends passes to the store one at a time, each acknowledged before the next: a slow store slows the
 * collector instead of growing a queue. Pushed steps (events between runs) accumulate while a pass is
 * in flight and leave together in the next one, which is how a burst of events becomes one store step.
 */
/** pushed steps waiting for the store at most (a store that does not answer must not grow the queue for ever) */
export const MAX_PENDING_PUSHES = 10_000;

export class PassSender {
  /**
   * pushed steps the store never applied: not acknowledged in time, or dropped from a queue past its bound. Pushed
   * app events only run ahead of the polls, so nothing is lost for good (the next listing reconciles), but it is
   * counted: the source's counters `pushes_lost`.
   */
  pushesLost = 0;
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private pending: StoreStep[] = [];
  private pushScheduled = false;
  private isClosed = false;
  /** waits for acknowledgements in flight, failed at once when the port is replaced */
  private readonly waits = new Set<(err: Error) => void>();
  /**
   * This store acknowledged a full listing from this collector and applied every pass sent since. Until it has,
   * a collector that sends only what changed lists everything (CollectContext.full): a new store, a pass that
   * was not acknowledged in time or was dropped as malformed.
   */
  private complete = false;
  /** a part sent ahead of the pass being collected was dropped as malformed */
  private aheadDropped = false;
  /** keys the store asked to have sent again (AppliedMessage.reread), until the next run takes them */
  private readonly reread = new Set<string>();

  constructor(private readonly port: MessagePort, private readonly source: SourceName, private readonly ackTimeoutMs = 30_000) {
    // the store thread died (its end of the channel closed with it): no acknowledgement will ever come, so
    // what waits fails now rather than at its timeout; the supervisor hands a new port at the next run
    port.once('close', () => this.fail(new Error('store thread gone (its port closed); the pass was not applied')));
  }

  /** The store behind the port is gone or replaced: nothing sent from here will be applied. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether the next run must list everything (see `complete`). */
  get needsFull(): boolean {
    return !this.complete;
  }

  /** The keys the store asked for since the last call (CollectContext.reread). */
  takeReread(): string[] {
    const keys = [...this.reread];
    this.reread.clear();
    return keys;
  }

  /** A collection pass with its outcome, after everything sent before it; `full`: it lists everything. */
  send(steps: StoreStep[], outcome: PassOutcome, timeoutMs = this.ackTimeoutMs, full = false, bulk = false): Promise<void> {
    const aheadDropped = this.aheadDropped;
    this.aheadDropped = false;
    const end = performance.now() + timeoutMs;
    const next = this.chain.then(async () => {
      let applied: AppliedMessage;
      try {
        applied = await this.post({ type: 'pass', seq: ++this.seq, source: this.source, steps, outcome, ...(bulk ? { bulk } : {}) }, timeoutMs, end);
      } catch (err) {
        this.complete = false;
        throw err;
      }
      if (applied.dropped || aheadDropped) this.complete = false;
      else if (full) this.complete = true;
    });
    this.chain = next.catch(() => undefined);
    return this.byDeadline(next, timeoutMs, end);
  }

  /**
   * Parts of the pass being collected, sent now (CollectContext.sendAhead): resolved once the store has them. One
   * the store dropped as malformed leaves the pass short: the next one lists everything.
   */
  ahead(step: AheadStep, timeoutMs = this.ackTimeoutMs): Promise<void> {
    const end = performance.now() + timeoutMs;
    const next = this.chain.then(async () => {
      try {
        const applied = await this.post({ type: 'pass', seq: ++this.seq, source: this.source, steps: [step] }, timeoutMs, end);
        if (applied.dropped) this.aheadDropped = true;
      } catch (err) {
        // whether the store has it is unknown, and the collector counts it as sent: the next pass lists everything
        this.complete = false;
        throw err;
      }
    });
    this.chain = next.catch(() => undefined);
    return this.byDeadline(next, timeoutMs, end);
  }

  /**
   * `queued` settled, or rejected at `end` (performance.now() time) if it has not: a run's pass that waits behind
   * pushed steps the store has not acknowledged (each may wait its own 30 s) fails at the run's time, not theirs.
   * Whether the store will have it is then unknown: the next pass lists everything.
   */
  private byDeadline(queued: Promise<void>, timeoutMs: number, end: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        this.complete = false;
        reject(notApplied(timeoutMs));
      }, Math.max(0, end - performance.now()));
    });
    return Promise.race([queued, late]).finally(() => clearTimeout(timer));
  }

  /** Pushed steps: coalesced with whatever else arrives before the store is free. */
  push(steps: StoreStep[]): void {
    this.pending.push(...steps);
    const over = this.pending.length - MAX_PENDING_PUSHES;
    if (over > 0) {
      // the oldest go: a later event of the same app says more
      this.pending.splice(0, over);
      this.pushesLost += over;
    }
    if (this.pushScheduled) return;
    this.pushScheduled = true;
    this.chain = this.chain.then(async () => {
      this.pushScheduled = false;
      const batch = this.pending;
      this.pending = [];
      if (batch.length === 0) return;
      await this.post({ type: 'pass', seq: ++this.seq, source: this.source, steps: batch }, this.ackTimeoutMs)
        .catch(() => { this.pushesLost += batch.length; });
    });
  }

  /**
   * Posts `msg` and waits for its acknowledgement until `end` (performance.now() time): the wait of a message
   * that queued behind others started when it was handed over, and one whose time passed meanwhile is not sent.
   */
  private post(msg: PassMessage, timeoutMs: number, end = performance.now() + timeoutMs): Promise<AppliedMessage> {
    if (this.isClosed) return Promise.reject(new Error('store port replaced'));
    const left = end - performance.now();
    if (left <= 0) return Promise.reject(notApplied(timeoutMs));
    return new Promise<AppliedMessage>((resolve, reject) => {
      const done = (err: Error | null, applied?: AppliedMessage) => {
        clearTimeout(timer);
        this.port.off('message', onMessage);
        this.waits.delete(fail);
        if (err) reject(err);
        else resolve(applied!);
      };
      const fail = (err: Error) => done(err);
      const timer = setTimeout(() => done(notApplied(timeoutMs)), left);
      const onMessage = (m: AppliedMessage) => {
        if (m?.type !== 'applied' || m.seq !== msg.seq) return;
        for (const key of m.reread ?? []) this.reread.add(key);
        done(null, m);
      };
      this.waits.add(fail);
      this.port.on('message', onMessage);
      this.port.postMessage(msg);
    });
  }

  /** The store behind this port is gone: fail what waits on it, and send nothing more. */
  close(): void {
    this.fail(new Error('store port replaced (the store thread was restarted)'));
    this.port.close();
  }

  private fail(err: Error): void {
    this.isClosed = true;
    for (const fail of [...this.waits]) fail(err);
  }
}

function notApplied(timeoutMs: number): Error {
  // (a run's wait is what is left of its deadline: whole milliseconds, as …/sources shows the text)
  return new Error(`store did not apply the pass within ${Math.round(timeoutMs)} ms`);
}
