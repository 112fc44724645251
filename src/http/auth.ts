import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './envelope.ts';

export interface AuthOptions {
  /** RUNTIME_API_TOKEN; unset = no authentication */
  token: string | undefined;
  /** paths answered without a token (exact match on the decoded path) */
  open: ReadonlySet<string>;
}

const REALM = 'Bearer realm="market-runtime"';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * `Authorization: Bearer <token>` on everything but the open paths. The presented and expected tokens are
 * hashed first, so the comparison is constant-time and of equal length whatever the client sends.
 * Neither token ever reaches a log line or a response.
 */
export function bearerAuth(opts: AuthOptions): MiddlewareHandler {
  const token = opts.token;
  if (!token) return async (_c, next) => { await next(); };
  const expected = digest(token);
  return async (c, next) => {
    if (c.req.method === 'OPTIONS' || opts.open.has(c.req.path)) return next();
    const presented = parseBearer(c.req.header('authorization'));
    if (presented === null) {
      return c.json(errorBody('authentication required: send Authorization: Bearer <token>'), 401, { 'WWW-Authenticate': REALM });
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      return c.json(errorBody('invalid bearer token'), 401, { 'WWW-Authenticate': `${REALM}, error="invalid_token"` });
    }
    return next();
  };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or null. */
export function parseBearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}
