/**
 * HTTP requests for tests that must see the answer as sent. rawRequest: one HTTP/1.1 request through node:http,
 * the target as given (fetch normalizes paths and queries), the body as received (fetch decompresses it and hides
 * the encoding), every status and header as is. wireExchange: bytes written on a socket as they are, for
 * requests node:http would not send.
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { LIVENESS_MS } from './liveness.ts';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** the header lines as sent: names in their case, in their order (res.rawHeaders: name, value, …) */
  rawHeaders: string[];
  /** the body as UTF-8 text */
  body: string;
  /** the body as received (compressed bodies compare byte for byte) */
  bytes: Buffer;
}

export interface RawOptions {
  method?: string;
  /** a list sends the field once per value */
  headers?: Record<string, string | string[]>;
  /** a keep-alive agent, for tests that check the connection is kept */
  agent?: Agent;
}

/**
 * `target` (path and query) on the server at `base` (`http://host:port`). A change stream never ends: the
 * headers of a GET of one are the whole answer, and the request is closed once they arrive.
 */
export function rawRequest(base: string, target: string, opts: RawOptions = {}): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  const method = opts.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: target, method, headers: opts.headers, agent: opts.agent, timeout: LIVENESS_MS }, (res) => {
      if (method !== 'HEAD' && res.headers['content-type']?.startsWith('text/event-stream')) {
        resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: '', bytes: Buffer.alloc(0) });
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: bytes.toString('utf8'), bytes });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${target} within ${LIVENESS_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** How a raw exchange ended: the server closed, `until` held, the time ran out. */
export type WireEnd = 'closed' | 'until' | 'timeout';

export interface WireOptions {
  /** half-close after writing (default true); false leaves the request open, as a client that never finishes it */
  end?: boolean;
  /** stop reading (and close) once this holds of everything received: an answer that leaves the connection open */
  until?: (got: Buffer) => boolean;
  /** give up (and close) after this long (default LIVENESS_MS) */
  timeoutMs?: number;
}

/**
 * `request` written byte for byte on a fresh connection to 127.0.0.1:`port`, for what no client library sends
 * (malformed lines, pipelined requests, headers that never end): everything that came back, and how it ended.
 * A socket error rejects.
 */
export function wireExchange(port: number, request: string | Buffer, opts: WireOptions = {}): Promise<{ got: Buffer; ended: WireEnd }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (ended: WireEnd, err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve({ got: Buffer.concat(chunks), ended });
    };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? LIVENESS_MS);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.until?.(Buffer.concat(chunks))) finish('until');
    });
    socket.on('close', () => finish('closed'));
    socket.on('error', (e) => finish('closed', e));
    const bytes = typeof request === 'string' ? Buffer.from(request) : request;
    if (opts.end ?? true) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** One answer as written on the wire: header names lower-cased, the body as sent (de-chunked when chunked). */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The first answer in `got` (status line, headers, the rest as its body); null when its headers did not all arrive. */
export function parseWire(got: Buffer): WireAnswer | null {
  const sep = got.indexOf('\r\n\r\n');
  if (sep < 0) return null;
  const [statusLine = '', ...lines] = got.subarray(0, sep).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
  }
  const rest = got.subarray(sep + 4);
  return { status, headers, body: headers['transfer-encoding']?.includes('chunked') ? dechunk(rest) : rest };
}

/** A chunked body's data (as far as it arrived). */
function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const eol = b.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

/** A raw answer as a fetch Response, for checks written against Responses (the OpenAPI contract). */
export function wireResponse(a: WireAnswer): Response {
  return new Response(a.body.length === 0 ? null : new Uint8Array(a.body), { status: a.status, headers: a.headers });
}
