import type { ServerResponse } from 'node:http';
import { MessageChannel } from 'node:worker_threads';

/**
 * The bytes of store answers (filtered and partial answers, /state bodies), freed the moment nothing in this
 * thread holds them any more.
 *
 * A store answer crosses as a transferred ArrayBuffer. One kept in the answer caches lives for a version, long
 * enough to be promoted, and a promoted ArrayBuffer's bytes go only with a full collection, which V8 schedules
 * by what its heap allocates rather than by these bytes: under the 200-user load at 10,000 apps the thread held
 * 31–39 MiB of answers of versions gone (measured before this class), and a reader polling the unfiltered /state leaves
 * a whole body (19 MB at 10,000 apps) behind at every version. So each answer's holders are counted (the two
 * caches, the /state bodies the thread keeps, a compression job, every response writing it); when the count
 * falls to 0 its bytes are freed at once (freeNow).
 *
 * Only buffers registered by `own` are counted: an answer this thread made from a string may share Node's
 * buffer pool, and a body nobody registered is left to the collector as before.
 */
export class AnswerBytes {
  private readonly holders = new WeakMap<ArrayBuffer, number>();
  /** bytes freed without waiting for a collection */
  freed = 0;

  /** Registers `body`, the only view of a buffer that came from the store, with no holder yet (once: again, nothing). */
  own(body: Uint8Array): void {
    const buf = body.buffer;
    if (buf instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buf.byteLength && !this.holders.has(buf)) {
      this.holders.set(buf, 0);
    }
  }

  hold(body: Uint8Array): void {
    const n = this.holders.get(body.buffer as ArrayBuffer);
    if (n !== undefined) this.holders.set(body.buffer as ArrayBuffer, n + 1);
  }

  release(body: Uint8Array): void {
    const buf = body.buffer as ArrayBuffer;
    const n = this.holders.get(buf);
    if (n === undefined) return;
    if (n > 1) {
      this.holders.set(buf, n - 1);
      return;
    }
    this.holders.delete(buf);
    this.freed += buf.byteLength;
    freeNow(buf);
  }

  /**
   * Holds `body` until `res` has handed all it writes to the kernel ('finish'). A response that never finishes
   * (its client went away mid-write) keeps its hold: its body is then left to the collector, as the kernel
   * may still be reading it.
   */
  whileWriting(body: Uint8Array, res: ServerResponse | undefined): void {
    if (!res || !this.holders.has(body.buffer as ArrayBuffer)) return;
    this.hold(body);
    res.once('finish', () => this.release(body));
  }
}

/**
 * Frees `buf`'s bytes now: transferred into a message on a channel that is closed before anyone reads it, they go
 * with the message (~60 µs). A transfer to a new ArrayBuffer (structuredClone) would leave them to the scavenge
 * that collects that object: on a thread that allocates little, such as one serving a poller of the whole /state,
 * many seconds of 19 MB bodies at 10,000 apps.
 */
function freeNow(buf: ArrayBuffer): void {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [buf]);
  port1.close();
  port2.close();
}
