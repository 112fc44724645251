// node's global `performance` is a lazy accessor that runs on every read; the module export is a plain binding
import { performance } from 'node:perf_hooks';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Gauge, Registry } from 'prom-client';
import { RequestStats, type RequestSeries } from './request-stats.ts';
import type { ThreadRestarts } from '../protocol.ts';

/** Route label of a request that matched no route: raw paths never become labels (bounded cardinality). */
const UNMATCHED = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The HTTP thread's own Prometheus metrics: requests and latency by route pattern and status. Only this
 * thread serves HTTP, so each series is counted once for the process. Names start with
 * `market_runtime_http_` or `process_`, never a store metric's name: /metrics concatenates both texts.
 */
export class HttpMetrics {
  readonly registry = new Registry();
  private readonly requests = new RequestStats([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  /** requests started and not yet recorded: a plain number, read at each scrape (no prom-client call per request) */
  private inFlight = 0;
  readonly storeScrapeOk: Gauge;
  readonly compressions: Counter<'encoding'>;
  private threadRestarts: ThreadRestarts = {};

  constructor() {
    const registers = [this.registry];
    this.requests.register(
      this.registry,
      { name: 'market_runtime_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status' },
      { name: 'market_runtime_http_request_duration_seconds', help: 'HTTP response time, by method, route pattern and status' },
    );
    const inFlight = (): number => this.inFlight;
    new Gauge({
      name: 'market_runtime_http_requests_in_flight', help: 'HTTP requests being answered now', registers,
      collect() { this.set(inFlight()); },
    });
    this.storeScrapeOk = new Gauge({
      name: 'market_runtime_http_store_metrics_ok', help: '1 when the last /metrics scrape got the store thread\'s metrics, else 0', registers,
    });
    this.compressions = new Counter({
      name: 'market_runtime_http_compressions_total',
      help: 'Snapshot bodies compressed in the compression thread, by encoding: one per version and encoding asked for, not one per request',
      labelNames: ['encoding'], registers,
    });
    const restarts = (): ThreadRestarts => this.threadRestarts;
    new Counter({
      name: 'market_runtime_thread_restarts_total',
      help: 'Threads replaced since the process started, by thread (store, http, compress, collector_<source>): deaths, out-of-memory exits, overrun collector runs',
      labelNames: ['thread'], registers,
      // the supervisor owns the counts (they survive every thread); this thread shows its latest word
      collect() {
        this.reset();
        for (const [thread, n] of Object.entries(restarts())) this.inc({ thread }, n);
      },
    });
    new Gauge({
      name: 'process_resident_memory_bytes', help: 'Resident memory of the whole sidecar process (every thread) in bytes', registers,
      collect() { this.set(process.memoryUsage.rss()); },
    });
    new Gauge({
      name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds', registers,
      collect() { this.set(Math.round((Date.now() - process.uptime() * 1000) / 1000)); },
    });
  }

  /** Counts every request, whoever answers it (route, 404, auth, limits). Register it first. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const started = this.start();
      try {
        await next();
      } finally {
        this.record(c.req.method, routeLabel(c), c.res.status, started);
      }
    };
  }

  /**
   * A request is being answered: in flight until its record() (or a recorder's call). Returns the
   * performance.now() those take as `started`. Hono's middleware and the raw path both start and record here.
   */
  start(): number {
    this.inFlight += 1;
    return performance.now();
  }

  /** Counts one answered request (`started`: what start() returned), under the same labels whichever path answered. */
  record(method: string, route: string, status: number, started: number): void {
    this.inFlight -= 1;
    observe(this.series(method, route, status), started);
  }

  /**
   * record() for one method and route, its series found once per status rather than by a key string built
   * per request (the raw path's hot /state).
   */
  recorder(method: string, route: string): (status: number, started: number) => void {
    const byStatus = new Map<number, RequestSeries>();
    return (status, started) => {
      this.inFlight -= 1;
      let s = byStatus.get(status);
      if (!s) byStatus.set(status, (s = this.series(method, route, status)));
      observe(s, started);
    };
  }

  /** The counter and latency series of one answer. */
  series(method: string, route: string, status: number): RequestSeries {
    return this.requests.of(METHODS.has(method) ? method : 'OTHER', route, status);
  }

  /**
   * The change stream's and the answer cache's own counts, read at each scrape: open stream clients, clients
   * cut off for not keeping up, and lookups of cached filtered answers by result.
   */
  watch(of: { streamClients(): number; streamCutOffs(): number; cacheHits(): number; cacheMisses(): number }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'market_runtime_http_stream_clients', help: 'Change-stream clients connected now', registers,
      collect() { this.set(of.streamClients()); },
    });
    new Counter({
      name: 'market_runtime_http_stream_cut_off_total',
      help: 'Change-stream clients cut off because they did not read fast enough (their buffer passed its bound); they may resume with Last-Event-ID',
      registers,
      collect() { this.reset(); this.inc(of.streamCutOffs()); },
    });
    new Counter({
      name: 'market_runtime_http_answer_cache_lookups_total',
      help: 'Lookups of cached filtered and partial answers for the current version, by result (hit, miss)',
      labelNames: ['result'], registers,
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, of.cacheHits());
        this.inc({ result: 'miss' }, of.cacheMisses());
      },
    });
  }

  /** The supervisor's counts (pushed on every change and to a new HTTP thread). */
  setThreadRestarts(counts: ThreadRestarts): void {
    this.threadRestarts = { ...counts };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function observe(s: RequestSeries, started: number): void {
  s.observe((performance.now() - started) / 1000);
}

/** The route pattern that matched (e.g. `/api/v2/runtime/tasks/:task_id`), or `unmatched`. */
export function routeLabel(c: Context): string {
  let routes;
  try {
    routes = matchedRoutes(c);
  } catch {
    return UNMATCHED;
  }
  for (let i = routes.length - 1; i >= 0; i -= 1) {
    const r = routes[i];
    if (r.method !== 'ALL') return r.path;
  }
  return UNMATCHED;
}
