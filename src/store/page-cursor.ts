import * as v from 'valibot';
import { LIMITS } from '../model/index.ts';

/**
 * The cursor of `…/apps`: the key of the last app of a page, as base64url of `{"after": key}`. Opaque to
 * clients, so its form may change; only a cursor this API could have given out is taken back.
 */

const KEY_MAX_CHARS = 3 * LIMITS.id + 2;
/**
 * The longest cursor this API gives out, and so the longest taken: `{"after":"<key>"}` with every character of
 * the key at its longest in JSON's UTF-8 (a control character or lone surrogate escaped as `\u00XX`: 6 bytes), as
 * base64url. 6,163 characters: with the path, inside the 8 KiB request target (security.ts MAX_URL_BYTES), so
 * the limit the OpenAPI document states is one a client can reach.
 */
export const CURSOR_MAX_CHARS = Math.ceil(((12 + 6 * 3 * LIMITS.id + 2) * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const CURSOR_JSON = v.strictObject({ after: v.pipe(v.string(), v.maxLength(KEY_MAX_CHARS)) });

export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ after: key }), 'utf8').toString('base64url');
}

/** The key a cursor names, or null when it is not a cursor this API gives out. */
export function decodeCursor(cursor: string): string | null {
  if (cursor.length > CURSOR_MAX_CHARS || !BASE64URL.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const out = v.safeParse(CURSOR_JSON, parsed);
  // what decoding let pass (stray bits, lost bytes, another key order) does not give the same cursor back
  if (!out.success || encodeCursor(out.output.after) !== cursor) return null;
  return out.output.after;
}
