import type { MiddlewareHandler } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';

/** The header by which @hono/node-server knows a route wrote its own response (its X_ALREADY_SENT). */
const ALREADY_SENT_HEADER = 'x-hono-already-sent';

/**
 * A route that wrote its own response (the change stream) answers RESPONSE_ALREADY_SENT. When a middleware
 * touched the response on the way (CORS sets its headers before the route, and appends `Vary` after), Hono
 * copies that marker into a new Response, which @hono/node-server (2.1.x: its cached-response path never looks
 * for the marker) writes again: ERR_HTTP_HEADERS_SENT on stderr and a cut stream. Registered outside those
 * middlewares, this puts the marker itself back. (It relies on Hono's Context.res setter copying the held
 * response's headers: hono and @hono/node-server are pinned exactly in package.json. No upstream issue names this
 * case; the nearest, honojs/node-server#288, is a route writing headers itself and was closed. On an upgrade,
 * test/http/head.test.ts and test/http/stream-answers.test.ts fail if this is still needed and removed.)
 */
export function keepAlreadySent(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res !== RESPONSE_ALREADY_SENT && c.res.headers.get(ALREADY_SENT_HEADER) === 'true') {
      // (Hono's setter copies the headers of the response it holds into the new one: drop that one first)
      c.res = undefined;
      c.res = RESPONSE_ALREADY_SENT;
    }
  };
}
