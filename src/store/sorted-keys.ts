import { IndexOf } from './multi-index.ts';

/**
 * A set of keys that can also be read in string order, for paging. The order is brought up to date only when
 * read, and only for keys added or removed since the last read: removed keys are filtered out and added ones
 * merged in (O(n + a log a)), so a read after a version that changed only content costs nothing and 50,000
 * keys are sorted once, not per request. A key deleted and added again before a read (an entity table's
 * update is onDelete + onAdd) leaves the order untouched.
 */
export class SortedKeys {
  readonly keys = new Set<string>();
  private ordered: string[] = [];
  /** changes since `ordered` was made: kept apart so a read merges them instead of sorting everything */
  private readonly added = new Set<string>();
  private readonly removed = new Set<string>();

  get size(): number {
    return this.keys.size;
  }

  add(key: string): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    if (!this.removed.delete(key)) this.added.add(key);
  }

  delete(key: string): void {
    if (!this.keys.delete(key)) return;
    if (!this.added.delete(key)) this.removed.add(key);
  }

  /** Every key in string order (the caller must not change the array). */
  sorted(): readonly string[] {
    if (this.added.size === 0 && this.removed.size === 0) return this.ordered;
    const kept = this.removed.size === 0 ? this.ordered : this.ordered.filter((k) => !this.removed.has(k));
    this.ordered = merge(kept, [...this.added].sort());
    this.added.clear();
    this.removed.clear();
    return this.ordered;
  }
}

/** The index of the first key in `sorted` that sorts after `key`. */
export function firstAfter(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function merge(a: readonly string[], b: readonly string[]): string[] {
  if (b.length === 0) return a as string[];
  if (a.length === 0) return b as string[];
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i]! < b[j]! ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** A secondary index (as MultiIndex: one value -> the keys that have it) whose keys can be read in string order. */
export class SortedIndex extends IndexOf<SortedKeys> {
  constructor() {
    super(() => new SortedKeys());
  }

  get(value: string): ReadonlySet<string> {
    return this.of(value)?.keys ?? EMPTY.keys;
  }

  /** the keys of one value, in string order */
  ordered(value: string): SortedKeys {
    return this.of(value) ?? EMPTY;
  }
}

const EMPTY = new SortedKeys();
