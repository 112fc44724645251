/**
 * One HTTP/1.1 request through node:http, for tests that must see the answer as sent: the target goes out
 * as given (fetch normalizes paths and queries), the body as received (fetch decompresses it and hides the
 * encoding), every status and header as is.
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { LIVENESS_MS } from './liveness.ts';

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** the body as UTF-8 text */
  body: string;
  /** the body as received (compressed bodies compare byte for byte) */
  bytes: Buffer;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
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
        resolve({ status: res.statusCode!, headers: res.headers, body: '', bytes: Buffer.alloc(0) });
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body: bytes.toString('utf8'), bytes });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${target} within ${LIVENESS_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}
