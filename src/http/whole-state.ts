import { MIN_COMPRESS_BYTES, negotiate, type Encoding } from './compress-job.ts';
import type { CurrentVersion, VersionWithBody } from './current-version.ts';
import { JSON_TYPE } from './envelope.ts';
import { matches } from './etag.ts';

/** What the unfiltered /state answers for one request: decided from headers only, no body work. */
export interface WholeStatePlan {
  status: 200 | 304;
  encoding: Encoding | null;
  headers: Record<string, string>;
}

/** The ETag of one encoding of the version tagged `etag` (identity: the tag itself). */
function encodedTag(etag: string, encoding: Encoding | null): string {
  return encoding ? `${etag.slice(0, -1)}-${encoding}"` : etag;
}

const ENCODINGS: readonly (Encoding | null)[] = [null, 'br', 'gzip'];

/**
 * Which encoding of the version tagged `etag` the client holds, by its If-None-Match (`chosen`, the variant
 * this request would get, is tried first: the usual revalidation sends back its tag); undefined: none.
 */
export function heldEncoding(ifNoneMatch: string, etag: string, chosen: Encoding | null): Encoding | null | undefined {
  if (matches(ifNoneMatch, encodedTag(etag, chosen))) return chosen;
  return ENCODINGS.find((e) => e !== chosen && matches(ifNoneMatch, encodedTag(etag, e)));
}

/**
 * The unfiltered snapshot is the store's bytes, or those bytes compressed once per version; its ETag
 * names the content and the encoding. A client holding the content in any encoding gets a 304 naming the
 * tag it sent: a browser revalidates its compressed copy, a stream client asks with the bare content tag
 * of an event id while it accepts compression.
 */
export function planWholeState(
  cur: { etag: string; sizeHint: number }, acceptEncoding: string | undefined, ifNoneMatch: string | undefined,
  canCompress: boolean,
): WholeStatePlan {
  // decided on the store's size hint, not on the body: a 304 for a compressed variant needs no body
  const encoding = canCompress && cur.sizeHint >= MIN_COMPRESS_BYTES ? negotiate(acceptEncoding) : null;
  const etag = encodedTag(cur.etag, encoding);
  const base = { ETag: etag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' };
  const held = ifNoneMatch ? heldEncoding(ifNoneMatch, cur.etag, encoding) : undefined;
  if (held !== undefined) return { status: 304, encoding: held, headers: { ...base, ETag: encodedTag(cur.etag, held) } };
  return {
    status: 200, encoding,
    headers: { ...base, 'Content-Type': JSON_TYPE, ...(encoding ? { 'Content-Encoding': encoding } : {}) },
  };
}

/** The plan of the uncompressed answer: its 200 (`ifNoneMatch` absent), or its 304 to the version's own tag. */
export function identityPlan(cur: { etag: string; sizeHint: number }, ifNoneMatch?: string): WholeStatePlan {
  return planWholeState(cur, undefined, ifNoneMatch, false);
}

/**
 * What a 200 of the plan sends: the body compressed in the plan's encoding (once per version, in the
 * compression thread), or, when that fails, the identity answer — always right, and not kept, so the next
 * request tries again. Never rejects.
 */
export async function wholeStateBody(
  cur: VersionWithBody, plan: WholeStatePlan, compressed?: (cur: CurrentVersion, encoding: Encoding) => Promise<Uint8Array>,
): Promise<{ plan: WholeStatePlan; body: Uint8Array }> {
  if (!plan.encoding || !compressed) return { plan, body: cur.body };
  try {
    return { plan, body: await compressed(cur, plan.encoding) };
  } catch {
    return { plan: identityPlan(cur), body: cur.body };
  }
}
