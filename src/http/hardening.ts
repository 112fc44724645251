import type { Hono } from 'hono';
import { fallbackLine, type RareLogger } from '../lazy-log.ts';
import type { HttpSecurityConfig } from '../protocol.ts';
import { bearerAuth } from './auth.ts';
import { BASE_PATHS } from './base-paths.ts';
import { errorBody } from './envelope.ts';
import { HttpMetrics } from './metrics.ts';
import { keepAlreadySent } from './already-sent.ts';
import { corsFor, methodGuard, securityHeaders, urlLimit } from './security.ts';

/** Access control and hardening of the runtime app (docs/operations.md, Access control and hardening). Everything optional defaults to safe. */
export interface HttpSecurityOptions extends HttpSecurityConfig {
  /** the thread's logger (unhandled errors) */
  log?: RareLogger;
  /** the HTTP thread's metrics, shared with the answers it gives outside Hono */
  metrics?: HttpMetrics;
}

/** Probes stay open whatever the token: the kubelet sends none. */
const OPEN_PATHS = ['/healthz', '/readyz'] as const;

/**
 * The dashboard pages and their assets hold no runtime data (they fetch it with the token), and a browser
 * cannot send a bearer header when it navigates: they load without one, the data they ask for does not.
 * So does `/`, which only redirects to the dashboard.
 */
const PAGE_PATHS: readonly string[] = ['/', ...BASE_PATHS.flatMap((base) => [`${base}/dashboard`, `${base}/dashboard-app`])];

/**
 * Everything under `…/assets/` is open, not just the files served: the assets are public dashboard code, and an
 * unknown name then answers 404 with or without a token (as the document says), not 401 without one. The
 * route serves only the listed files (ASSET_FILES) and routes on this same path, so nothing else is reachable
 * through the prefix (`…/assets/../state` is `…/state` by the time it gets here).
 */
const OPEN_PREFIXES: readonly string[] = BASE_PATHS.map((base) => `${base}/assets/`);

/** Where /metrics gets the store's text, and whether the store answered for it (a deadline is the source's). */
export type StoreMetricsSource = () => Promise<{ text: string; storeAnswered: boolean }>;

/**
 * Registers, on a fresh app and before any route: security headers, request metrics, the URL limit, CORS,
 * the method guard and bearer auth (in that order, so every answer — 401, 405, 414, 404 — is counted and
 * carries the headers), and the /metrics route (store text + this thread's text).
 */
export function applyHardening(app: Hono, opts: HttpSecurityOptions, storeMetrics: StoreMetricsSource): HttpMetrics {
  const metrics = opts.metrics ?? new HttpMetrics();
  app.use('*', securityHeaders());
  app.use('*', metrics.middleware());
  app.use('*', urlLimit());
  app.use('*', keepAlreadySent());
  const cors = corsFor(opts.corsOrigins);
  if (cors) app.use('*', cors);
  app.use('*', methodGuard());
  const open = new Set<string>([...OPEN_PATHS, ...PAGE_PATHS]);
  if (opts.metricsRequireToken === false) open.add('/metrics');
  app.use('*', bearerAuth({ token: opts.apiToken, open, openPrefixes: OPEN_PREFIXES }));

  app.get('/metrics', async (c) => {
    let storeText = '';
    try {
      const { text, storeAnswered } = await storeMetrics();
      storeText = text;
      metrics.storeScrapeOk.set(storeAnswered ? 1 : 0);
    } catch {
      metrics.storeScrapeOk.set(0);
    }
    const own = await metrics.text();
    const body = storeText === '' ? own : `${storeText.endsWith('\n') ? storeText : `${storeText}\n`}${own}`;
    return c.body(body, 200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
  });
  return metrics;
}

/** The app's onError: one structured line, a generic envelope (no internals, no secrets) to the client. */
export function onUnhandled(log: RareLogger | undefined) {
  return (err: Error, c: import('hono').Context) => {
    const fields = { err: err.message, path: c.req.path.slice(0, 200) };
    if (log) log.error(fields, 'http: unhandled error');
    else fallbackLine('error', fields, 'http: unhandled error');
    // Hono makes the 500 from the answer the fault interrupted (a page that threw after its route ran keeps its
    // headers): what described that answer (its tag, cache policy, encoding, a page's CSP) is not this one's
    try {
      for (const name of INTERRUPTED_ANSWER_HEADERS) c.res.headers.delete(name);
    } catch {
      // immutable headers: nothing was added to them by a route
    }
    return c.json(errorBody('internal error'), 500);
  };
}

const INTERRUPTED_ANSWER_HEADERS = ['ETag', 'Last-Modified', 'Cache-Control', 'Content-Encoding', 'Content-Length', 'Content-Security-Policy'];
