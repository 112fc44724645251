// What a version is, as the page can tell it: the store that minted it (epoch) and its content digest. Version
// NUMBERS are per store: a restarted store counts again from 1, and two replicas number the same content apart,
// so they never say whether what the page shows is current. The content digest (the ETag) does.

/** A stream event's id `<epoch>-<version>.<content>` as {epoch, version, content}; null for any other shape. */
export function parseEventId(id) {
  const m = /^([^-\s]+)-(\d+)\.(\S+)$/.exec(typeof id === 'string' ? id : '');
  return m ? { epoch: m[1], version: Number(m[2]), content: m[3] } : null;
}

/** An ETag's opaque part: `W/"abc"` → `abc` ('' for none). */
export function opaqueOf(etag) {
  if (typeof etag !== 'string') return '';
  const m = /^(?:W\/)?"([^"]*)"$/.exec(etag.trim());
  return m ? m[1] : '';
}

/**
 * Whether an answer tagged `etag` holds the version whose content digest is `content`: the tag names that
 * content (`W/"<content>"`, or a variant of it: `W/"<content>.<query>"`, `W/"<content>-br"`).
 */
export function etagHolds(etag, content) {
  const o = opaqueOf(etag);
  if (o === '' || typeof content !== 'string' || content === '') return false;
  return o === content || o.startsWith(`${content}.`) || o.startsWith(`${content}-`);
}

/**
 * What the page's data was read at, as one string: the store (epoch, when the stream named one) and the
 * answer's ETag. Anything read for a version (Chart Repo lists, timelines) is kept per this key, never per
 * version number.
 */
export function dataKey(epoch, etag) {
  return `${epoch ?? ''} ${opaqueOf(etag)}`;
}
