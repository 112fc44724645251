import type { Context } from 'hono';
import { sha256 } from '../content-digest.ts';

/**
 * A query's own part of its tag: a cryptographic hash (128 bits of SHA-256) of its canonical key, so two
 * different queries never share a tag (a 32-bit hash could let one query be answered 304 for another's body).
 */
function variantHash(key: string): string {
  return sha256(key).slice(0, 22);
}

/**
 * A tag names the content a reader sees (the store's content digest, and the query's variant): the same
 * content gets the same tag after a restart and on every replica, so pollers spread over replicas keep
 * getting 304s. Weak (RFC 9110 §8.8.1): two answers with one tag say the same thing, though the times this
 * store saw it at (`timestamp`, `version`, an app's last_update) may differ between replicas.
 */
export function etagFor(content: string, variant = ''): string {
  return `W/"${content}${variant ? '.' + variantHash(variant) : ''}"`;
}

/** If-None-Match matching per RFC 9110: a list of tags, weak comparison, or `*`. */
export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  // the usual revalidation sends back exactly our tag: no list to parse
  if (ifNoneMatch === etag) return true;
  if (ifNoneMatch.trim() === '*') return true;
  const ours = opaque(etag);
  return ifNoneMatch.split(',').some((t) => opaque(t.trim()) === ours);
}

/** The quoted part of a tag, for weak comparison */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * A tagged answer through Hono: 304 (no body) when the request's If-None-Match matches `etag`, else 200 with
 * `body`; `headers` gives each status its headers. (The raw path makes the same decision on headers it
 * prepared once: raw-path.ts writePrepared.)
 */
export function conditional(
  c: Context, etag: string, body: Uint8Array, headers: (status: 200 | 304) => Record<string, string>,
): Response {
  if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers(304));
  return c.body(body as Uint8Array<ArrayBuffer>, 200, headers(200));
}
