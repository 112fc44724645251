import type { Hono } from 'hono';
import type { ServedDocument } from './openapi.ts';
import { taggedJson } from './query-headers.ts';

/** How long after the routes are registered (the HTTP thread's start) the document is built, off any request. */
const OPENAPI_WARM_MS = 1000;

export interface OpenApiRouteOptions {
  /** builds the document (default: loads the builder, openapi.ts, and runs it once) */
  build?: () => Promise<ServedDocument>;
  /** build it this long after registering, so no caller waits for it; null: on the first request only */
  warmAfterMs?: number | null;
}

/**
 * GET …/openapi.json: the document from memory, with its ETag (token as for every data answer). Its builder
 * (with the JSON Schema converter) is loaded by a dynamic import, not with the thread's code, and run shortly
 * after start rather than by the first caller: ~6 ms, then ~0.7 MiB of the HTTP thread's heap (the builder's
 * code and converter) and the document's 0.36 MiB of bytes outside it (docs/performance.md).
 */
export function registerOpenApi(api: Hono, opts: OpenApiRouteOptions = {}): void {
  const build = opts.build ?? (() => import('./openapi.ts').then((m) => m.openApiDocument()));
  let doc: Promise<ServedDocument> | undefined;
  const served = (): Promise<ServedDocument> => {
    const building = (doc ??= build());
    // a failed build (answered 500) is tried again by the next request, not kept
    building.catch(() => { if (doc === building) doc = undefined; });
    return building;
  };
  const warm = opts.warmAfterMs === undefined ? OPENAPI_WARM_MS : opts.warmAfterMs;
  if (warm !== null) setTimeout(() => { served().catch(() => undefined); }, warm).unref();
  api.get('/openapi.json', async (c) => {
    const { body, etag } = await served();
    return taggedJson(c, etag, body);
  });
}
