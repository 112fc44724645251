import type { SourceName } from '../model/index.ts';
import { ContentDigest, digestOf, sha256 } from '../content-digest.ts';
import { MultiIndex } from './multi-index.ts';

/** Who listed an entity: a source, or the store itself (the collector_* components it derives). */
export type Owner = SourceName | 'self';

/** One stored entity: its value, its pre-rendered `"key":{json}` member, and the source that owns it. */
export interface Row<T> {
  value: T;
  /** `JSON.stringify(key) + ':' + JSON.stringify(value)`, rendered once when the entity changes */
  member: string;
  owner: Owner;
}

export interface TableHooks<T> {
  onAdd(key: string, value: T): void;
  onDelete(key: string, value: T): void;
}

/**
 * A keyed collection that renders each entity's JSON once, when it changes (the way kube-state-metrics
 * keeps rendered bytes per object). `carry` copies from the held value the fields that say when content
 * last changed (an app's last_update, a component's last_check): rendered with them, an entity whose content
 * is the same renders to the same bytes and is kept untouched — one stringify per entity per pass.
 */
export class EntityTable<T extends object> {
  readonly rows = new Map<string, Row<T>>();
  /** what the rows say, without the times `carry` keeps: equal on every store that holds equal rows */
  readonly digest = new ContentDigest();
  /** the whole table rendered (renderObject()), kept until a row changes: most versions touch one domain */
  private whole: string | null = null;
  /** the length of every member together (UTF-16 units: at most the UTF-8 bytes of the rendering) */
  chars = 0;
  /** keys by owner: what a source's listing reconciles, without a walk over every row */
  private readonly owned = new MultiIndex();
  /** per owner, how many times what it owns changed: equal counts, equal rows (changesOf) */
  private readonly changeCounts = new Map<Owner, number>();

  constructor(
    private readonly keyOf: (value: T) => string,
    private readonly hooks: TableHooks<T>,
    private readonly carry: (prev: T, next: T) => T = noCarry,
  ) {}

  get size(): number {
    return this.rows.size;
  }

  /** Inserts or replaces; returns the key if anything visible changed. */
  upsert(value: T, owner: Owner): string | null {
    const key = this.keyOf(value);
    const prev = this.rows.get(key);
    if (prev) {
      this.own(key, prev.owner, owner);
      // the same content (less the times `carry` keeps) is the same hash: held as it is. Compared by hash, a
      // changed entity costs two renderings (its content, its member), not three
      const hash = this.carry === noCarry ? undefined : sha256(this.contentOf(key, value));
      const member = hash === undefined || hash !== this.digest.of(key) ? render(key, value) : prev.member;
      if (member === prev.member) {
        prev.owner = owner;
        return null;
      }
      this.changed(owner);
      this.hooks.onDelete(key, prev.value);
      this.chars += member.length - prev.member.length;
      this.rows.set(key, { value, member, owner });
      this.digest.setHash(key, hash ?? sha256(member));
      this.whole = null;
    } else {
      const member = render(key, value);
      this.own(key, undefined, owner);
      this.chars += member.length;
      this.rows.set(key, { value, member, owner });
      this.digest.set(key, this.carry === noCarry ? member : this.contentOf(key, value));
      this.whole = null;
    }
    this.hooks.onAdd(key, value);
    return key;
  }

  delete(key: string): boolean {
    const prev = this.rows.get(key);
    if (!prev) return false;
    this.rows.delete(key);
    this.own(key, prev.owner, undefined);
    this.chars -= prev.member.length;
    this.digest.delete(key);
    this.whole = null;
    this.hooks.onDelete(key, prev.value);
    return true;
  }

  /** Keys owned by one of `owners` that are not in `keep`: what a full listing no longer has. */
  missing(owners: ReadonlySet<Owner>, keep: ReadonlySet<string>): string[] {
    const gone: string[] = [];
    for (const owner of owners) for (const key of this.ownedBy(owner)) if (!keep.has(key)) gone.push(key);
    return gone;
  }

  /** The keys `owner` owns. */
  ownedBy(owner: Owner): ReadonlySet<string> {
    return this.owned.get(owner);
  }

  /**
   * A count that moves whenever a row `owner` owns changes, arrives or leaves (pushed events included): what
   * the supervisor compares before it takes a copy of a failing source again (held-while-down.ts).
   */
  changesOf(owner: Owner): number {
    return this.changeCounts.get(owner) ?? 0;
  }

  private changed(owner: Owner): void {
    this.changeCounts.set(owner, this.changesOf(owner) + 1);
  }

  private own(key: string, from: Owner | undefined, to: Owner | undefined): void {
    if (from === to) return;
    if (from !== undefined) this.changed(from);
    if (to !== undefined) this.changed(to);
    this.owned.delete(from, key);
    this.owned.add(to, key);
  }

  /** The member without the carried times (when this store saw the change): what the digest hashes. */
  private contentOf(key: string, value: T): string {
    return render(key, this.carry(NO_TIMES as T, value));
  }

  key(value: T): string {
    return this.keyOf(value);
  }

  /**
   * What the rows of `keys` say, in that order, without the times this store alone kept (carry): the same on
   * every store that holds the same rows, whatever each saw before. `head` names what else the answer says.
   */
  rowsContent(keys: readonly string[], head: string): string {
    const parts = [head];
    for (const k of keys) parts.push(k, this.digest.of(k) ?? '');
    // 128 bits, as every other tag's (etag.ts)
    return digestOf(parts).slice(0, 22);
  }

  /** The entity's JSON, cut from its rendered member (no second stringify). */
  json(key: string): string | undefined {
    const row = this.rows.get(key);
    return row && row.member.slice(JSON.stringify(key).length + 1);
  }

  /**
   * `{"k":{...},...}` of the rows of `keys` (every row when omitted) as pieces appended to `out`: a body is
   * written from pieces, never flattened.
   */
  renderInto(out: string[], keys?: Iterable<string>): void {
    out.push('{');
    let first = true;
    const member = (row: { member: string } | undefined) => {
      if (!row) return;
      if (!first) out.push(',');
      out.push(row.member);
      first = false;
    };
    if (keys === undefined) for (const row of this.rows.values()) member(row);
    else for (const k of keys) member(this.rows.get(k));
    out.push('}');
  }

  /** `{"k":{...},"k2":{...}}` of every row in key order, kept until a row changes. */
  renderObject(): string {
    if (this.whole !== null) return this.whole;
    const parts: string[] = [];
    // in key order, as Go writes a map: the rows are held in the order this store last saw each change
    for (const key of [...this.rows.keys()].sort()) parts.push(this.rows.get(key)!.member);
    this.whole = '{' + parts.join(',') + '}';
    return this.whole;
  }
}

const noCarry = <T>(_prev: T, next: T): T => next;
/** a held value without times: carrying from it drops the carried times */
const NO_TIMES = Object.freeze({});

/**
 * `"key":{json}`, flattened now (charCodeAt makes V8 flatten a rope in place). Built with `+` it is a rope of the
 * stringifier's parts: held so, it takes about a third more heap than flat (50,000 app members: 53 against 40
 * MiB), and node flattens it the first time it writes it into an answer's bytes, a copy promoted beside the
 * parts until a full collection (+42 MB when the first whole /state is written at 50,000 apps).
 */
function render(key: string, value: unknown): string {
  const member = JSON.stringify(key) + ':' + JSON.stringify(value);
  member.charCodeAt(0);
  return member;
}
