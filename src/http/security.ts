import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { errorBody } from './envelope.ts';

/** Headers every response carries. The dashboards set their own Content-Security-Policy. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** For responses that are not pages (JSON, metrics): nothing may load or frame them. */
const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Every header a data (non-page) response carries, for answers written outside Hono. */
export const DATA_HEADERS: Readonly<Record<string, string>> = { ...SECURITY_HEADERS, 'Content-Security-Policy': DATA_CSP };

export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    // pages set their own CSP; everything else gets DATA_HEADERS, the list the raw path prepares its answers with
    const add = (h.get('content-type') ?? '').startsWith('text/html') ? SECURITY_HEADERS : DATA_HEADERS;
    for (const [name, value] of Object.entries(add)) if (!h.has(name)) h.set(name, value);
  };
}

export const ALLOWED_METHODS = ['GET', 'HEAD'] as const;

/** Everything here is read-only: any other method answers 405 with `Allow`, in the JSON envelope. */
export function methodGuard(): MiddlewareHandler {
  const allow = ALLOWED_METHODS.join(', ');
  return async (c, next) => {
    const m = c.req.method;
    if (m === 'GET' || m === 'HEAD') return next();
    return c.json(errorBody(`method ${m.slice(0, 16)} not allowed: use ${allow}`), 405, { Allow: allow });
  };
}

/** Longest request target (path + query) accepted; node's maxHeaderSize bounds the headers (431). */
export const MAX_URL_BYTES = 8 * 1024;

export function urlLimit(maxBytes = MAX_URL_BYTES): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    // the target is what follows the origin; the origin comes from the Host header (bounded by node)
    const schemeEnd = url.indexOf('//');
    const slash = schemeEnd < 0 ? 0 : url.indexOf('/', schemeEnd + 2);
    const target = slash < 0 ? 0 : url.length - slash;
    if (target > maxBytes) return c.json(errorBody(`request URL too long (at most ${maxBytes} bytes)`), 414);
    return next();
  };
}

/**
 * The request headers a CORS preflight allows (openapi.ts documents them from here). Last-Event-ID: a fetch-based
 * stream client (one that sends a token) resumes with it after a reconnect.
 */
export const CORS_ALLOW_HEADERS = ['Authorization', 'If-None-Match', 'Content-Type', 'Last-Event-ID'] as const;
export const CORS_ALLOW_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;
/**
 * The answer headers a page on another origin may read (openapi.ts documents them from here): a page reads the
 * freshness time too (it learns ages from it after a 304); the name is freshness.ts's FRESH_AS_OF, spelled out
 * here as that file imports this one (through header-list).
 */
export const CORS_EXPOSE_HEADERS = ['ETag', 'Retry-After', 'X-Runtime-Fresh-As-Of'] as const;
/** how long a browser may keep a preflight's answer */
export const CORS_MAX_AGE_S = 600;

/** CORS only when origins are configured; otherwise no CORS header is ever sent (same-origin only). */
/**
 * Whether answers vary by Origin (a list of origins, not `*`): hono's cors() then appends `Vary: Origin` after
 * the route, too late for a route that writes its own head (the change stream), which sets it itself.
 */
export function corsVariesByOrigin(origins: string[] | undefined): boolean {
  return (origins?.length ?? 0) > 0 && !origins!.includes('*');
}

export function corsFor(origins: string[] | undefined): MiddlewareHandler | null {
  if (!origins || origins.length === 0) return null;
  const any = origins.includes('*');
  return cors({
    origin: any ? '*' : origins,
    allowMethods: [...CORS_ALLOW_METHODS],
    allowHeaders: [...CORS_ALLOW_HEADERS],
    exposeHeaders: [...CORS_EXPOSE_HEADERS],
    maxAge: CORS_MAX_AGE_S,
  });
}
