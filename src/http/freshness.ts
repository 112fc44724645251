import type { FreshnessMessage, ThreadRestart, ThreadRestarts } from '../protocol.ts';
import { envelopeJson, OK_MESSAGE } from '../model/index.ts';
import { withHeader, type HeaderList } from './header-list.ts';

/**
 * Every answer carries this header: the oldest `last_success` over the collectors, i.e. every source's data is
 * at least this fresh. It moves with every pass while the ETag moves only with content (as Consul's
 * X-Consul-LastContact beside X-Consul-Index), so a client that got a 304 still learns how fresh its copy is,
 * and computes the age on its own clock (the Date header gives the server's). Absent until every source has
 * succeeded once.
 */
export const FRESH_AS_OF = 'X-Runtime-Fresh-As-Of';

export interface Freshness {
  epoch: string;
  /** the header's value, or null while a source has never succeeded */
  freshAsOf: string | null;
  /** JSON of every source's health and freshness */
  sources: string;
  /**
   * `{fresh_as_of, sources, threads}` (threads: each one's replacements, from the supervisor): the data of
   * `…/sources` and of the stream's `freshness` event, built once per message
   */
  data: string;
  /** the `…/sources` answer (envelope) */
  body: Uint8Array;
}

/**
 * The latest freshness the store pushed; one object per message, so identity tells a change. `…/sources` also
 * shows every thread's replacements, which the supervisor counts (they survive the threads): like freshness,
 * they are never part of a version.
 */
export class FreshnessHolder {
  current: Freshness | null = null;
  /** JSON of `threads`: each thread's restarts and last restart (from the supervisor) */
  private threads = '{}';

  onMessage(m: FreshnessMessage): Freshness {
    this.current = this.build(m.epoch, m.fresh_as_of, m.sources);
    return this.current;
  }

  /**
   * The supervisor's restart counts and last restarts: `…/sources` and the stream's `freshness` events show
   * them from now on. Returns the freshness now (null while the store has pushed none).
   */
  setThreads(counts: ThreadRestarts, last: Record<string, ThreadRestart>): Freshness | null {
    const threads: Record<string, { restarts: number; last_restart_at: string | null; last_restart_reason: string | null }> = {};
    for (const [name, restarts] of Object.entries(counts)) {
      threads[name] = { restarts, last_restart_at: last[name]?.at ?? null, last_restart_reason: last[name]?.reason ?? null };
    }
    this.threads = JSON.stringify(threads);
    const f = this.current;
    if (f) this.current = this.build(f.epoch, f.freshAsOf, f.sources);
    return this.current;
  }

  private build(epoch: string, freshAsOf: string | null, sources: string): Freshness {
    const data = `{"fresh_as_of":${JSON.stringify(freshAsOf)},"sources":${sources},"threads":${this.threads}}`;
    return { epoch, freshAsOf, sources, data, body: Buffer.from(envelopeJson(true, OK_MESSAGE, data)) };
  }

  /** the header pair to add to an answer (empty while unknown) */
  headerPair(): HeaderList {
    const at = this.current?.freshAsOf;
    return at ? [FRESH_AS_OF, at] : [];
  }
}

/**
 * A prepared header list with the current freshness header appended, rebuilt only when freshness moved (once
 * per pass), never per request.
 */
export class WithFreshness {
  private of: Freshness | null | undefined = undefined;
  private list: HeaderList = [];

  constructor(private readonly holder: FreshnessHolder, private readonly base: HeaderList) {}

  get(): HeaderList {
    const f = this.holder.current;
    if (f !== this.of) {
      this.of = f;
      const pair = this.holder.headerPair();
      this.list = pair.length === 0 ? this.base : withHeader(this.base, pair[0]!, pair[1]!);
    }
    return this.list;
  }
}
