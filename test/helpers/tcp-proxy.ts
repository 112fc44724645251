/**
 * A loopback TCP proxy for fault injection: between the sidecar and its database, stop and start its listener
 * (connections refused, open ones cut), stall it (accept, forward nothing: a query that hangs) and count the
 * connections open through it (leaks); in front of a sidecar, `retarget` it to play a restart or a Service
 * switching replicas under an open page.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  host: string;
  port: number;
  /** http://host:port */
  base: string;
  /** rewrites a postgres:// URL to go through the proxy */
  url(target: string): string;
  /** client connections open now */
  open(): number;
  /** connections accepted since start */
  accepted(): number;
  /** one line per open connection (state of both sockets, bytes, age): what a leak assertion prints */
  describe(): string[];
  /** closes the listener and cuts every open connection (a stopped server / a network cut) */
  stop(): Promise<void>;
  /** listens again on the same port */
  start(): Promise<void>;
  /** new and open connections stop forwarding anything (held, not closed) until resume() */
  stall(): void;
  resume(): void;
  /**
   * sends new connections to another port and cuts the open ones (a page's stream and kept-alive connections
   * reconnect, to the new target); null: a target that is gone, every connection cut at once, until retargeted
   */
  retarget(port: number | null): void;
  close(): Promise<void>;
}

interface Pair { client: Socket; upstream: Socket | null; at: number }

export async function startTcpProxy(targetPort: number | null, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let target = targetPort;
  const pairs = new Set<Pair>();
  let accepted = 0;
  let stalled = false;
  let server: Server | null = null;
  let port = 0;

  const wire = (p: Pair): void => {
    if (target === null) { p.client.destroy(); return; }
    const up = connect(target, targetHost);
    p.upstream = up;
    up.on('error', () => p.client.destroy());
    p.client.on('error', () => up.destroy());
    up.on('close', () => p.client.destroy());
    p.client.pipe(up);
    up.pipe(p.client);
  };

  const onConnection = (client: Socket): void => {
    accepted += 1;
    const p: Pair = { client, upstream: null, at: Date.now() };
    pairs.add(p);
    client.on('close', () => { pairs.delete(p); p.upstream?.destroy(); });
    client.on('error', () => client.destroy());
    if (stalled) client.pause();
    else wire(p);
  };

  const listen = (): Promise<void> => new Promise((resolve, reject) => {
    const s = createServer({ pauseOnConnect: false }, onConnection);
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      s.off('error', reject);
      port = (s.address() as AddressInfo).port;
      server = s;
      resolve();
    });
  });

  const stopListening = (): Promise<void> => new Promise((resolve) => {
    const s = server;
    server = null;
    cutAll();
    if (!s) { resolve(); return; }
    s.close(() => resolve());
  });

  const cutAll = (): void => { for (const p of pairs) { p.client.destroy(); p.upstream?.destroy(); } };

  await listen();
  return {
    host: '127.0.0.1',
    get port() { return port; },
    get base() { return `http://127.0.0.1:${port}`; },
    url(target: string) {
      const u = new URL(target);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    open: () => pairs.size,
    accepted: () => accepted,
    describe: () => [...pairs].map((p) => {
      const side = (s: Socket | null) => s ? `${s.readyState} flowing=${s.readableFlowing} ended=${s.readableEnded} in=${s.bytesRead} out=${s.bytesWritten}` : 'none';
      return `age ${Date.now() - p.at} ms; client ${side(p.client)}; upstream ${side(p.upstream)}`;
    }),
    stop: stopListening,
    start: listen,
    stall() {
      stalled = true;
      for (const p of pairs) {
        if (p.upstream) { p.client.unpipe(p.upstream); p.upstream.unpipe(p.client); p.upstream.pause(); }
        p.client.pause();
      }
    },
    resume() {
      stalled = false;
      for (const p of pairs) {
        if (p.upstream) { p.client.pipe(p.upstream); p.upstream.pipe(p.client); } else wire(p);
      }
    },
    retarget(to) {
      target = to;
      cutAll();
    },
    close: stopListening,
  };
}
