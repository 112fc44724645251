/**
 * Requests node's HTTP parser refuses, or whose head we refuse (two Host headers), answer 400 in the JSON
 * envelope, in words a user understands: never a parser code (`HPE_…`), and an HTTP/2 client is told to use
 * HTTP/1.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parserErrorMessage } from '../../src/http/parser-errors.ts';
import { parseWire, wireExchange } from '../helpers/raw-http.ts';
import { app, startHarness } from './store-harness.ts';

describe('parserErrorMessage', () => {
  it('never answers the code itself', () => {
    for (const code of ['HPE_PAUSED_H2_UPGRADE', 'HPE_STRICT', 'HPE_SOMETHING_NEW', 'unknown', undefined]) {
      expect(parserErrorMessage(code), String(code)).not.toMatch(/HPE_|unknown/);
      expect(parserErrorMessage(code).length).toBeGreaterThan(0);
    }
  });
});

describe('refused request heads over HTTP', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow']);
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'firefox')] }]);
    await h.settled(true);
  });
  afterAll(() => h.close());

  /** `request` on a raw socket: the answer as written, and its body read as the envelope */
  const exchange = async (request: string) => {
    const { got } = await wireExchange(h.port, request);
    const answer = parseWire(got);
    expect(answer, JSON.stringify(got.toString('latin1'))).not.toBeNull();
    return { status: answer!.status, headers: answer!.headers, body: answer!.body.toString('utf8') };
  };

  it('two Host headers: 400 in the envelope, on the raw path and through the app alike', async () => {
    for (const target of ['/api/v2/runtime/state', '/readyz', '/api/v2/runtime/apps/alice/market/firefox']) {
      for (const hosts of [['127.0.0.1', 'evil.example'], ['127.0.0.1', '127.0.0.1']]) {
        const a = await exchange(`GET ${target} HTTP/1.1\r\nHost: ${hosts[0]}\r\nX-A: 1\r\nhost: ${hosts[1]}\r\n\r\n`);
        expect(a.status, target).toBe(400);
        expect(a.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(a.body)).toEqual({ success: false, message: 'malformed HTTP request: Host header given more than once', data: null });
      }
    }
    // HEAD: the same status, no body
    const head = await exchange('HEAD /api/v2/runtime/state HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect(head.status).toBe(400);
    expect(head.body).toBe('');
    // one Host is answered as ever
    expect((await h.send('/api/v2/runtime/state')).status).toBe(200);
  });

  it('an HTTP/2 connection preface: 400 saying HTTP/2 cleartext is not supported, use HTTP/1.1', async () => {
    const a = await exchange('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    expect(a.status).toBe(400);
    const body = JSON.parse(a.body) as { success: boolean; message: string; data: null };
    expect(body).toMatchObject({ success: false, data: null });
    expect(body.message).toMatch(/HTTP\/2 cleartext .*not supported.*use HTTP\/1\.1/);
    expect(body.message).not.toMatch(/HPE_/);
  });

  it.each([
    ['a space before a header\'s colon', 'GET /readyz HTTP/1.1\r\nHost : a\r\n\r\n', /header name or value/],
    ['a Transfer-Encoding that does not end in chunked', 'GET /readyz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', /Transfer-Encoding/],
    ['two Content-Length headers', 'GET /readyz HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /Content-Length/],
    ['a bad version', 'GET /readyz HTTP/9.9\r\nHost: a\r\n\r\n', /HTTP version/],
  // (errors in a body come after the answer to its head: nothing can be answered then)
  ])('%s: a 400 in words, no parser code', async (_what, request, why) => {
    const a = await exchange(request);
    expect(a.status).toBe(400);
    const body = JSON.parse(a.body) as { message: string };
    expect(body.message).toMatch(/^malformed HTTP request: /);
    expect(body.message).toMatch(why);
    expect(body.message).not.toMatch(/HPE_/);
  });
});
