import type { Hono } from 'hono';
import { matches } from './etag.ts';
import type { ServedDocument } from './openapi.ts';
import { queryHeaders } from './query-headers.ts';

/**
 * GET …/openapi.json: the document from memory, with its ETag (token as for every data answer). Its builder
 * (with the JSON Schema converter) is loaded and run on the first request, not at start: most sidecars are
 * never asked, and it was ~2 MiB of the HTTP thread's heap.
 */
export function registerOpenApi(api: Hono): void {
  let doc: Promise<ServedDocument> | undefined;
  api.get('/openapi.json', async (c) => {
    const building = (doc ??= import('./openapi.ts').then((m) => m.openApiDocument()));
    // a failed build (answered 500) is tried again by the next request, not kept
    building.catch(() => { if (doc === building) doc = undefined; });
    const { body, etag } = await building;
    if (matches(c.req.header('if-none-match'), etag)) return c.body(null, 304, queryHeaders(304, etag));
    return c.body(body, 200, queryHeaders(200, etag));
  });
}
