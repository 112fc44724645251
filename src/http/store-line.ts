import { CALL_DEADLINE_MS, callWithDeadline } from '../threads.ts';
import type { AsyncQueries } from './current-version.ts';

/** a store that pushed something this recently is alive without a ping (alive) */
const STORE_QUIET_MS = 5000;
const PING_DEADLINE_MS = 1000;

/**
 * The HTTP thread's line to the store thread: its query API, and whether the store is answering at all.
 *
 * comlink never rejects a call whose other side hangs, so every caller waits out its deadline
 * (CALL_DEADLINE_MS) before answering 503. Once one call has waited that long without a word from the store
 * (no answer, no push), the store is silent: until it is heard again (a push, an answer, the ping sent while
 * it is silent) or replaced, queries get no line (503 at once) instead of each waiting the deadline out
 * while the supervisor's watchdog decides to replace the store. A store busy with a large pass keeps
 * pushing, so it is never taken for silent.
 */
export class StoreLine {
  private remote: AsyncQueries | null = null;
  private watched: AsyncQueries | null = null;
  /** when the store last pushed or answered anything */
  private heard = 0;
  /** when a call last waited its whole deadline with nothing heard (silent while later than `heard`) */
  private silentSince = 0;
  private probing = false;

  attach(remote: AsyncQueries): void {
    this.remote = remote;
    this.heard = 0;
    this.silentSince = 0;
    this.probing = false;
    // every call is watched: an answer is a sign of life, a deadline passed in silence makes the store silent
    this.watched = new Proxy({} as AsyncQueries, {
      get: (_, method) => (typeof method !== 'string' || method === 'then')
        ? undefined
        : (...args: unknown[]) => this.watch((remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(...args)),
    });
  }

  detach(): void {
    this.remote = null;
    this.watched = null;
  }

  /** the store pushed something (a version, a pass's freshness) */
  heardNow(): void {
    this.heard = Date.now();
  }

  get silent(): boolean {
    return this.remote !== null && this.silentSince > this.heard;
  }

  /** The store's queries, or null when there is no store or it is silent (the caller answers 503). */
  queries(): AsyncQueries | null {
    if (this.silent) {
      this.probe();
      return null;
    }
    return this.watched;
  }

  /**
   * Whether the store is alive: it was heard within STORE_QUIET_MS or answers a ping within 1 s. A store busy
   * applying a large pass misses a ping but keeps pushing, so readiness does not flap under load; a hung store
   * stops both and /readyz says 503 within seconds.
   */
  async alive(): Promise<boolean> {
    const q = this.queries();
    if (!q) return false;
    if (Date.now() - this.heard < STORE_QUIET_MS) return true;
    try {
      await callWithDeadline(q.ping(), PING_DEADLINE_MS, 'store.ping');
      return true;
    } catch {
      return false;
    }
  }

  /** One ping at a time while silent: its answer makes the store heard again. */
  private probe(): void {
    if (this.probing || !this.remote) return;
    this.probing = true;
    const remote = this.remote;
    callWithDeadline(remote.ping(), CALL_DEADLINE_MS, 'store.ping')
      .then(() => { if (this.remote === remote) this.heardNow(); }, () => undefined)
      .finally(() => { if (this.remote === remote) this.probing = false; });
  }

  private watch<T>(call: Promise<T>): Promise<T> {
    const asked = Date.now();
    const remote = this.remote;
    const timer = setTimeout(() => {
      if (this.remote === remote && this.heard < asked) this.silentSince = Date.now();
    }, CALL_DEADLINE_MS);
    timer.unref();
    call.then(
      () => { clearTimeout(timer); if (this.remote === remote) this.heardNow(); },
      () => clearTimeout(timer),
    );
    return call;
  }
}
