/** A secondary index: one value (user, app name, status ...) -> the primary keys that have it. */
export class MultiIndex {
  private readonly byValue = new Map<string, Set<string>>();

  add(value: string | undefined, key: string): void {
    if (value === undefined) return;
    let keys = this.byValue.get(value);
    if (!keys) this.byValue.set(value, (keys = new Set()));
    keys.add(key);
  }

  delete(value: string | undefined, key: string): void {
    if (value === undefined) return;
    const keys = this.byValue.get(value);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.byValue.delete(value);
  }

  get(value: string): ReadonlySet<string> {
    return this.byValue.get(value) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
