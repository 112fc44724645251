import type { BodyAnswer } from '../protocol.ts';
import { CALL_DEADLINE_MS, callWithDeadline } from '../threads.ts';
import type { CurrentVersion, VersionWithBody } from './current-version.ts';
import { etagFor } from './etag.ts';

/**
 * The /state body of a version, asked of the store once however many requests want it at the same moment.
 * The store renders a body only when a reader needs one (a quiet poller's 304 needs none, a stream client
 * gets changes), so on a live market most versions are never rendered. The store answers its latest
 * version: when it has moved on, the answer is that newer version's body (a consistent snapshot with its own
 * tag), and `onBody` keeps it for the version message on its way.
 */
export class VersionBodies {
  private inflight: { epoch: string; version: number; promise: Promise<VersionWithBody> } | null = null;

  constructor(
    private readonly ask: () => Promise<BodyAnswer> | null,
    private readonly onBody: (v: VersionWithBody) => void,
  ) {}

  get(cur: CurrentVersion): Promise<VersionWithBody> {
    if (cur.body) return Promise.resolve(cur as VersionWithBody);
    const running = this.inflight;
    if (running && running.epoch === cur.epoch && running.version === cur.version) return running.promise;
    const promise = this.fetch(cur);
    this.inflight = { epoch: cur.epoch, version: cur.version, promise };
    // a failed fetch is not kept: the next request asks again
    promise.catch(() => { if (this.inflight?.promise === promise) this.inflight = null; });
    return promise;
  }

  /** a new store: nothing asked of the old one is awaited any more */
  forget(): void {
    this.inflight = null;
  }

  private async fetch(cur: CurrentVersion): Promise<VersionWithBody> {
    const call = this.ask();
    if (!call) throw new Error('runtime store unavailable');
    const a = await callWithDeadline(call, CALL_DEADLINE_MS, 'store.body');
    const body = new Uint8Array(a.body);
    const got: VersionWithBody = a.version === cur.version
      ? { ...cur, body }
      : { ...cur, version: a.version, content: a.content, etag: etagFor(a.content), body, sizeHint: body.byteLength };
    this.onBody(got);
    return got;
  }
}
