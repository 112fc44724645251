import { createHash } from 'node:crypto';

/**
 * A query's own part of its tag: a cryptographic hash (128 bits of SHA-256) of its canonical key, so two
 * different queries never share a tag (a 32-bit hash could let one query be answered 304 for another's body).
 */
export function variantHash(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 22);
}

/** Tags change with the store's epoch (a restarted store restarts its versions) and version. */
export function etagFor(epoch: string, version: number, variant = ''): string {
  return `"${epoch}-${version}${variant ? '-' + variantHash(variant) : ''}"`;
}

/** If-None-Match matching per RFC 9110: a list of tags, weak comparison, or `*`. */
export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  // the usual revalidation sends back exactly our tag: no list to parse
  if (ifNoneMatch === etag) return true;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
