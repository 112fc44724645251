/**
 * Answers of filtered and partial queries, kept for the store version they were computed at: monitoring
 * repeats the same query every few seconds, and between two versions the answer cannot change. Bounded
 * in entries and bytes; least recently used first out. A new version makes every entry stale at once.
 */
export class ResponseCache {
  private readonly entries = new Map<string, { tag: string; body: Buffer }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries = 1024, private readonly maxBytes = 64 * 1024 * 1024) {}

  /** The body cached under `key` for exactly this version tag. */
  get(key: string, tag: string): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e || e.tag !== tag) {
      this.misses += 1;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits += 1;
    return e.body;
  }

  set(key: string, tag: string, body: Buffer): void {
    if (body.length > this.maxBytes / 8) return;
    this.delete(key);
    this.entries.set(key, { tag, body });
    this.bytes += body.length;
    for (const [k] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.delete(k);
    }
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.bytes -= e.body.length;
    this.entries.delete(key);
  }
}
