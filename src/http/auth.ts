import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './envelope.ts';

export interface AuthOptions {
  /** RUNTIME_API_TOKEN; unset = no authentication */
  token: string | undefined;
  /** paths answered without a token (exact match on the decoded path) */
  open: ReadonlySet<string>;
  /** and every path under these (each ends with `/`) */
  openPrefixes?: readonly string[];
}

const REALM = 'Bearer realm="market-runtime"';

/** What an Authorization header is worth: `ok`, none sent (`missing`), or not the token (`invalid`). */
export type AuthVerdict = 'ok' | 'missing' | 'invalid';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * The one token check, for Hono's middleware and the raw path alike: `Authorization: Bearer <token>`.
 * The presented and expected tokens are hashed first, so the comparison is constant-time and of equal
 * length whatever the client sends. Neither token ever reaches a log line or a response. No token
 * configured: everything is `ok`.
 */
export function authorizer(token: string | undefined): (authorization: string | undefined) => AuthVerdict {
  if (!token) return () => 'ok';
  const expected = digest(token);
  return (authorization) => {
    const presented = parseBearer(authorization);
    if (presented === null) return 'missing';
    return timingSafeEqual(digest(presented), expected) ? 'ok' : 'invalid';
  };
}

/** The bearer token on everything but the open paths (and CORS preflights). */
export function bearerAuth(opts: AuthOptions): MiddlewareHandler {
  if (!opts.token) return async (_c, next) => { await next(); };
  const authorize = authorizer(opts.token);
  return async (c, next) => {
    const path = c.req.path;
    if (c.req.method === 'OPTIONS' || opts.open.has(path) || opts.openPrefixes?.some((p) => path.startsWith(p))) return next();
    const verdict = authorize(c.req.header('authorization'));
    if (verdict === 'missing') {
      return c.json(errorBody('authentication required: send Authorization: Bearer <token>'), 401, { 'WWW-Authenticate': REALM });
    }
    if (verdict === 'invalid') {
      return c.json(errorBody('invalid bearer token'), 401, { 'WWW-Authenticate': `${REALM}, error="invalid_token"` });
    }
    return next();
  };
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), or null. */
function parseBearer(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}
