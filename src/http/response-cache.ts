import { SMALL_POD_ANSWER_CACHES } from '../thread-limits.ts';
import type { AnswerBytes } from './answer-bytes.ts';

/** One cached answer: its bytes and the ETag they were served with; `missing`: the store found nothing (a 404). */
export interface CachedAnswer {
  etag: string;
  body: Buffer;
  missing?: true;
}

const EMPTY = Buffer.alloc(0);

/**
 * Answers of filtered and partial queries, kept for the store and version they were computed at (the
 * `stamp`): monitoring repeats the same query every few seconds, and between two versions the answer cannot
 * change. Bounded in entries and bytes (when full: below). A new version makes every entry
 * stale at once; a new store (another epoch) too.
 *
 * An answer is kept from the second time it is asked at one stamp (a doorkeeper): on a live market most
 * answers are asked once per version (a frontend's user, a page), and keeping each pushed the ones asked
 * again out and held every answer's bytes until the old generation was next collected (at 50,000 apps, one
 * user's answer ~60 kB at 1,500 a second: ~50 MiB of dead buffers under load).
 *
 * When full, an answer of the current version does not push out another of the same version (those of older
 * versions go first): a load asking more answers per version than fit, in turn (a frontend's users, a dashboard's
 * pages), would have each pushed out before it is asked again, keeping nothing it serves while every answer's
 * bytes outlived it. The first answers that fit are served for the whole version instead.
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedAnswer & { stamp: string }>();
  private bytes = 0;
  /** per key, the stamp it was last asked and missed at, and how many times it was asked at that stamp */
  private readonly asked = new Map<string, { stamp: string; n: number }>();
  /** lookups by result (/metrics: market_runtime_http_answer_cache_lookups_total) */
  hits = 0;
  misses = 0;

  // 16 MiB, 48 in a large pod (thread-limits.ts answerCacheBytes): a share of the HTTP thread's budget (docs/operations.md, Memory); answers of older versions go when the version moves
  // `bytes`: told which answers it keeps and lets go, so their bytes go when nothing else holds them
  constructor(
    private readonly maxEntries = 1024, private readonly maxBytes = SMALL_POD_ANSWER_CACHES.cached, private readonly answerBytes?: AnswerBytes,
  ) {}

  /** The answer cached under `key` for exactly this store and version. */
  get(key: string, stamp: string): CachedAnswer | undefined {
    const e = this.entries.get(key);
    if (!e || e.stamp !== stamp) {
      this.misses += 1;
      this.noteAsked(key, stamp);
      return undefined;
    }
    this.hits += 1;
    return e;
  }

  /**
   * That the store found nothing for `key` at this version: a poller of an app or task that left the view is
   * answered 404 without asking the store again until the version moves.
   */
  setMissing(key: string, stamp: string): void {
    this.delete(key);
    if (!this.roomFor(0, stamp)) return;
    this.entries.set(key, { stamp, etag: '', body: EMPTY, missing: true });
  }

  /** Keeps the answer to `key` at `stamp` if it was asked before at that stamp (above); answers whether it did. */
  set(key: string, stamp: string, etag: string, body: Buffer): boolean {
    const asked = this.asked.get(key);
    if (body.length > this.maxBytes / 8 || asked?.stamp !== stamp || asked.n < 2) return false;
    this.asked.delete(key);
    this.delete(key);
    if (!this.roomFor(body.length, stamp)) return false;
    this.entries.set(key, { stamp, etag, body });
    this.bytes += body.length;
    this.answerBytes?.hold(body);
    return true;
  }

  private noteAsked(key: string, stamp: string): void {
    const asked = this.asked.get(key);
    if (asked?.stamp === stamp) {
      asked.n += 1;
      return;
    }
    this.asked.delete(key);
    this.asked.set(key, { stamp, n: 1 });
    // (bounded like the entries: the oldest noted first out)
    if (this.asked.size > 4 * this.maxEntries) this.asked.delete(this.asked.keys().next().value!);
  }

  /** Whether one more answer of `bytes` at `stamp` fits, once answers of other stamps made room (oldest first). */
  private roomFor(bytes: number, stamp: string): boolean {
    const fits = () => this.entries.size < this.maxEntries && this.bytes + bytes <= this.maxBytes;
    for (const [k, e] of this.entries) {
      if (fits()) break;
      if (e.stamp !== stamp) this.delete(k);
    }
    return fits();
  }

  /**
   * A new version: the answers of any other can never be served again (get asks for the stamp exactly), so
   * their bytes go now instead of staying until newer answers push them out. A query that had an answer kept
   * was asked again before: its answer at `stamp` is kept from the first time it is asked (the doorkeeper's
   * first answer would be garbage the moment it is sent: at 10,000 apps under the 200-user load, ~12 MiB of
   * bodies at every version, waiting for a collection).
   */
  retireAllBut(stamp: string): void {
    for (const [k, e] of this.entries) {
      if (e.stamp === stamp) continue;
      this.delete(k);
      this.noteAsked(k, stamp);
    }
  }

  /** Forgets everything (the store was replaced). */
  clear(): void {
    for (const e of this.entries.values()) this.answerBytes?.release(e.body);
    this.entries.clear();
    this.asked.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.bytes -= e.body.length;
    this.entries.delete(key);
    this.answerBytes?.release(e.body);
  }
}

/** A store and one of its versions: what a cached answer belongs to. */
export function stampOf(epoch: string, version: number): string {
  return `${epoch} ${version}`;
}
