import { MessageChannel, Worker } from 'node:worker_threads';
import type { CollectorSpec, StoreControlApi } from '../protocol.ts';
import { Comlink, threadFile, wrap } from '../threads.ts';
import type { Logger } from '../log.ts';
import { threadInit } from '../log-thread.ts';
import { threadLimits } from '../thread-limits.ts';
import { threadMemory } from '../thread-metrics.ts';
import type { HttpSecurityOptions } from '../http/hardening.ts';
import { CollectorHandle } from './collector-handle.ts';
import type { StuckLimits } from '../store/stuck.ts';

export interface SupervisorOptions {
  port: number;
  host: string;
  collectIntervalMs: number;
  collectDeadlineMs: number;
  shutdownTimeoutMs: number;
  /** when apps and tasks count as stuck (store defaults when absent) */
  stuckLimits?: StuckLimits;
  collectors: CollectorSpec[];
  log: Logger;
  /** token, /metrics protection, CORS: handed to the HTTP thread at listen time */
  security?: Omit<HttpSecurityOptions, 'log'>;
}

interface HttpControl {
  attachStore(queryPort: MessagePort, versionPort: MessagePort): void;
  listen(opts: { port: number; host: string; security?: Omit<HttpSecurityOptions, 'log'> }): Promise<{ port: number }>;
  close(timeoutMs: number): Promise<void>;
}

type MessagePort = import('node:worker_threads').MessagePort;

const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
/** a thread that lived this long before dying starts its restart delay from the beginning again */
const STABLE_AFTER_MS = 60_000;

/**
 * The main thread's only job: start the store, the collectors and the HTTP thread, wire their ports,
 * schedule collection, restart a thread that dies, and stop everything in order.
 */
export class Supervisor {
  private storeWorker!: Worker;
  private store!: Comlink.Remote<StoreControlApi>;
  private httpWorker!: Worker;
  private http!: Comlink.Remote<HttpControl>;
  private readonly handles: CollectorHandle[];
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** the port actually bound (PORT=0 picks a free one) */
  port = 0;
  storeRestarts = 0;
  httpRestarts = 0;
  private readonly deaths = { store: 0, http: 0 };

  constructor(private readonly opts: SupervisorOptions) {
    this.handles = opts.collectors.map((spec) =>
      new CollectorHandle(spec, () => this.store, opts.collectDeadlineMs, opts.log));
  }

  async start(): Promise<void> {
    await this.startStore();
    await this.startHttp(this.opts.port);
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.collectIntervalMs);
  }

  private tick(): void {
    if (this.stopping) return;
    for (const h of this.handles) h.tick();
    // the main thread has no metrics of its own: the store shows its memory with every thread's
    void this.store?.reportThreadMemory('main', threadMemory()).catch(() => undefined);
  }

  /**
   * A supervised thread: when it dies unexpectedly, `restart` runs after a delay that doubles with each
   * quick death (0.5 s up to 30 s) and resets once the thread has lived a minute, so a thread that crashes
   * on start-up cannot spin.
   */
  private spawn(kind: 'store' | 'http', restart: () => Promise<void>): Worker {
    const worker = new Worker(threadFile(kind), {
      name: kind, workerData: threadInit(this.opts.log.level), resourceLimits: threadLimits(kind),
    });
    const bornAt = Date.now();
    worker.on('error', (err) => this.opts.log.error({ err, thread: kind }, 'thread error'));
    worker.once('exit', (code) => {
      const current = kind === 'store' ? this.storeWorker : this.httpWorker;
      if (this.stopping || current !== worker) return;
      const streak = Date.now() - bornAt > STABLE_AFTER_MS ? 0 : this.deaths[kind];
      this.deaths[kind] = streak + 1;
      const delay = Math.min(MAX_RESTART_DELAY_MS, RESTART_DELAY_MS * 2 ** streak);
      this.opts.log.error({ code, thread: kind, restart_in_ms: delay }, 'thread exited; restarting it');
      if (kind === 'store') this.storeRestarts += 1;
      else this.httpRestarts += 1;
      setTimeout(() => void restart().catch((err) =>
        this.opts.log.error({ err: err instanceof Error ? err.message : String(err), thread: kind }, 'thread restart failed')), delay);
    });
    return worker;
  }

  private async startStore(): Promise<void> {
    const worker = this.spawn('store', () => this.restartStore());
    this.storeWorker = worker;
    this.store = wrap<StoreControlApi>(worker);
    await this.store.expectSources(this.opts.collectors.map((c) => c.source), this.opts.collectIntervalMs);
    if (this.opts.stuckLimits) await this.store.setStuckLimits(this.opts.stuckLimits);
  }

  private async restartStore(): Promise<void> {
    if (this.stopping) return;
    await this.startStore();
    for (const h of this.handles) h.storeReplaced();
    await this.attachHttpToStore();
    this.tick(); // rebuild the state now rather than at the next interval
  }

  private async startHttp(port: number): Promise<void> {
    const worker = this.spawn('http', () => this.startHttp(this.port));
    this.httpWorker = worker;
    this.http = wrap<HttpControl>(worker);
    await this.attachHttpToStore();
    const bound = await this.http.listen({ port, host: this.opts.host, security: this.opts.security });
    this.port = bound.port;
  }

  private async attachHttpToStore(): Promise<void> {
    const query = new MessageChannel();
    const version = new MessageChannel();
    await this.store.attachQueryPort(Comlink.transfer(query.port1, [query.port1]));
    await this.store.attachVersionPort(Comlink.transfer(version.port1, [version.port1]));
    await this.http.attachStore(
      Comlink.transfer(query.port2, [query.port2]) as never,
      Comlink.transfer(version.port2, [version.port2]) as never,
    );
  }

  /** Test and fault-injection hooks: kill a thread the way a crash would. */
  threads(): { store: Worker; http: Worker } {
    return { store: this.storeWorker, http: this.httpWorker };
  }

  /**
   * Graceful stop: no new runs, in-flight runs finish or are aborted, the HTTP thread stops accepting and
   * finishes in-flight responses, then every thread ends.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    const budget = this.opts.shutdownTimeoutMs;
    const t0 = Date.now();
    const log = this.opts.log;
    await Promise.all([
      this.http.close(Math.floor(budget / 2)).catch(() => undefined)
        .then(() => log.debug({ ms: Date.now() - t0 }, 'http closed')),
      ...this.handles.map((h) => h.drain(Math.floor(budget / 3))
        .then(() => log.debug({ ms: Date.now() - t0, source: h.spec.source }, 'collector drained'))),
    ]);
    await Promise.all(this.handles.map((h) => h.close().catch(() => undefined)));
    log.debug({ ms: Date.now() - t0 }, 'collector pools closed');
    await Promise.all([this.httpWorker.terminate(), this.storeWorker.terminate()]);
    log.debug({ ms: Date.now() - t0 }, 'threads ended');
  }
}
