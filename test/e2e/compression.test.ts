import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negotiate } from '../../src/http/compress-job.ts';
import { parseProm, sum } from '../helpers/prom.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { fake, startInProcess, untilReady } from '../helpers/sidecar.ts';

type Sidecar = Awaited<ReturnType<typeof startInProcess>>;

/** A sidecar of its own for the enclosing describe: one pass of 500 tasks, then none for a minute (one version). */
function oneVersionSidecar(): { sc: Sidecar } {
  const ctx = { sc: null as unknown as Sidecar };
  beforeAll(async () => {
    ctx.sc = await startInProcess([fake('tasks', { mode: 'passes', count: 500 })], { intervalMs: 60_000 });
    await untilReady(ctx.sc.base);
  });
  afterAll(() => ctx.sc.sup.stop());
  return ctx;
}

it('negotiates br over gzip, and respects q=0', () => {
  expect(negotiate('gzip, deflate, br')).toBe('br');
  expect(negotiate('gzip')).toBe('gzip');
  expect(negotiate('br;q=0, gzip;q=0.5')).toBe('gzip');
  expect(negotiate('identity')).toBeNull();
  expect(negotiate(undefined)).toBeNull();
});

it('negotiates as RFC 9110 says: weights decide, * stands only for codings not named, a bad q is passed over', () => {
  expect(negotiate('gzip;q=1, br;q=0.5')).toBe('gzip');
  expect(negotiate('br;q=0.8, gzip;q=0.8')).toBe('br');
  expect(negotiate('gzip;q=0, *')).toBe('br');
  expect(negotiate('gzip;q=0, br;q=0, *')).toBeNull();
  expect(negotiate('*')).toBe('br');
  expect(negotiate('*;q=0')).toBeNull();
  expect(negotiate('br;q=abc')).toBeNull();
  expect(negotiate('br;q=abc, gzip')).toBe('gzip');
  expect(negotiate('x-gzip')).toBe('gzip');
  expect(negotiate(' GZIP ; Q=0.5 ')).toBe('gzip');
});

describe('compressed snapshots', () => {
  const env = oneVersionSidecar();

  it('serves the snapshot compressed with br and gzip, the same JSON as identity', async () => {
    const plain = await rawRequest(env.sc.base, '/api/v2/runtime/state');
    const br = await rawRequest(env.sc.base, '/api/v2/runtime/state', { headers: { 'Accept-Encoding': 'br' } });
    const gz = await rawRequest(env.sc.base, '/api/v2/runtime/state', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(br.headers.vary).toBe('Accept-Encoding');
    expect(br.bytes.length).toBeLessThan(plain.bytes.length / 4);
    expect(brotliDecompressSync(br.bytes).equals(plain.bytes)).toBe(true);
    expect(gunzipSync(gz.bytes).equals(plain.bytes)).toBe(true);
    // each encoding has its own tag, and each answers 304 to itself
    expect(br.headers.etag).not.toBe(plain.headers.etag);
    const again = await rawRequest(env.sc.base, '/api/v2/runtime/state', { headers: { 'Accept-Encoding': 'br', 'If-None-Match': String(br.headers.etag) } });
    expect(again.status).toBe(304);
  });

  it('a client holding the same content in another encoding gets a 304 naming the tag it sent', async () => {
    const plain = await rawRequest(env.sc.base, '/api/v2/runtime/state');
    const gz = await rawRequest(env.sc.base, '/api/v2/runtime/state', { headers: { 'Accept-Encoding': 'gzip' } });
    // a stream client asks with the bare content tag of an event id, as a browser that accepts br
    for (const [held, accepts] of [[plain.headers.etag, 'gzip, deflate, br'], [gz.headers.etag, 'br'], [gz.headers.etag, 'identity']]) {
      const r = await rawRequest(env.sc.base, '/api/v2/runtime/state', { headers: { 'Accept-Encoding': String(accepts), 'If-None-Match': String(held) } });
      expect(r.status, `${held} accepting ${accepts}`).toBe(304);
      expect(r.headers.etag).toBe(held);
    }
    // another content's tag is not held
    const other = String(plain.headers.etag).replace(/"(.)/, '"0$1');
    expect((await rawRequest(env.sc.base, '/api/v2/runtime/state', { headers: { 'Accept-Encoding': 'br', 'If-None-Match': other } })).status).toBe(200);
  });
});

// a sidecar no one has asked for a compressed body yet: every job counted here is one these requests caused
describe('compression jobs', () => {
  const env = oneVersionSidecar();

  it('compresses each encoding once per version, however many clients ask for it', async () => {
    const S = '/api/v2/runtime/state';
    const metrics = async () => parseProm(await (await env.sc.get('/metrics')).text());
    const jobs = (e: Awaited<ReturnType<typeof metrics>>, encoding: string) => sum(e, 'market_runtime_http_compressions_total', { encoding });
    const version = (await rawRequest(env.sc.base, S)).headers.etag;
    // a tag to compare with below (two missing tags would be equal too)
    expect(version).toMatch(/^W\/"/);
    const before = await metrics();
    for (const encoding of ['gzip', 'br']) expect(jobs(before, encoding)).toBe(0);
    for (const encoding of ['gzip', 'br']) {
      const answers = await Promise.all(Array.from({ length: 25 }, () => rawRequest(env.sc.base, S, { headers: { 'Accept-Encoding': encoding } })));
      expect(answers.every((a) => a.status === 200 && a.headers['content-encoding'] === encoding)).toBe(true);
    }
    const after = await metrics();
    expect((await rawRequest(env.sc.base, S)).headers.etag).toBe(version);
    // 25 answers per encoding at one version: exactly one job each
    for (const encoding of ['gzip', 'br']) expect(jobs(after, encoding)).toBe(1);
  });
});
