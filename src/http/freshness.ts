import type { FreshnessMessage } from '../protocol.ts';
import { envelopeJson, OK_MESSAGE } from '../model/index.ts';
import type { HeaderList } from './header-list.ts';

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
  /** the `…/sources` answer (envelope), built once per message */
  body: Uint8Array;
}

/** The latest freshness the store pushed; one object per message, so identity tells a change. */
export class FreshnessHolder {
  current: Freshness | null = null;

  onMessage(m: FreshnessMessage): Freshness {
    const data = `{"fresh_as_of":${JSON.stringify(m.fresh_as_of)},"sources":${m.sources}}`;
    this.current = {
      epoch: m.epoch, freshAsOf: m.fresh_as_of, sources: m.sources,
      body: Buffer.from(envelopeJson(true, OK_MESSAGE, data)),
    };
    return this.current;
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
      this.list = [...this.base, ...this.holder.headerPair()];
    }
    return this.list;
  }
}
