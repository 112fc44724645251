import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CurrentVersion } from './app.ts';
import { parseBearer } from './auth.ts';
import type { Encoding } from './compress-job.ts';
import type { HttpMetrics } from './metrics.ts';
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
  return (req, res) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || deps.cors || !PATHS.has(req.url ?? '')) return false;
    if (expected) {
      const presented = parseBearer(req.headers.authorization);
      if (presented === null || !timingSafeEqual(createHash('sha256').update(presented).digest(), expected)) return false;
    }
    const cur = deps.current();
    if (!cur) return false;
    const started = performance.now();
    const plan = planWholeState(cur, header(req, 'accept-encoding'), header(req, 'if-none-match'), true);
    const send = (status: number, headers: Record<string, string>, body: Uint8Array | null) => {
      res.writeHead(status, { ...DATA_HEADERS, ...headers, ...(body ? { 'Content-Length': String(body.byteLength) } : {}) });
      res.end(req.method === 'HEAD' || !body ? undefined : body);
      deps.metrics.observe(req.method!, ROUTE, status, (performance.now() - started) / 1000);
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
