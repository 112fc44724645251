/** What an index keeps per value: a set of primary keys (plain, or kept in order: sorted-keys.ts). */
interface KeySet {
  add(key: string): unknown;
  delete(key: string): unknown;
  readonly size: number;
}

/** A secondary index: one value (user, app name, status ...) -> the primary keys that have it. */
export class IndexOf<S extends KeySet> {
  private readonly byValue = new Map<string, S>();

  constructor(private readonly make: () => S) {}

  add(value: string | undefined, key: string): void {
    if (value === undefined) return;
    let keys = this.byValue.get(value);
    if (!keys) this.byValue.set(value, (keys = this.make()));
    keys.add(key);
  }

  delete(value: string | undefined, key: string): void {
    if (value === undefined) return;
    const keys = this.byValue.get(value);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.byValue.delete(value);
  }

  /** Forgets every key of one value. */
  clear(value: string): void {
    this.byValue.delete(value);
  }

  /** the keys of one value (undefined: none) */
  protected of(value: string): S | undefined {
    return this.byValue.get(value);
  }
}

/** The plain index: the keys of a value as a set. */
export class MultiIndex extends IndexOf<Set<string>> {
  constructor() {
    super(() => new Set());
  }

  get(value: string): ReadonlySet<string> {
    return this.of(value) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
