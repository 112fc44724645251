import { MIN_COMPRESS_BYTES, negotiate, type Encoding } from './compress-job.ts';
import { JSON_TYPE } from './envelope.ts';
import { matches } from './etag.ts';

/** What the unfiltered /state answers for one request: decided from headers only, no body work. */
export interface WholeStatePlan {
  status: 200 | 304;
  encoding: Encoding | null;
  headers: Record<string, string>;
}

/**
 * The unfiltered snapshot is the store's bytes, or those bytes compressed once per version; its ETag
 * names the version and the encoding, so each variant answers 304 to itself.
 */
export function planWholeState(
  cur: { etag: string; sizeHint: number }, acceptEncoding: string | undefined, ifNoneMatch: string | undefined,
  canCompress: boolean,
): WholeStatePlan {
  // decided on the store's size hint, not on the body: a 304 for a compressed variant needs no body
  const encoding = canCompress && cur.sizeHint >= MIN_COMPRESS_BYTES ? negotiate(acceptEncoding) : null;
  const etag = encoding ? `${cur.etag.slice(0, -1)}-${encoding}"` : cur.etag;
  const base = { ETag: etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' };
  if (matches(ifNoneMatch, etag)) return { status: 304, encoding, headers: base };
  return {
    status: 200, encoding,
    headers: { ...base, 'Content-Type': JSON_TYPE, ...(encoding ? { 'Content-Encoding': encoding } : {}) },
  };
}
