import { createServer, type Server } from 'node:http';
import type { MessagePort } from 'node:worker_threads';
import { getRequestListener } from '@hono/node-server';
import type { StoreQueryApi, VersionMessage } from '../protocol.ts';
import { wrap, type Comlink } from '../threads.ts';
import type { Hono } from 'hono';
import { threadLogger } from '../log-thread.ts';
import { createRuntimeApp, type CurrentVersion } from './app.ts';
import { etagFor } from './etag.ts';
import type { HttpSecurityOptions } from './hardening.ts';
import { ChangeStream } from './stream.ts';
import { CompressedBodies } from './compressed-bodies.ts';
import { fastState } from './fast-state.ts';
import { HttpMetrics } from './metrics.ts';
import { ResponseCache } from './response-cache.ts';

const CLOSE_GRACE_MS = 300;

export interface ListenOptions {
  port: number;
  host: string;
  /** access control and hardening (token, /metrics protection, CORS); see http/hardening.ts */
  security?: Omit<HttpSecurityOptions, 'log'>;
}

/**
 * The HTTP thread: serves the API. It holds the latest snapshot bytes pushed by the store, so the
 * unfiltered /state needs no round trip; everything else asks the store over comlink.
 */
export class HttpThread {
  private current: CurrentVersion | null = null;
  private queries: Comlink.Remote<StoreQueryApi> | null = null;
  private server: Server | null = null;
  private closing = false;
  readonly stream = new ChangeStream();
  private readonly compressed = new CompressedBodies();
  private readonly metrics = new HttpMetrics();
  private readonly cache = new ResponseCache();

  private readonly log = threadLogger('http');
  /** built at listen time, with the security options the supervisor passes */
  app: Hono | null = null;

  private createApp(security: ListenOptions['security']): Hono {
    return createRuntimeApp({
      current: () => this.current,
      queries: () => this.queries as never,
      storeAlive: () => this.storeAlive(),
      stream: this.stream,
      cache: this.cache,
      compressed: (cur, encoding) => this.compressed.get(cur.etag, cur.body, encoding),
    }, { ...security, log: this.log, metrics: this.metrics });
  }

  /** (Re)connects to a store thread: called at start and after the supervisor restarted the store. */
  attachStore(queryPort: MessagePort, versionPort: MessagePort): void {
    // a new store has not rebuilt the state yet: keep serving what we hold, but not ready until it says so
    // (it may publish nothing before its first pass, so its own versions cannot be the only signal)
    if (this.current?.ready) this.current = { ...this.current, ready: false };
    this.queries = wrap<StoreQueryApi>(queryPort);
    versionPort.on('message', (m: VersionMessage) => this.onVersion(m));
  }

  private onVersion(m: VersionMessage): void {
    if (m?.type !== 'version') return;
    const held = this.current;
    if (held && held.epoch !== m.epoch && !m.ready) {
      // a restarted store is rebuilding: keep serving the last full snapshot, but say we are not ready
      if (held.ready) this.current = { ...held, ready: false };
      return;
    }
    this.current = {
      epoch: m.epoch, version: m.version, ready: m.ready,
      body: new Uint8Array(m.body), etag: etagFor(m.epoch, m.version),
    };
    this.stream.onVersion(m);
  }

  private async storeAlive(): Promise<boolean> {
    const q = this.queries;
    if (!q) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => { timer = setTimeout(() => r(false), 1000); });
    try {
      return await Promise.race([q.ping().then(() => true), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  async listen(opts: ListenOptions): Promise<{ port: number }> {
    this.app = this.createApp(opts.security);
    const listener = getRequestListener(this.app.fetch);
    const fast = fastState({
      current: () => this.current,
      compressed: (cur, encoding) => this.compressed.get(cur.etag, cur.body, encoding),
      metrics: this.metrics,
      apiToken: opts.security?.apiToken,
      cors: (opts.security?.corsOrigins?.length ?? 0) > 0,
    });
    const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      // while stopping, every answer tells the client to leave this connection
      if (this.closing) res.setHeader('Connection', 'close');
      if (!fast(req, res)) void listener(req, res);
    });
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
    const addr = server.address();
    return { port: typeof addr === 'object' && addr ? addr.port : opts.port };
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
    this.stream.closeAll();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const grace = Math.min(CLOSE_GRACE_MS, timeoutMs / 4);
    const idle = setInterval(() => server.closeIdleConnections(), grace);
    const hard = setTimeout(() => server.closeAllConnections(), timeoutMs);
    await closed;
    clearInterval(idle);
    clearTimeout(hard);
    await this.compressed.close().catch(() => undefined);
  }
}
