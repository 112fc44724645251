import type { Context } from 'hono';
import { JSON_TYPE } from './envelope.ts';
import { conditional } from './etag.ts';

/**
 * The headers of a tagged JSON answer (a filtered /state, a partial query, openapi.json) and of its 304: one
 * shape, whether Hono answers it (app.ts, openapi.ts) or the raw path repeats it (remembered-answers.ts).
 */
export function queryHeaders(status: 200 | 304, etag: string): Record<string, string> {
  const cache = { ETag: etag, 'Cache-Control': 'no-cache' };
  return status === 304 ? cache : { 'Content-Type': JSON_TYPE, ...cache };
}

/** A tagged JSON answer through Hono: its 304 or its 200, with queryHeaders. */
export function taggedJson(c: Context, etag: string, body: Uint8Array): Response {
  return conditional(c, etag, body, (status) => queryHeaders(status, etag));
}
