import type { PGlite } from '@electric-sql/pglite';

/**
 * The order in which pglite-socket feeds client messages to the one PGlite backend, fixing two faults of
 * its own queue (0.2.17): it switches clients between any two messages outside a transaction, so two
 * clients using the extended protocol (Parse/Bind/Execute ... Sync, as `postgres` and `pg` do) clobber each
 * other's unnamed portal ("portal \"\" does not exist"); and one failed message stalls the queue for good.
 * Here a client keeps the backend from its first extended-protocol message through its Sync, and for the
 * whole of a transaction; everyone else waits. Upstream: electric-sql/pglite#1046 (both faults) and the
 * proposed fix electric-sql/pglite#977. It takes the place of pglite-socket's private QueryQueueManager, so it
 * has that class's shape (enqueue, getQueueLength, clearQueueForHandler, clearTransactionIfNeeded) and
 * pglite-socket is pinned exactly in package.json.
 */

/** Parse, Bind, Describe, Execute, Close, Flush: a pipeline is open until Sync */
const MID_PIPELINE = new Set([...'PBDECH'].map((c) => c.charCodeAt(0)));

interface Item {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

export class WireQueue {
  private queue: Item[] = [];
  private processing = false;
  /** the client that holds the backend (mid-pipeline or in a transaction), or null */
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.process();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.queue = this.queue.filter((item) => {
      if (item.handlerId !== handlerId) return true;
      item.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  /** A client went away: release the backend if it held it (rolling back its open transaction). */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    this.owner = null;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => {});
    void this.process();
  }

  private async process(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      // each client has at most one message queued (it awaits each), so this ends when the queue does
      while (this.queue.length > 0) {
        const at = this.owner === null ? 0 : this.queue.findIndex((i) => i.handlerId === this.owner);
        if (at < 0) break; // the owner's next message has not arrived yet; its enqueue resumes us
        const [item] = this.queue.splice(at, 1);
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, {
            onRawData: (data) => {
              bytes += data.length;
              item.onData(data);
            },
          }));
          item.resolve(bytes);
        } catch (err) {
          item.reject(err);
        }
        this.owner = this.db.isInTransaction() || MID_PIPELINE.has(item.message[0]) ? item.handlerId : null;
      }
    } finally {
      this.processing = false;
    }
  }
}
