/** A short stable hash (FNV-1a) so a filtered answer gets its own tag per version. */
export function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

/** Tags change with the store's epoch (a restarted store restarts its versions) and version. */
export function etagFor(epoch: string, version: number, variant = ''): string {
  return `"${epoch}-${version}${variant ? '-' + hash(variant) : ''}"`;
}

/** If-None-Match matching per RFC 9110: a list of tags, weak comparison, or `*`. */
export function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  // the usual revalidation sends back exactly our tag: no list to parse
  if (ifNoneMatch === etag) return true;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
