/**
 * Issue 18.4: HEAD on every route answers the GET's status and headers, with no body, no exception (nothing
 * printed) and the connection kept: the raw path's answers, Hono's routes, the change stream, the pages,
 * /metrics, the probes, errors.
 */
import { Agent, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_PATHS } from '../../src/http/app.ts';
import { ASSET_FILES } from '../../src/http/dashboard/routes.ts';
import { rawRequest, wireExchange } from '../helpers/raw-http.ts';
import { fake, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { capturePrinted } from '../helpers/printed.ts';

/** Headers that may differ between two answers of the same route: the connection's and the clock's. */
const PER_ANSWER = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
/** 200 answers without an ETag: the probes, /metrics, the change stream and the sources' freshness */
const UNTAGGED = /^\/(healthz|readyz|metrics)$|\/events(\?|$)|\/sources$/;

describe('HEAD on every route', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const capture = capturePrinted();
  const printed = capture.printed;

  /** GET reads the whole body except for a stream, whose headers are all a HEAD can match. */
  const send = (method: 'GET' | 'HEAD', path: string, headers: Record<string, string> = {}) =>
    rawRequest(sc.base, path, { method, headers, agent });

  /**
   * HEAD, then a GET on the same connection (pipelined, raw bytes: what the server does, not what a client
   * library decides about reuse): the connection must carry both answers.
   */
  const headThenGet = async (path: string, headers: Record<string, string> = {}) => {
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const { got, ended } = await wireExchange(sc.sup.port, `HEAD ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\nGET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n`, {
      end: false, until: (b) => b.toString('latin1').endsWith('{"status":"ok"}'),
    });
    return got.toString('latin1') + (ended === 'until' ? '' : `<${ended}>`);
  };

  beforeAll(async () => {
    // whatever any thread prints outside the JSON log (a worker's console reaches this process's streams)
    capture.start();
    sc = await startInProcess([fake('tasks', { mode: 'passes', count: 5 })], { intervalMs: 3_600_000 });
    await untilReady(sc.base);
  });
  afterAll(async () => {
    agent.destroy();
    await sc?.sup.stop();
    capture.stop();
  });

  it('answers the GET\'s status and headers, no body, no exception, and keeps the connection', async () => {
    // (the bare host: a redirect to the dashboard)
    const paths: Array<[string, Record<string, string>?]> = [['/healthz'], ['/readyz'], ['/metrics'], ['/nowhere'], ['/']];
    for (const base of BASE_PATHS) {
      paths.push(
        [`${base}/state`], [`${base}/state`, { 'Accept-Encoding': 'gzip' }], [`${base}/state`, { 'Accept-Encoding': 'br' }],
        [`${base}/state?user_id=user1`], [`${base}/state?user_id=user1&user_id=user2`], [`${base}/state?task_status=nope`],
        [`${base}/events`], [`${base}/events?user_id=user1`], [`${base}/events?view=summary`], [`${base}/events?stuck=maybe`],
        [`${base}/apps?user_id=user1&limit=2`], [`${base}/apps?limit=1&include=chart_repo`], [`${base}/apps?limit=0`],
        [`${base}/overview`], [`${base}/openapi.json`], [`${base}/openapi.json`, { 'Accept-Encoding': 'gzip' }],
        [`${base}/apps/alice/market/wiki`], [`${base}/tasks/p1-t1`], [`${base}/tasks/none`], [`${base}/tasks?app_name=app1`],
        [`${base}/tasks/p1-t1/history`], [`${base}/apps/alice/market/wiki/history`], [`${base}/sources`],
        [`${base}/tasks`], [`${base}/users/user1/apps`], [`${base}/users/user1/tasks`],
        [`${base}/dashboard`], [`${base}/dashboard-app`], ...ASSET_FILES.map((f) => [`${base}/assets/${f}`] as [string]),
        [`${base}/assets/nothing.js`], [`${base}/nothing`],
      );
    }
    const statuses = new Set<number>();
    for (const [path, headers] of paths) {
      // twice: the second GET of a query is the raw path's repeat
      for (let i = 0; i < 2; i++) {
        const get = await send('GET', path, headers);
        const head = await send('HEAD', path, headers);
        const what = `HEAD ${path} ${JSON.stringify(headers ?? {})}`;
        statuses.add(head.status);
        expect(head.status, what).toBe(get.status);
        expect(head.body, what).toBe('');
        const names = (h: IncomingHttpHeaders) => Object.keys(h).filter((n) => !PER_ANSWER.has(n)).sort();
        expect(names(head.headers), what).toEqual(names(get.headers));
        for (const n of names(get.headers)) {
          // /metrics counts this very request: its length moves
          if (n === 'content-length' && path === '/metrics') continue;
          expect(head.headers[n], `${what}: ${n}`).toEqual(get.headers[n]);
        }
      }
      // the connection goes on after the HEAD (not destroyed)
      const both = await headThenGet(path, headers);
      expect(both.match(/^HTTP\/1\.1 \d{3}/gm), `${path}: ${both}`).toHaveLength(2);
      expect(both.endsWith('{"status":"ok"}'), `${path}: ${both}`).toBe(true);
      // conditional HEAD: 304 to the GET's tag (every 200 but the UNTAGGED ones has one)
      const get = await send('GET', path, headers);
      const tag = get.headers.etag;
      if (get.status === 200 && !UNTAGGED.test(path)) expect(tag, `${path}: ETag`).toBeTruthy();
      if (tag) expect((await send('HEAD', path, { ...headers, 'If-None-Match': tag })).status, path).toBe(304);
    }
    expect([...statuses].sort()).toEqual([200, 302, 400, 404]);
    // nothing printed (an exception in the HTTP thread would be)
    await new Promise((r) => setTimeout(r, 200));
    expect(printed.filter((line) => !line.startsWith('{'))).toEqual([]);
  });
});
