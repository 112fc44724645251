import { createHash, hash as oneShotHash } from 'node:crypto';

const BUCKETS = 256;

/**
 * A digest of a keyed set of rows that depends only on their content, never on the order they arrived in or
 * on when this store saw them: two stores (a restart, another replica) holding the same rows get the same
 * digest. Rows are spread over 256 buckets by key; a bucket's digest (SHA-256 over its rows sorted by key)
 * is recomputed only when one of its rows changed, so a pass that touched a few rows costs a few buckets,
 * not the whole market.
 */
export class ContentDigest {
  private readonly buckets = Array.from({ length: BUCKETS }, () => ({ rows: new Map<string, string>(), digest: '' }));
  private readonly dirty = new Set<number>();
  private root: string | null = null;

  /** The row's content: any string that is equal exactly when the content a reader sees is equal. */
  set(key: string, content: string): void {
    const b = bucketOf(key);
    this.buckets[b]!.rows.set(key, sha256(content));
    this.dirty.add(b);
    this.root = null;
  }

  /** The row's content hash (undefined: no such row). */
  of(key: string): string | undefined {
    return this.buckets[bucketOf(key)]!.rows.get(key);
  }

  delete(key: string): void {
    const b = bucketOf(key);
    if (this.buckets[b]!.rows.delete(key)) {
      this.dirty.add(b);
      this.root = null;
    }
  }

  /** base64url SHA-256 of the bucket digests */
  digest(): string {
    if (this.root !== null) return this.root;
    for (const b of this.dirty) {
      const bucket = this.buckets[b]!;
      const h = createHash('sha256');
      for (const key of [...bucket.rows.keys()].sort()) h.update(JSON.stringify(key)).update(bucket.rows.get(key)!);
      bucket.digest = bucket.rows.size === 0 ? '' : h.digest('base64url');
    }
    this.dirty.clear();
    const h = createHash('sha256');
    for (const bucket of this.buckets) h.update(bucket.digest).update('\n');
    this.root = h.digest('base64url');
    return this.root;
  }
}

/** base64url SHA-256 of the parts, each delimited so that no two lists of parts share a digest */
export function digestOf(parts: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(String(p.length)).update(':').update(p);
  return h.digest('base64url');
}

/**
 * SHA-256 of one string or buffer in one call: crypto.hash makes no Hash object, ~2.5x cheaper for the short
 * texts digested per row and per item (Node.js 20.12+).
 */
export function sha256(data: string | Uint8Array, encoding: 'base64' | 'base64url' = 'base64url'): string {
  return oneShotHash('sha256', data, encoding);
}

/** FNV-1a over the key's UTF-16 units: cheap, stable across processes (the bucket only spreads the work) */
function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}
