// The names a version goes by: the stream's event ids and the state's ETags.

import { str } from './values.js';

/** A stream event id `epoch-version.content` -> { epoch, version, content } | null */
export function parseVersionId(id) {
  const m = /^(\w+)-(\d+)(?:\.([\w-]+))?$/.exec(str(id).trim());
  return m ? { epoch: m[1], version: Number(m[2]), content: m[3] ?? null } : null;
}

/** The content an ETag names: `W/"<content>"`, `W/"<content>-gzip"` -> `<content>` (digests are 22 characters) */
export function tagContent(etag) {
  const m = /^(?:W\/)?"([\w-]{22})/.exec(str(etag).trim());
  return m ? m[1] : null;
}
