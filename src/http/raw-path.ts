import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CurrentVersion } from './app.ts';
import { parseBearer } from './auth.ts';
import type { Encoding } from './compress-job.ts';
import type { HttpMetrics } from './metrics.ts';
import type { RequestSeries } from './request-stats.ts';
import { DATA_HEADERS } from './security.ts';
import { identityHeaders, planWholeState } from './whole-state.ts';

const PATHS = new Set(['/api/v2/runtime/state', '/app-store/api/v2/runtime/state']);
const ROUTE = '/api/v2/runtime/state';

export interface FastStateDeps {
  current(): CurrentVersion | null;
  compressed(cur: CurrentVersion, encoding: Encoding): Promise<Uint8Array>;
  metrics: HttpMetrics;
  apiToken?: string;
  /** CORS needs Hono's middleware: then this path steps aside */
  cors: boolean;
}

/**
 * The hot path: an unfiltered GET of /state is answered straight from the store's bytes on the raw node
 * response, before Hono builds a Request and a Response for it. It answers only what it can answer exactly
 * like the Hono route (same headers, auth, metrics); everything else (filters, a missing or wrong token, CORS,
 * no snapshot yet) returns false and goes through Hono.
 */
export function fastState(deps: FastStateDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const expected = deps.apiToken ? createHash('sha256').update(deps.apiToken).digest() : null;
  // the series of this route by method and status, resolved once rather than per request
  const series = new Map<number, RequestSeries>();
  const record = (method: 'GET' | 'HEAD', status: number, started: number) => {
    const key = method === 'GET' ? status : -status;
    let s = series.get(key);
    if (!s) series.set(key, (s = deps.metrics.series(method, ROUTE, status)));
    s.observe((performance.now() - started) / 1000);
  };
  // the identity headers of the current version, built once per version rather than per request
  let cached: { cur: CurrentVersion; ok: OutgoingHttpHeaders; notModified: OutgoingHttpHeaders } | null = null;
  const identity = (cur: CurrentVersion) => {
    if (cached?.cur !== cur) {
      const plan = planWholeState(cur, undefined, undefined, false);
      cached = {
        cur,
        ok: { ...DATA_HEADERS, ...plan.headers, 'Content-Length': String(cur.body.byteLength) },
        notModified: { ...DATA_HEADERS, ETag: plan.headers.ETag, 'Cache-Control': 'no-cache', Vary: 'Accept-Encoding' },
      };
    }
    return cached;
  };

  return (req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || deps.cors || !PATHS.has(req.url ?? '')) return false;
    if (expected) {
      const presented = parseBearer(req.headers.authorization);
      if (presented === null || !timingSafeEqual(createHash('sha256').update(presented).digest(), expected)) return false;
    }
    const cur = deps.current();
    if (!cur) return false;
    const started = performance.now();
    const method: 'GET' | 'HEAD' = req.method;
    const head = method === 'HEAD';
    const acceptEncoding = header(req, 'accept-encoding');
    const ifNoneMatch = header(req, 'if-none-match');

    if (acceptEncoding === undefined) {
      // the common monitoring request: no compression, headers prepared for this version
      const h = identity(cur);
      // the usual revalidation sends back exactly our tag: compare it before parsing a list
      if (ifNoneMatch !== undefined && (ifNoneMatch === cur.etag || planWholeState(cur, undefined, ifNoneMatch, false).status === 304)) {
        res.writeHead(304, h.notModified);
        res.end();
        record(method, 304, started);
      } else {
        res.writeHead(200, h.ok);
        res.end(head ? undefined : cur.body);
        record(method, 200, started);
      }
      return true;
    }

    const plan = planWholeState(cur, acceptEncoding, ifNoneMatch, true);
    const send = (status: number, headers: Record<string, string>, body: Uint8Array | null) => {
      res.writeHead(status, { ...DATA_HEADERS, ...headers, ...(body ? { 'Content-Length': String(body.byteLength) } : {}) });
      res.end(head || !body ? undefined : body);
      record(method, status, started);
    };
    if (plan.status === 304) send(304, plan.headers, null);
    else if (!plan.encoding) send(200, plan.headers, cur.body);
    else {
      deps.compressed(cur, plan.encoding).then(
        (bytes) => send(200, plan.headers, bytes),
        () => send(200, identityHeaders(cur), cur.body),
      );
    }
    return true;
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
