import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { threadFile } from '../threads.ts';
import { threadLimits } from '../thread-limits.ts';
import type { ThreadMemory } from '../protocol.ts';
import type { CompressResult, CompressTask, Encoding } from './compress-job.ts';

/** A compression job past this is abandoned and its thread replaced (a body is compressed in milliseconds). */
const COMPRESS_DEADLINE_MS = 10_000;

/**
 * Compressed snapshot bodies, computed once per version and encoding in a piscina thread (never on the
 * store or HTTP thread), on the first request that wants them; concurrent requests share the job.
 */
export class CompressedBodies {
  private readonly pool: Piscina<CompressTask, CompressResult>;
  /** the compression thread's memory after its last job (null: none ran yet) */
  memory: ThreadMemory | null = null;
  private key = '';
  /** jobs on the thread now */
  private running = 0;
  /** the chaos control killed the thread: its end is a death, not an idle end */
  private killed = false;
  private readonly jobs = new Map<Encoding, Promise<Uint8Array>>();
  private closing = false;

  /**
   * `started` hears of every job (the metrics count them: one per version and encoding, never per request);
   * `replaced` of every compression thread the pool had to replace (it died, ran out of memory, overran), and why.
   */
  constructor(
    private readonly started: (encoding: Encoding) => void = () => undefined,
    replaced: (reason: string) => void = () => undefined,
    resourceLimits?: ResourceLimits,
  ) {
    this.pool = new Piscina<CompressTask, CompressResult>({
      filename: fileURLToPath(threadFile('compress')),
      // started by the first request that wants a compressed body, ended after a minute without one: a
      // sidecar nobody asks for compression pays no thread for it
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: 60_000,
      resourceLimits: resourceLimits ?? threadLimits('compress'),
    });
    // a thread destroyed while a job ran on it died or overran (idle ends happen with none): a replacement
    this.pool.on('workerDestroy', () => {
      if (!this.closing && (this.running > 0 || this.killed)) {
        replaced(this.killed ? 'killed (chaos control)' : `died or passed its ${COMPRESS_DEADLINE_MS / 1000} s deadline during a job`);
      }
      this.killed = false;
    });
    // a thread that dies with no job on it is reported here rather than as an uncaught 'error' event
    this.pool.on('error', (err: Error & { code?: string }) => { if (!this.closing) replaced(err?.code ?? err?.message ?? 'died'); });
  }

  get(tag: string, body: Uint8Array, encoding: Encoding): Promise<Uint8Array> {
    if (tag !== this.key) {
      this.key = tag;
      this.jobs.clear();
    }
    let job = this.jobs.get(encoding);
    if (!job) {
      this.started(encoding);
      // a thread that dies rejects its job (the request falls back to identity); one that hangs is replaced
      this.running += 1;
      job = this.pool.run({ body, encoding }, { signal: AbortSignal.timeout(COMPRESS_DEADLINE_MS) }).then((r) => {
        this.memory = r.memory;
        return r.body;
      });
      // (counted down on the next turn: piscina destroys a failed thread before the job's rejection is seen)
      job.then(() => { this.running -= 1; }, () => setImmediate(() => { this.running -= 1; }));
      // a failed job is not cached: the next request tries again
      job.catch(() => { if (this.jobs.get(encoding) === job) this.jobs.delete(encoding); });
      this.jobs.set(encoding, job);
    }
    return job;
  }

  /** Chaos testing only: kills the compression thread; false when none runs (it starts with the first compressed answer). */
  killThread(): boolean {
    const thread = this.pool.threads[0];
    if (!thread) return false;
    this.killed = true;
    void thread.terminate();
    return true;
  }

  close(): Promise<void> {
    this.closing = true;
    return this.pool.destroy();
  }
}
