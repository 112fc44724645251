import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { threadFile } from '../threads.ts';
import { threadLimits } from '../thread-limits.ts';
import type { CompressTask, Encoding } from './compress-job.ts';

/**
 * Compressed snapshot bodies, computed once per version and encoding in a piscina thread (never on the
 * store or HTTP thread), on the first request that wants them; concurrent requests share the job.
 */
export class CompressedBodies {
  private readonly pool = new Piscina<CompressTask, Uint8Array>({
    filename: fileURLToPath(threadFile('compress')),
    // started by the first request that wants a compressed body, ended after a minute without one: a
    // sidecar nobody asks for compression pays no thread for it
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: 60_000,
    resourceLimits: threadLimits('compress'),
  });
  private key = '';
  private readonly jobs = new Map<Encoding, Promise<Uint8Array>>();

  /** `started` hears of every job (the metrics count them: one per version and encoding, never per request) */
  constructor(private readonly started: (encoding: Encoding) => void = () => undefined) {}

  get(tag: string, body: Uint8Array, encoding: Encoding): Promise<Uint8Array> {
    if (tag !== this.key) {
      this.key = tag;
      this.jobs.clear();
    }
    let job = this.jobs.get(encoding);
    if (!job) {
      this.started(encoding);
      job = this.pool.run({ body, encoding });
      // a failed job is not cached: the next request tries again
      job.catch(() => { if (this.jobs.get(encoding) === job) this.jobs.delete(encoding); });
      this.jobs.set(encoding, job);
    }
    return job;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
