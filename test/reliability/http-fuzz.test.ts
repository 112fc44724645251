/**
 * Issue 7: property-based HTTP fuzzing of a running sidecar over real sockets. Thousands of random request
 * targets (paths, query strings: huge, repeated, unicode, broken percent-encoding), methods and headers,
 * written raw so nothing is cleaned up on the way: never a 5xx, never a hang, and every 400 says what was
 * wrong (naming the parameter when a parameter is the problem).
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWire, wireExchange } from '../helpers/raw-http.ts';
import { fake, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';

/** a request with no answer by then hangs (a liveness bound: a loaded machine may be slow, never silent) */
const REQUEST_TIMEOUT_MS = LIVENESS_MS;
/** requests per property: a fixed number, each written and answered (docs/reliability.md counts them) */
const ANY_REQUESTS = 1500;
const FILTER_REQUESTS = 500;
/** a liveness bound for a whole property, not a budget (a few seconds on an idle machine) */
const PROPERTY_TIMEOUT_MS = 10 * LIVENESS_MS;
const FILTER_KEYS = ['user_id', 'source_id', 'app_name', 'task_status', 'task_type', 'stuck'] as const;
const STATUSES = ['pending', 'running', 'completed', 'failed', 'canceled', 'unknown'];
const TYPES = ['install', 'uninstall', 'upgrade', 'cancel', 'clone', 'unknown'];

let sc: Awaited<ReturnType<typeof startInProcess>>;
let port = 0;

beforeAll(async () => {
  sc = await startInProcess([fake('tasks', { mode: 'passes', count: 30 })], { intervalMs: 500 });
  port = sc.sup.port;
  await untilReady(sc.base);
});
afterAll(() => sc.sup.stop());

interface RawResponse { status: number; headers: Record<string, string>; body: string }

/** an event stream never ends by itself: its headers are the answer */
const streamHeadersIn = (got: Buffer) => {
  const text = got.toString('latin1');
  return /\r\ncontent-type: text\/event-stream/i.test(text) && text.includes('\r\n\r\n');
};

/** One request written byte for byte on a fresh connection; the answer as sent, decoded. */
async function raw(method: string, target: string, headers: Array<[string, string]>): Promise<RawResponse> {
  const head = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`
    + headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') + 'Connection: close\r\n\r\n';
  const what = `${method} ${JSON.stringify(target).slice(0, 300)}`;
  const { got, ended } = await wireExchange(port, head, { end: false, until: streamHeadersIn, timeoutMs: REQUEST_TIMEOUT_MS });
  if (ended === 'timeout') throw new Error(`HANG: no answer within ${REQUEST_TIMEOUT_MS} ms to ${what}`);
  const answer = parseWire(got);
  if (!answer) throw new Error(`no complete answer to ${what.slice(0, 200)}: ${JSON.stringify(got.toString('latin1').slice(0, 200))}`);
  let body = answer.body;
  const enc = answer.headers['content-encoding'];
  try {
    if (enc === 'gzip') body = gunzipSync(body);
    else if (enc === 'br') body = brotliDecompressSync(body);
    else if (enc === 'deflate') body = inflateSync(body);
  } catch { /* a HEAD answer or an event stream cut short */ }
  return { status: answer.status, headers: answer.headers, body: body.toString('utf8') };
}

// ---- arbitraries ----------------------------------------------------------------------------------

const unicode = fc.string({ unit: 'grapheme', maxLength: 30 });
const binary = fc.string({ unit: 'binary', maxLength: 60 });
const pctGarbage = fc.constantFrom('%', '%%', '%zz', '%c3%28', '%00', '%ff%fe', '%E2%82', '%2', '%u0041', '%2F..%2F', '%0d%0a', '%25%', '%C0%AF', '+%20+');
const huge = fc.integer({ min: 200, max: 24_000 }).map((n) => 'x'.repeat(n));
const segment = fc.oneof(
  fc.constantFrom('state', 'tasks', 'apps', 'users', 'alice', 'apps', 'dashboard', 'dashboard-app', 'events', 'healthz', 'readyz', 'metrics', '..', '.', '', 'api', 'v2', 'runtime'),
  unicode, pctGarbage, binary,
);
const path = fc.oneof(
  fc.tuple(fc.constantFrom('/api/v2/runtime', '/app-store/api/v2/runtime', '', '/api/v2', '/app-store'), fc.array(segment, { maxLength: 5 }))
    .map(([b, segs]) => `${b}/${segs.join('/')}`),
  fc.constantFrom('/api/v2/runtime/state', '/app-store/api/v2/runtime/state', '/api/v2/runtime/tasks', '/healthz', '/readyz', '/metrics'),
  binary.map((s) => `/${s}`),
  fc.constantFrom('*', 'http://127.0.0.1/api/v2/runtime/state', '//', '/%', '/%zz/state'),
);
const qkey = fc.oneof(fc.constantFrom(...FILTER_KEYS, 'since', 'last_event_id', 'page', ''), unicode, pctGarbage);
const qval = fc.oneof(unicode, pctGarbage, huge, binary, fc.constantFrom(...STATUSES, ...TYPES, 'true', 'false', '', ' ', '  running  '));
const query = fc.array(fc.tuple(qkey, qval, fc.boolean()), { maxLength: 8 })
  .map((pairs) => pairs.map(([k, v, encode]) => (encode ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v}`)).join('&'));
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/);
const headerValue = fc.oneof(unicode, binary, huge, fc.constantFrom('*', 'W/"x"', '"abc-1"', 'gzip, br', 'identity;q=0', 'Bearer x', 'bytes=0-1', 'null'))
  .map((s) => s.replace(/[\r\n\0]/g, ' '));
const headers = fc.array(fc.tuple(fc.oneof(
  fc.constantFrom('If-None-Match', 'Accept', 'Accept-Encoding', 'Authorization', 'Origin', 'Range', 'X-Forwarded-For', 'Last-Event-ID', 'Cookie', 'Content-Type', 'Expect', 'Transfer-Encoding'),
  token,
), headerValue), { maxLength: 6 });
const method = fc.oneof(
  fc.constant('GET'), fc.constant('GET'), fc.constant('GET'),
  fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'BREW', 'get'),
);

/** The 4xx contract: a JSON envelope with a message saying what was wrong. */
function expectExplained(r: RawResponse, where: string): { message: string } {
  let body: { success?: unknown; message?: unknown; data?: unknown };
  try {
    body = JSON.parse(r.body);
  } catch {
    throw new Error(`${r.status} without a JSON body for ${where}: ${JSON.stringify(r.body.slice(0, 200))}`);
  }
  expect(body.success, where).toBe(false);
  expect(typeof body.message, where).toBe('string');
  expect((body.message as string).trim().length, where).toBeGreaterThan(0);
  return body as { message: string };
}

describe('HTTP fuzzing over real sockets', () => {
  it('random methods, targets and headers: never a 5xx, never a hang, every 400 explained', async () => {
    const seen = new Map<number, number>();
    let runs = 0;
    let explained = 0;
    await fc.assert(fc.asyncProperty(method, path, query, headers, fc.boolean(), async (m, p, q, h, withQuery) => {
      runs++;
      const target = withQuery && q ? `${p}?${q}` : p;
      const where = `${m} ${JSON.stringify(target).slice(0, 300)} headers ${JSON.stringify(h).slice(0, 300)}`;
      const r = await raw(m, target, h);
      seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      expect(r.status, where).toBeGreaterThanOrEqual(100);
      expect(r.status, `${where} -> ${r.body.slice(0, 300)}`).toBeLessThan(500);
      // (a HEAD answer has no body by definition)
      if (r.status === 400 && m !== 'HEAD') {
        const { message } = expectExplained(r, where);
        explained++;
        // a parameter problem names a parameter the request has
        const named = /query parameter (\w+)/.exec(message)?.[1];
        if (named) expect(target, where).toContain(named);
      }
    }), { numRuns: ANY_REQUESTS, seed: Number(process.env.FUZZ_SEED ?? 7), endOnFailure: true });
    // every request was written and answered (a run cut short would pass with fewer)
    expect(runs).toBe(ANY_REQUESTS);
    expect(seen.size).toBeGreaterThan(3);
    expect(explained).toBeGreaterThan(0);
  }, PROPERTY_TIMEOUT_MS);

  it('/state filters: answer exactly when valid; otherwise 400 naming the parameter and why', async () => {
    let runs = 0;
    let answered = 0;
    let rejected = 0;
    const value = fc.oneof(
      fc.constantFrom(...STATUSES, ...TYPES, 'true', 'false', '', '  running ', 'RUNNING', 'alice'),
      unicode, fc.integer({ min: 250, max: 300 }).map((n) => 'a'.repeat(n)),
    );
    const pairs = fc.array(fc.tuple(fc.constantFrom(...FILTER_KEYS), value), { maxLength: 5 });
    await fc.assert(fc.asyncProperty(pairs, fc.constantFrom('/api/v2/runtime/state', '/app-store/api/v2/runtime/state'), async (ps, base) => {
      runs++;
      const target = `${base}?${ps.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
      const r = await raw('GET', target, []);
      const counts = new Map<string, number>();
      for (const [k] of ps) counts.set(k, (counts.get(k) ?? 0) + 1);
      const repeated = FILTER_KEYS.filter((k) => (counts.get(k) ?? 0) > 1);
      const invalid = ps.filter(([k, v]) => {
        if (v.length > 256) return true;
        const t = v.trim();
        if (t === '') return false;
        if (k === 'task_status') return !STATUSES.includes(t);
        if (k === 'task_type') return !TYPES.includes(t);
        if (k === 'stuck') return t !== 'true' && t !== 'false';
        return false;
      }).map(([k]) => k);
      const where = `GET ${target.slice(0, 300)}`;
      if (repeated.length === 0 && invalid.length === 0) {
        expect(r.status, `${where} -> ${r.body.slice(0, 200)}`).toBe(200);
        expect(JSON.parse(r.body).success).toBe(true);
        answered++;
        return;
      }
      expect(r.status, where).toBe(400);
      rejected++;
      const { message } = expectExplained(r, where);
      if (repeated.length > 0) {
        expect(message).toContain(repeated[0]);
        expect(message).toMatch(/more than once/);
      } else {
        expect(invalid.some((k) => message.includes(k)), `${where}: ${message}`).toBe(true);
        expect(message).toMatch(/longer than 256|must be one of|must be true or false/);
      }
    }), { numRuns: FILTER_REQUESTS, seed: Number(process.env.FUZZ_SEED ?? 11), endOnFailure: true });
    expect(runs).toBe(FILTER_REQUESTS);
    // both sides of the property were met
    expect(answered).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  }, PROPERTY_TIMEOUT_MS);

  it('after the fuzzing the sidecar still serves normally', async () => {
    const res = await fetch(`${sc.base}/api/v2/runtime/state`);
    expect(res.status).toBe(200);
    expect(Object.keys(((await res.json()) as { data: { tasks: object } }).data.tasks)).toHaveLength(30);
    expect((await fetch(`${sc.base}/readyz`)).status).toBe(200);
  });
});
