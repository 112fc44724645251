import { JSON_TYPE } from './envelope.ts';

/**
 * The headers of a tagged JSON answer (a filtered /state, a partial query, openapi.json) and of its 304: one
 * shape, whether Hono answers it (app.ts, openapi.ts) or the raw path repeats it (remembered-answers.ts).
 */
export function queryHeaders(status: 200 | 304, etag: string): Record<string, string> {
  const cache = { ETag: etag, 'Cache-Control': 'no-cache' };
  return status === 304 ? cache : { 'Content-Type': JSON_TYPE, ...cache };
}
