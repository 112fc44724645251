import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { MessagePort, ResourceLimits } from 'node:worker_threads';
import { getRequestListener } from '@hono/node-server';
import type {
  AnswerCacheBytes, DashboardSettings, Encoding, FreshnessMessage, HttpSecurityConfig, StorePush, StoreQueryApi, SupervisorLinkMessage, VersionMessage,
} from '../protocol.ts';
import { wrap } from '../threads.ts';
import type { Hono } from 'hono';
import { lazyThreadLogger } from '../lazy-log.ts';
import { createRuntimeApp } from './app.ts';
import type { AsyncQueries, CurrentVersion, VersionWithBody } from './current-version.ts';
import { StoreLine } from './store-line.ts';
import { VersionBodies } from './version-bodies.ts';
import { errorBody, JSON_TYPE } from './envelope.ts';
import { etagFor } from './etag.ts';
import { FreshnessHolder } from './freshness.ts';
import { ChangeStream } from './stream.ts';
import { CompressedBodies } from './compressed-bodies.ts';
import { rawPath } from './raw-path.ts';
import { RememberedAnswers } from './remembered-answers.ts';
import { HttpMetrics } from './metrics.ts';
import { ResponseCache, stampOf } from './response-cache.ts';
import { AnswerBytes } from './answer-bytes.ts';
import { ALLOWED_METHODS, DATA_HEADERS } from './security.ts';
import { HeapBound } from '../release-memory.ts';
import { SMALL_POD_ANSWER_CACHES } from '../thread-limits.ts';
import { repeatedHeader } from './repeated-header.ts';
import { parserErrorMessage } from './parser-errors.ts';
import { HeldViewGauges } from './store-metrics.ts';

/** how often the HTTP thread looks whether its garbage passed its bound */
const HEAP_CHECK_MS = 5000;

const CLOSE_GRACE_MS = 300;
/** readers asking for the unfiltered /state twice within this keep each new version's body fetched as it comes (keepBodyWarm) */
const BODY_WARM_MS = 30_000;

export interface ListenOptions {
  port: number;
  host: string;
  /** access control and hardening (token, /metrics protection, CORS); see http/hardening.ts */
  security?: HttpSecurityConfig;
  /** false: every request goes through Hono (the parity test compares both paths); default true */
  rawPath?: boolean;
  /** what the dashboards are written with (a source's own interval, when it backed off, is in its counters) */
  dashboards?: DashboardSettings;
}

/**
 * The HTTP thread: serves the API. It follows the store's versions as they are pushed, fetches a version's
 * /state body once when a reader first needs it (and keeps it for the version), and asks the store over
 * comlink for everything else.
 */
export class HttpThread {
  private current: CurrentVersion | null = null;
  /** the attached store's queries, and whether it answers at all */
  private readonly store = new StoreLine();
  /** where the attached store pushes its versions (messages from an earlier store's port are ignored) */
  private versionPort: MessagePort | null = null;
  /** the number of the store thread attached (attachStore), which store_down names */
  private attachedStore = 0;
  /** a restarted store has not yet got a pass of every collector: see attachStore */
  private rebuilding = false;
  private server: Server | null = null;
  private closing = false;
  private heapTimer: ReturnType<typeof setInterval> | null = null;
  /** who holds each store answer's bytes: the two caches below, the responses and stream snapshots writing them */
  private readonly answerBytes = new AnswerBytes();
  readonly stream = new ChangeStream(this.answerBytes);
  private readonly metrics = new HttpMetrics();
  private readonly compressed: CompressedBodies;
  private readonly cache: ResponseCache;
  private readonly freshness = new FreshnessHolder();
  /** /state bodies, fetched from the store when a reader needs one */
  private readonly bodies = new VersionBodies(() => this.store.queries()?.body() ?? null, (v) => this.onBody(v));
  /**
   * the newest version whose body a reader made this thread fetch: served while a restarted store rebuilds.
   * None is fetched for its own sake: at 50,000 apps a body is ~90 MB, rendered and held for a rare event.
   */
  private lastWithBody: VersionWithBody | null = null;
  /** when readers last asked for the unfiltered /state, and the time before (see keepBodyWarm) */
  private wholeStateAskedAt = 0;
  private wholeStateAskedBefore = 0;
  private warming = false;
  /** a body the store rendered for a version whose message has not arrived yet */
  private bodyAhead: VersionWithBody | null = null;
  /** the bodies of the three above, as held in answerBytes (holdKeptBodies) */
  private keptBodies = new Set<Uint8Array>();
  private readonly remembered: RememberedAnswers;

  private readonly log = lazyThreadLogger('http');
  /** what /metrics shows while no ready store answers; the supervisor keeps a copy for the HTTP thread after this one */
  private readonly viewGauges = new HeldViewGauges((held) => this.tellSupervisor({ type: 'held_gauges', held }));
  /** built at listen time, with the security options the supervisor passes */
  app: Hono | null = null;

  /**
   * `link`: the supervisor's port (protocol.ts SupervisorLinkMessage); absent when run without a supervisor.
   * `answerCaches`: the caches' byte bounds (thread-limits.ts answerCacheBytes; absent: a small pod's).
   */
  constructor(private readonly link: MessagePort | null = null, compressLimits?: ResourceLimits, answerCaches: AnswerCacheBytes = SMALL_POD_ANSWER_CACHES) {
    this.cache = new ResponseCache(undefined, answerCaches.cached, this.answerBytes);
    this.remembered = new RememberedAnswers(undefined, answerCaches.remembered, this.freshness, this.answerBytes);
    this.metrics.watch({
      streamClients: () => this.stream.size, streamCutOffs: () => this.stream.cutOff,
      cacheHits: () => this.cache.hits, cacheMisses: () => this.cache.misses,
    });
    this.compressed = new CompressedBodies(
      (encoding) => this.metrics.compressions.inc({ encoding }),
      (reason) => this.tellSupervisor({ type: 'thread_restart', thread: 'compress', reason }),
      compressLimits,
    );
    link?.on('message', (m: SupervisorLinkMessage) => {
      if (m?.type === 'thread_restarts') {
        this.metrics.setThreadRestarts(m.counts);
        const f = this.freshness.setThreads(m.counts, m.last);
        if (f) this.stream.onFreshness(f);
      }
      else if (m?.type === 'held_gauges') this.viewGauges.restore(m.held);
      // (only the attached store's death, or a later one's: a word of an older store arriving late is no news)
      else if (m?.type === 'store_down' && m.store >= this.attachedStore) this.detachStore();
    });
    link?.unref();
  }

  /** Chaos control only: kills the compression thread; false when none runs. */
  killCompress(): boolean {
    return this.compressed.killThread();
  }

  private tellSupervisor(m: SupervisorLinkMessage): void {
    this.link?.postMessage(m);
  }

  private createApp(security: ListenOptions['security'], raw: boolean, dashboards?: DashboardSettings): Hono {
    return createRuntimeApp({
      current: () => this.current,
      queries: () => this.store.queries(),
      storeAlive: () => this.store.alive(),
      rebuilding: () => this.rebuilding,
      stream: this.stream,
      cache: this.cache,
      freshness: this.freshness,
      // with CORS the raw path steps aside (Hono's middleware answers): nothing to remember for it
      remembered: security?.corsOrigins?.length || !raw ? undefined : this.remembered,
      answerBytes: this.answerBytes,
      compressed: (cur, encoding) => this.compress(cur, encoding),
      body: (cur) => this.bodies.get(cur),
      wholeStateAsked: () => this.wholeStateAsked(),
      compressMemory: () => this.compressed.memory ?? undefined,
      viewGauges: this.viewGauges,
      dashboards,
    }, { ...security, log: this.log, metrics: this.metrics });
  }

  /**
   * The store is gone (it died, or a new one replaces it). Until a new store publishes a ready version (a
   * pass of every collector): the unfiltered /state keeps serving the last bytes a reader made us fetch (if any), not ready (a fresh
   * object, so the raw path forgets what it remembered), and every query answers 503 (a new store would answer
   * from part of the state). A new store may publish nothing before its first pass, so its own versions
   * cannot be the only signal.
   */
  private detachStore(): void {
    if (this.current) {
      this.rebuilding = true;
      // the last body this thread holds (bodies are fetched on demand: maybe of an earlier version)
      const served = this.current.body ? this.current : this.lastWithBody;
      this.current = served ? { ...served, ready: false } : null;
    }
    this.bodies.forget();
    this.bodyAhead = null;
    this.holdKeptBodies();
    this.cache.clear();
    this.versionPort?.close();
    this.versionPort = null;
    this.store.detach();
  }

  /** The version's body compressed, once per version: keyed by store and version, not by ETag (a restarted store's same content has the same tag, other bytes). */
  private async compress(cur: CurrentVersion, encoding: Encoding): Promise<Uint8Array> {
    const full = await this.bodies.get(cur);
    // (held until the job has it: a job waits for the compression thread to start)
    this.answerBytes.hold(full.body);
    try {
      return await this.compressed.get(`${full.epoch}-${full.version}`, full.body, encoding);
    } finally {
      this.answerBytes.release(full.body);
    }
  }

  /**
   * A body the store rendered for a reader: it becomes part of the current version (the raw path then
   * serves that version without asking again), or waits for its version's message when the store was ahead.
   */
  private onBody(v: VersionWithBody): void {
    this.answerBytes.own(v.body);
    if (!this.lastWithBody || this.lastWithBody.epoch !== v.epoch || this.lastWithBody.version <= v.version) this.lastWithBody = v;
    const cur = this.current;
    if (cur && !cur.body && cur.epoch === v.epoch && cur.version === v.version && !this.rebuilding) this.current = { ...cur, body: v.body };
    else if (!cur || cur.version < v.version) this.bodyAhead = v;
    this.holdKeptBodies();
  }

  /**
   * Tells answerBytes which /state bodies this thread keeps (the current version's, the last fetched, one
   * ahead): a body none of them keeps any more is freed once no response or compression job holds it.
   */
  private holdKeptBodies(): void {
    const now = new Set<Uint8Array>();
    for (const v of [this.current, this.lastWithBody, this.bodyAhead]) if (v?.body) now.add(v.body);
    for (const b of now) if (!this.keptBodies.has(b)) this.answerBytes.hold(b);
    for (const b of this.keptBodies) if (!now.has(b)) this.answerBytes.release(b);
    this.keptBodies = now;
  }

  /**
   * (Re)connects to a store thread: called at start and after the supervisor restarted the store or this
   * thread. `rebuilt`: the store replaces one that died, so its versions are served from the first ready one
   * on; this thread may be new (nothing held, so nothing is answered meanwhile), or have had no version yet.
   */
  attachStore(queryPort: MessagePort, versionPort: MessagePort, rebuilt = false, store = 0): void {
    this.detachStore();
    this.attachedStore = store;
    if (rebuilt) this.rebuilding = true;
    this.versionPort = versionPort;
    this.store.attach(wrap<StoreQueryApi>(queryPort) as unknown as AsyncQueries);
    versionPort.on('message', (m: StorePush) => {
      // an earlier store's port: nothing it says counts any more
      if (versionPort !== this.versionPort) return;
      this.store.heardNow();
      if (m?.type === 'freshness') this.onFreshness(m);
      else this.onVersion(m);
    });
  }

  private onFreshness(m: FreshnessMessage): void {
    // (a rebuilding store's too: its sources did run, so it is what is known of them)
    this.stream.onFreshness(this.freshness.onMessage(m));
  }

  private onVersion(m: VersionMessage): void {
    if (m?.type !== 'version') return;
    if (this.rebuilding) {
      // a restarted store's versions are served once it holds a pass of every collector
      if (!m.ready) return;
      this.rebuilding = false;
      this.cache.clear();
    } else if (!m.ready && this.current === null) {
      // the first start: versions before every collector's first run hold part of the market (apps missing
      // until app_flow reports), which would read as an empty market; until then every data route answers 503
      return;
    }
    const ahead = this.bodyAhead;
    const body = ahead && ahead.epoch === m.epoch && ahead.version === m.version ? ahead.body : null;
    if (ahead && (ahead.epoch !== m.epoch || ahead.version <= m.version)) this.bodyAhead = null;
    this.current = {
      epoch: m.epoch, version: m.version, content: m.content, ready: m.ready,
      body, sizeHint: m.size_hint, etag: etagFor(m.content),
    };
    this.holdKeptBodies();
    this.cache.retireAllBut(stampOf(m.epoch, m.version));
    this.stream.onVersion(m);
    this.keepBodyWarm();
  }

  private wholeStateAsked(): void {
    const now = Date.now();
    // (per millisecond: a burst of readers is one ask)
    if (now === this.wholeStateAskedAt) return;
    this.wholeStateAskedBefore = this.wholeStateAskedAt;
    this.wholeStateAskedAt = now;
  }

  /**
   * While readers poll the unfiltered /state (asked twice within BODY_WARM_MS), each new version's body is
   * fetched as it comes, not when the next reader asks: a store that dies in between leaves this thread the
   * newest body to serve while the next one rebuilds, not an older one (an answer going back in time). A
   * poller needs each version's body anyway; without one none is fetched for its own sake (at 50,000 apps a
   * body is ~90 MB).
   */
  private keepBodyWarm(): void {
    const cur = this.current;
    if (this.warming || !cur || cur.body || this.rebuilding || Date.now() - this.wholeStateAskedBefore > BODY_WARM_MS) return;
    // one at a time (the store answers its latest version): versions that came meanwhile are caught up after
    this.warming = true;
    this.bodies.get(cur).catch(() => undefined).finally(() => {
      this.warming = false;
      if (this.current !== cur) this.keepBodyWarm();
    });
  }

  async listen(opts: ListenOptions): Promise<{ port: number }> {
    const raw = opts.rawPath ?? true;
    this.app = this.createApp(opts.security, raw, opts.dashboards);
    // @hono/node-server's Node request listener (exported, not in its README: pinned exactly in package.json)
    const listener = getRequestListener(this.app.fetch, { errorHandler: requestError });
    const fast = rawPath({
      current: () => this.current,
      remembered: this.remembered,
      answerBytes: this.answerBytes,
      compressed: (cur, encoding) => this.compress(cur, encoding),
      metrics: this.metrics,
      apiToken: opts.security?.apiToken,
      cors: (opts.security?.corsOrigins?.length ?? 0) > 0,
      freshness: this.freshness,
      wholeStateAsked: () => this.wholeStateAsked(),
    });
    // the timeouts are checked every 2 s (node's default is 30 s), so a slow client gets its 408 near the limit
    // the Host check is ours (requireHostHeader: false): node's is a bare 400, and HTTP/1.0 needs no Host
    const server = createServer({
      maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, connectionsCheckingInterval: 2_000,
      requireHostHeader: false,
    }, (req, res) => {
      // node's HTTP parser calls this: an exception out of it would end the thread from inside the parser (see
      // drop), so a bug here answers 500 to its request instead
      try {
        // while stopping, every answer tells the client to leave this connection
        if (this.closing) res.setHeader('Connection', 'close');
        if (req.headers.host === undefined && !hostless(req, res)) return;
        if (repeatedHeader(req.rawHeaders, 'host')) return badHead(req, res, 'malformed HTTP request: Host header given more than once');
        if (!raw || !plainHost(req.headers.host!) || !fast(req, res)) listener(req, res).catch((err: unknown) => this.failed(req, res, err));
      } catch (err) {
        this.failed(req, res, err);
      }
    });
    server.keepAliveTimeout = 65_000;
    // node answers a request its parser refuses with a bare 400 and no body; say what was wrong instead
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket));
    // an Expect other than 100-continue: node's answer is a bare 417 with no body; ours is the envelope, then close
    server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => refuseHead(req, res, 417,
      `expectation not supported: Expect: ${String(req.headers.expect).slice(0, 64)} (only 100-continue is)`));
    // CONNECT never reaches the app (node would just drop the connection): this is not a proxy
    // (with Allow, as every other 405 and as the document's MethodNotAllowed requires)
    server.on('connect', (_req, socket: Duplex) => rawAnswer(socket, 405, `method CONNECT not allowed: use ${ALLOW}`, { Allow: ALLOW }));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
    // garbage of answers served keeps to its bound between requests (release-memory.ts HeapBound)
    const heap = new HeapBound();
    this.heapTimer = setInterval(() => heap.check(), HEAP_CHECK_MS);
    this.heapTimer.unref();
    const addr = server.address();
    return { port: typeof addr === 'object' && addr ? addr.port : opts.port };
  }

  /** A request whose answer threw: logged, and a 500 envelope when nothing was sent yet (else the connection is cut). */
  private failed(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    this.log.error({ err: err instanceof Error ? err.message : String(err), path: (req.url ?? '').slice(0, 200) }, 'http: unhandled error');
    if (res.headersSent) res.destroy();
    else refuseHead(req, res, 500, 'internal error');
  }

  /**
   * Ends this thread at once, as a crash would, but from a quiet moment (a control message, not a request):
   * the listening socket and every connection are closed first, so no read reaches node's HTTP parser while
   * the thread stops. Stopped from outside by terminate() while the parser is between its callbacks, node
   * aborts the whole process (FATAL ERROR: v8::ToLocalChecked Empty MaybeLocal under llhttp__internal_execute:
   * node_http_parser.cc's callbacks assume JavaScript can always run; seen on node 20.20 in the output test).
   */
  drop(): never {
    const server = this.server;
    if (server) {
      server.close();
      server.closeAllConnections();
    }
    process.exit(1);
  }

  /**
   * Stops accepting, lets in-flight responses finish (each tells its client `Connection: close`), closes
   * idle keep-alive connections after a short grace (a request already on the wire still gets its answer),
   * and cuts whatever is left at `timeoutMs`.
   */
  async close(timeoutMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.closing = true;
    if (this.heapTimer) clearInterval(this.heapTimer);
    this.stream.closeAll();
    // net.Server's close, not http.Server's: since node 19 the latter also drops every idle keep-alive connection
    // at once, and with it a request a client has just written that this thread has not read yet (ECONNRESET
    // for the client); idle connections are closed below, after the grace
    const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
    const grace = Math.min(CLOSE_GRACE_MS, timeoutMs / 4);
    const idle = setInterval(() => server.closeIdleConnections(), grace);
    const hard = setTimeout(() => server.closeAllConnections(), timeoutMs);
    await closed;
    clearInterval(idle);
    clearTimeout(hard);
    await this.compressed.close().catch(() => undefined);
  }
}

/**
 * A Host @hono/node-server takes as it is (its reValidHost, @hono/node-server 2.1.9 src/url.ts): any other goes
 * through Hono, which checks it (a bad one is a 400 there), so the raw path never answers what Hono refuses.
 */
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/;
function plainHost(host: string): boolean {
  return PLAIN_HOST.test(host);
}

/**
 * A request without a Host header: HTTP/1.1 requires one (RFC 9112 §3.2: 400, in the envelope); an HTTP/1.0
 * request (an old load balancer's health check) is answered as if it had named this server.
 */
function hostless(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.httpVersion === '1.0') {
    req.headers.host = 'localhost';
    return true;
  }
  badHead(req, res, 'malformed HTTP request: missing Host header (HTTP/1.1 requires one)');
  return false;
}

/** A 400 envelope for a request whose head node parsed but we refuse, then close. */
function badHead(req: IncomingMessage, res: ServerResponse, message: string): void {
  refuseHead(req, res, 400, message);
}

/** An error envelope (no body to HEAD) for a request whose head node parsed but we refuse, then close. */
function refuseHead(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  const { body, headers } = closingError(message);
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * An error envelope answered outside the app (node's parser, @hono/node-server), with the headers every data
 * answer carries (security.ts DATA_HEADERS, the JSON type) and never stored.
 */
function errorAnswer(message: string): { body: string; headers: Record<string, string> } {
  return { body: JSON.stringify(errorBody(message)), headers: { ...DATA_HEADERS, 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store' } };
}

/** errorAnswer with its length, for a connection closed after it. */
function closingError(message: string): { body: string; headers: Record<string, string | number> } {
  const { body, headers } = errorAnswer(message);
  return { body, headers: { ...headers, 'Content-Length': Buffer.byteLength(body), Connection: 'close' } };
}

/** A request the HTTP parser refused: the same JSON envelope as every other error, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code = err.code ?? 'unknown';
  // node counts the request line with the headers: a URL past 16 KiB lands here too, not at the 414 check
  const [status, message] = code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'request line and headers too large (at most 16 KiB in all; the URL at most 8 KiB)']
    : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request not received in time']
      : [400, `malformed HTTP request: ${parserErrorMessage(code)}`];
  rawAnswer(socket, status, message);
}

/** The methods a 405 names (security.ts methodGuard's Allow). */
const ALLOW = ALLOWED_METHODS.join(', ');

/** An error envelope written straight to a socket the app never saw, then closed; `extra`: headers of its status. */
function rawAnswer(socket: Duplex, status: number, message: string, extra: Record<string, string> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { body, headers } = closingError(message);
  const lines = Object.entries({ ...extra, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines}\r\n${body}`);
}

/**
 * @hono/node-server could not build a Request (a target like `*`, a backslash in the path, a bad Host):
 * by default a 400 with no body; ours says what was wrong, in the usual envelope.
 */
export function requestError(e: unknown): Response {
  const err = e instanceof Error ? e : new Error(String(e));
  const bad = err.name === 'RequestError';
  const message = bad ? `malformed HTTP request: ${err.message.slice(0, 200) || 'invalid request target'}` : 'internal error';
  const { body, headers } = errorAnswer(message);
  return new Response(body, { status: bad ? 400 : 500, headers });
}
