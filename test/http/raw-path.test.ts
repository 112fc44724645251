import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CurrentVersion } from '../../src/http/app.ts';
import { HttpMetrics } from '../../src/http/metrics.ts';
import { rawPath } from '../../src/http/raw-path.ts';

const cur: CurrentVersion = {
  epoch: 'ep', version: 7, ready: true, etag: '"ep-7"',
  body: new TextEncoder().encode('{"success":true,"message":"","data":{}}'),
};

function get(port: number, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/api/v2/runtime/state', headers }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject).end();
  });
}

describe('the raw path on a node server', () => {
  let server: Server;
  let port: number;
  let closing = false;
  beforeAll(async () => {
    const fast = rawPath({ current: () => cur, metrics: new HttpMetrics(), cors: false, compressed: async () => cur.body });
    // as the HTTP thread does: while stopping, every answer tells the client to leave the connection
    server = createServer((req, res) => {
      if (closing) res.setHeader('Connection', 'close');
      if (!fast(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('writes the snapshot with its prepared headers, and 304 with the tag and the data headers only', async () => {
    const ok = await get(port);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('{"success":true,"message":"","data":{}}');
    expect(ok.headers).toMatchObject({
      etag: '"ep-7"', 'content-type': 'application/json; charset=utf-8', 'content-length': String(cur.body.byteLength),
      'cache-control': 'no-cache', vary: 'Accept-Encoding', 'x-content-type-options': 'nosniff',
    });
    const nm = await get(port, { 'If-None-Match': '"ep-7"' });
    expect(nm.status).toBe(304);
    expect(nm.headers).toMatchObject({ etag: '"ep-7"', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    expect(nm.headers).not.toHaveProperty('content-length');
  });

  it('keeps a header set before it answers (Connection: close while the server stops)', async () => {
    closing = true;
    try {
      for (const headers of [{}, { 'If-None-Match': '"ep-7"' }] as Record<string, string>[]) {
        const res = await get(port, headers);
        expect(res.headers.connection).toBe('close');
        expect(res.headers.etag).toBe('"ep-7"');
      }
    } finally {
      closing = false;
    }
  });
});
