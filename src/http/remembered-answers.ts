import { SMALL_POD_ANSWER_CACHES } from '../thread-limits.ts';
import type { AnswerBytes } from './answer-bytes.ts';
import type { CurrentVersion } from './current-version.ts';
import { FreshnessHolder, WithFreshness } from './freshness.ts';
import { dataHeaderList, headHeaderList } from './header-list.ts';
import { queryHeaders } from './query-headers.ts';

/** One answer as the raw path writes it: bytes and headers prepared once. */
export interface RememberedAnswer {
  /** the route pattern that answered (the metrics label) */
  route: string;
  etag: string;
  /** prepared once; the freshness header appended when it moves */
  ok: WithFreshness;
  okHead: WithFreshness;
  notModified: WithFreshness;
  body: Uint8Array;
}

/**
 * Answers of queries (partial queries, filtered /state), remembered by their exact request target for the
 * store version they were computed at. Frontends and monitoring repeat the same URL over and over; between
 * two versions the answer cannot change, so a repeat is written straight to the raw node response like the
 * unfiltered /state, without Hono. Only the current version's answers are ever served: the first lookup or
 * remember at a new version forgets them all. Bounded in entries and bytes: when full, the answers already
 * remembered stay for the version (as ResponseCache keeps its first: a load asking more targets in turn than
 * fit would otherwise push each out before it is asked again).
 */
export class RememberedAnswers {
  private entries = new Map<string, RememberedAnswer>();
  private version: CurrentVersion | null = null;
  private bytes = 0;

  // 8 MiB, 24 in a large pod (thread-limits.ts answerCacheBytes): a share of the HTTP thread's budget (docs/operations.md, Memory); only the current version's answers are kept
  constructor(
    private readonly maxEntries = 1024, private readonly maxBytes = SMALL_POD_ANSWER_CACHES.remembered,
    private readonly freshness: FreshnessHolder = new FreshnessHolder(),
    /** told which answers it keeps and lets go, so their bytes go when nothing else holds them */
    private readonly answerBytes?: AnswerBytes,
  ) {}

  /** The answer remembered for `target` at version `cur`, if any. */
  lookup(target: string, cur: CurrentVersion): RememberedAnswer | undefined {
    if (cur !== this.version) {
      this.forget(cur);
      return undefined;
    }
    return this.entries.get(target);
  }

  /** Remembers the 200 answer to `target` computed at `cur` (tagged `etag`). */
  remember(target: string, cur: CurrentVersion, route: string, etag: string, body: Uint8Array): void {
    if (cur !== this.version) this.forget(cur);
    if (body.byteLength > this.maxBytes / 8 || this.entries.has(target)) return;
    if (this.entries.size >= this.maxEntries || this.bytes + body.byteLength > this.maxBytes) return;
    this.entries.set(target, {
      route, etag, body,
      ok: new WithFreshness(this.freshness, dataHeaderList(queryHeaders(200, etag), body)),
      okHead: new WithFreshness(this.freshness, headHeaderList(dataHeaderList(queryHeaders(200, etag), body))),
      notModified: new WithFreshness(this.freshness, dataHeaderList(queryHeaders(304, etag), null)),
    });
    this.bytes += body.byteLength;
    this.answerBytes?.hold(body);
  }

  get size(): number {
    return this.entries.size;
  }

  private forget(cur: CurrentVersion): void {
    this.version = cur;
    for (const a of this.entries.values()) this.answerBytes?.release(a.body);
    this.entries = new Map();
    this.bytes = 0;
  }
}
