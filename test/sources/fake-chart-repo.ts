/**
 * A fake Chart Repo on 127.0.0.1 for tests: each (user, source) pair answers in the mode the test sets,
 * including the faults of issue 7 (hang, trickle, huge body, 500, non-JSON, wrong shape) and the connection
 * faults a pooling client must survive (a body cut or stalled midway, a kept-alive connection closed under it).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';

export type Mode =
  | { kind: 'json'; body: unknown; delayMs?: number }
  /** built per request: for payloads whose time-passing values move (uptime, last_check, durations) */
  | { kind: 'dynamic'; body: () => unknown }
  | { kind: 'raw'; body: string; status?: number; contentType?: string; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'trickle' }
  /** headers and the start of the body, then nothing */
  | { kind: 'stall' }
  /** headers announcing 100 bytes, 10 of them, then the connection closes */
  | { kind: 'cut' }
  /** closes the connection without answering */
  | { kind: 'hangup' }
  /** answers a connection's first request; closes the connection on a later one, as an idle timeout racing it */
  | { kind: 'first_only'; body: unknown }
  | { kind: 'huge'; bytes: number };

export interface FakeChartRepo {
  host: string;
  /** the mode for one pair, or for every pair without one of its own */
  set(mode: Mode, user?: string, source?: string): void;
  /** requests seen, as "user/source" */
  requests: string[];
  /** paths and queries seen */
  urls: string[];
  /** closes every open connection, as a server does with idle keep-alive connections */
  dropConnections(): void;
  /** most requests ever in flight at once */
  maxInFlight(): number;
  /** connections accepted so far, and open now */
  connections(): number;
  openConnections(): number;
  /** bytes of huge bodies actually generated (the client's backpressure stops the generator) */
  hugeBytesGenerated(): number;
  close(): Promise<void>;
}

export function envelope(data: unknown): unknown {
  return { success: true, message: 'ok', data };
}

/** `port` 0 picks a free one; a given port brings a stopped fake back where the client expects it. */
export async function startFakeChartRepo(port = 0): Promise<FakeChartRepo> {
  const modes = new Map<string, Mode>();
  let fallback: Mode = { kind: 'json', body: envelope({}) };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: string[] = [];
  const urls: string[] = [];
  let generated = 0;
  let accepted = 0;
  /** requests seen per connection */
  const served = new WeakMap<Socket, number>();
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    urls.push(url.pathname + url.search);
    const key = `${url.searchParams.get('user')}/${url.searchParams.get('source')}`;
    requests.push(key);
    const mode = modes.get(key) ?? fallback;
    const nth = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, nth);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => { inFlight -= 1; });
    switch (mode.kind) {
      case 'json': {
        const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mode.body));
        if (!mode.delayMs) { send(); return; }
        const t = setTimeout(() => { timers.delete(t); send(); }, mode.delayMs);
        timers.add(t);
        return;
      }
      case 'dynamic':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mode.body()));
        return;
      case 'raw':
        res.writeHead(mode.status ?? 200, { 'content-type': mode.contentType ?? 'text/plain', ...mode.headers }).end(mode.body);
        return;
      case 'hang':
        return; // never answers
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"success":');
        return;
      case 'cut':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"success"', () => req.socket.destroy());
        return;
      case 'hangup':
        req.socket.destroy();
        return;
      case 'first_only':
        if (nth > 1) { req.socket.destroy(); return; }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(mode.body));
        return;
      case 'trickle': {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const t = setInterval(() => res.write(' '), 1000);
        timers.add(t);
        res.on('close', () => { clearInterval(t); timers.delete(t); });
        return;
      }
      case 'huge': {
        // generated lazily: a chunk is made only when the socket wants more
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let left = mode.bytes;
        res.writeHead(200, { 'content-type': 'application/json' });
        const body = new Readable({
          read() {
            if (left <= 0) { this.push(null); return; }
            const n = Math.min(left, chunk.length);
            left -= n;
            generated += n;
            this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
          },
        });
        res.on('close', () => body.destroy());
        body.pipe(res);
        return;
      }
    }
  });
  // idle connections stay open as long as a Go server keeps them (no idle timeout), not Node's 5 s
  server.keepAliveTimeout = 120_000;
  server.on('connection', (s) => { accepted += 1; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;

  return {
    host: `127.0.0.1:${bound}`,
    requests,
    urls,
    set(mode, user, source) {
      if (user === undefined) fallback = mode;
      else modes.set(`${user}/${source}`, mode);
    },
    dropConnections() { for (const s of sockets) s.destroy(); },
    maxInFlight: () => maxInFlight,
    connections: () => accepted,
    openConnections: () => sockets.size,
    hugeBytesGenerated: () => generated,
    async close() {
      for (const t of timers) { clearInterval(t); clearTimeout(t); }
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening: connections to it are refused. */
export async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
