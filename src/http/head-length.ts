import type { MiddlewareHandler } from 'hono';

/**
 * HEAD answers carry the Content-Length a GET would have. Hono answers HEAD by running the GET route and
 * dropping the body afterwards, so without this the length is lost with the body (the raw path sends it).
 * A stream (the change stream) has no length and is left alone: reading it would never end.
 */
export function headContentLength(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'HEAD' || !c.res.body || c.res.headers.has('content-length')) return;
    if (c.res.headers.get('content-type')?.startsWith('text/event-stream')) return;
    const bytes = new Uint8Array(await c.res.arrayBuffer());
    const res = new Response(bytes, c.res);
    res.headers.set('Content-Length', String(bytes.byteLength));
    // cleared first: Hono's setter would otherwise wrap the new response again to merge the old one's headers
    c.res = undefined;
    c.res = res;
  };
}
