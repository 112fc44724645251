import { createServer, type Server } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntimeApp, type CurrentVersion } from '../../src/http/app.ts';
import { HttpMetrics } from '../../src/http/metrics.ts';
import { rawPath } from '../../src/http/raw-path.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const withSize = (v: Omit<CurrentVersion, 'sizeHint' | 'body'> & { body: Uint8Array }) => ({ ...v, sizeHint: v.body.byteLength });
const cur = withSize({
  epoch: 'ep', version: 7, content: 'c7', ready: true, etag: 'W/"c7"',
  body: new TextEncoder().encode('{"success":true,"message":"","data":{}}'),
});
// large enough to be compressed
const big = withSize({
  epoch: 'ep', version: 8, content: 'c8', ready: true, etag: 'W/"c8"',
  body: new TextEncoder().encode(JSON.stringify({ success: true, message: '', data: { pad: 'x'.repeat(5000) } })),
});
let current: CurrentVersion = cur;

/** a compression thread that fails on anything but gzip */
const gzipOnly = async (v: CurrentVersion, encoding: string) => {
  if (encoding !== 'gzip') throw new Error('gzip only here');
  return gzipSync(v.body!);
};

const get = (port: number, headers: Record<string, string> = {}) =>
  rawRequest(`http://127.0.0.1:${port}`, '/api/v2/runtime/state', { headers });

describe('the raw path on a node server', () => {
  let server: Server;
  let port: number;
  let closing = false;
  beforeAll(async () => {
    const fast = rawPath({ current: () => current, metrics: new HttpMetrics(), cors: false, compressed: gzipOnly });
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
      etag: 'W/"c7"', 'content-type': 'application/json; charset=utf-8', 'content-length': String(cur.body.byteLength),
      'cache-control': 'no-cache', vary: 'Accept-Encoding', 'x-content-type-options': 'nosniff',
    });
    const nm = await get(port, { 'If-None-Match': 'W/"c7"' });
    expect(nm.status).toBe(304);
    expect(nm.headers).toMatchObject({ etag: 'W/"c7"', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    expect(nm.headers).not.toHaveProperty('content-length');
  });

  it('keeps a header set before it answers (Connection: close while the server stops)', async () => {
    closing = true;
    try {
      for (const headers of [{}, { 'If-None-Match': 'W/"c7"' }] as Record<string, string>[]) {
        const res = await get(port, headers);
        expect(res.headers.connection).toBe('close');
        expect(res.headers.etag).toBe('W/"c7"');
      }
    } finally {
      closing = false;
    }
  });

  it('compressed variants: the same prepared headers every time, their own length and tag, and 304 to that tag', async () => {
    current = big;
    try {
      const first = await get(port, { 'Accept-Encoding': 'gzip' });
      const again = await get(port, { 'Accept-Encoding': 'gzip' });
      for (const res of [first, again]) {
        expect(res.status).toBe(200);
        expect(res.headers).toMatchObject({ 'content-encoding': 'gzip', etag: 'W/"c8-gzip"', vary: 'Accept-Encoding' });
        expect(Number(res.headers['content-length'])).toBe(res.bytes.byteLength);
        expect(gunzipSync(res.bytes).toString()).toBe(new TextDecoder().decode(big.body));
      }
      const nm = await get(port, { 'Accept-Encoding': 'gzip', 'If-None-Match': 'W/"c8-gzip"' });
      expect(nm.status).toBe(304);
      expect(nm.headers.etag).toBe('W/"c8-gzip"');
      // an encoding this server fails to produce: the identity body, always right
      const br = await get(port, { 'Accept-Encoding': 'br' });
      expect(br.status).toBe(200);
      expect(br.headers['content-encoding']).toBeUndefined();
      expect(br.body).toBe(new TextDecoder().decode(big.body));
      expect(Number(br.headers['content-length'])).toBe(big.body.byteLength);
      // and Hono's route (which answers what the raw path leaves) falls back alike, with the identity tag
      const app = createRuntimeApp({ current: () => big, queries: () => null, storeAlive: async () => true, compressed: gzipOnly });
      const viaHono = await app.request('/api/v2/runtime/state', { headers: { 'Accept-Encoding': 'br' } });
      expect(viaHono.status).toBe(200);
      expect(viaHono.headers.get('content-encoding')).toBeNull();
      for (const name of ['etag', 'content-type', 'vary', 'cache-control']) expect(viaHono.headers.get(name), name).toBe(br.headers[name]);
      expect(await viaHono.text()).toBe(br.body);
    } finally {
      current = cur;
    }
  });
});
