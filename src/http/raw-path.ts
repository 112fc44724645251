import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnswerBytes } from './answer-bytes.ts';
import type { CurrentVersion, VersionWithBody } from './current-version.ts';
import { authorizer } from './auth.ts';
import { BASE_PATHS } from './base-paths.ts';
import type { Encoding } from './compress-job.ts';
import { matches } from './etag.ts';
import { FreshnessHolder, WithFreshness } from './freshness.ts';
import { repeatedHeader } from './repeated-header.ts';
import { dataHeaderList, headHeaderList, type HeaderList } from './header-list.ts';
import type { HttpMetrics } from './metrics.ts';
import type { RememberedAnswer, RememberedAnswers } from './remembered-answers.ts';
import { heldEncoding, identityPlan, planWholeState, wholeStateBody, type WholeStatePlan } from './whole-state.ts';

// the unfiltered /state under each base path: the target is its own route pattern (the metrics label, as Hono's)
const STATE_PATHS: readonly string[] = BASE_PATHS.map((base) => `${base}/state`);

export interface RawPathDeps {
  current(): CurrentVersion | null;
  compressed(cur: CurrentVersion, encoding: Encoding): Promise<Uint8Array>;
  /** answers of queries Hono gave at this version, repeated here for the same request target */
  remembered?: RememberedAnswers;
  /** who holds each store answer's bytes (answer-bytes.ts): a repeat holds its body while writing it */
  answerBytes?: AnswerBytes;
  metrics: HttpMetrics;
  apiToken?: string;
  /** CORS needs Hono's middleware: then this path steps aside */
  cors: boolean;
  /** the freshness header every answer carries (absent: none) */
  freshness?: FreshnessHolder;
  /** a reader asked for the unfiltered /state (answered here: 200 or 304) */
  wholeStateAsked?(): void;
}

/**
 * The hot path: a GET of the unfiltered /state, or a repeat of a query answered at this version, is written
 * straight from prepared bytes to the raw node response, before Hono builds a Request and a Response for
 * it. It answers only what it can answer exactly like the Hono routes, with the same rules (auth.ts, security.ts,
 * etag.ts, whole-state.ts, query-headers.ts, freshness.ts, metrics.ts; test/http/parity.test.ts compares both);
 * everything else (a new query, a missing, wrong or repeated token, CORS, no snapshot yet, a body not rendered yet)
 * returns false and goes
 * through Hono.
 */
export function rawPath(deps: RawPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  // the same check as Hono's middleware (auth.ts); a request it does not pass goes to Hono for its 401
  const authorize = authorizer(deps.apiToken);
  // the /state series by path and method, resolved once per status rather than per request
  type Record = (status: number, started: number) => void;
  const recorders = new Map<string, { GET: Record; HEAD: Record }>(STATE_PATHS.map((route) => [route, {
    GET: deps.metrics.recorder('GET', route), HEAD: deps.metrics.recorder('HEAD', route),
  }]));
  // an answer's prepared list with the freshness header appended (freshness.ts, as Hono's middleware adds it)
  const freshness = deps.freshness ?? new FreshnessHolder();
  const prepared = (plan: WholeStatePlan, body: Uint8Array | null, head = false) => {
    const list = dataHeaderList(plan.headers, body);
    return new WithFreshness(freshness, head ? headHeaderList(list) : list);
  };
  // the headers of each variant (by status, encoding and length), built once per version rather than per request
  let variantsOf: CurrentVersion | null = null;
  const variants = new Map<string, WithFreshness>();
  const variantHeaders = (cur: CurrentVersion, plan: WholeStatePlan, body: Uint8Array | null, head: boolean) => {
    if (variantsOf !== cur) {
      variantsOf = cur;
      variants.clear();
    }
    const key = `${plan.status} ${plan.encoding ?? ''} ${body?.byteLength ?? ''} ${head}`;
    let h = variants.get(key);
    if (!h) variants.set(key, (h = prepared(plan, body, head)));
    return h.get();
  };
  // the identity pair, found without planning each request (the common monitoring request)
  let cached: { cur: CurrentVersion; ok: WithFreshness; okHead: WithFreshness; notModified: WithFreshness } | null = null;
  const identity = (cur: CurrentVersion) => {
    if (cached?.cur !== cur) {
      cached = {
        cur,
        ok: prepared(identityPlan(cur), cur.body),
        okHead: prepared(identityPlan(cur), cur.body, true),
        notModified: prepared(identityPlan(cur, cur.etag), null),
      };
    }
    return cached;
  };

  const wholeState = (req: IncomingMessage, res: ServerResponse, cur: CurrentVersion, method: 'GET' | 'HEAD', record: Record, started: number) => {
    deps.wholeStateAsked?.();
    // (the body is held until written: a large one takes many socket writes, and a compressed one may fall back to it)
    if (cur.body) deps.answerBytes?.whileWriting(cur.body, res);
    const head = method === 'HEAD';
    const acceptEncoding = header(req, 'accept-encoding');
    const ifNoneMatch = header(req, 'if-none-match');
    // a client holding a compressed copy gets its 304 from the plan below, naming that copy's tag
    if (acceptEncoding === undefined && (ifNoneMatch === undefined || !heldEncoding(ifNoneMatch, cur.etag, null))) {
      // the common monitoring request: no compression, headers prepared for this version
      const h = identity(cur);
      record(writePrepared(res, ifNoneMatch, cur.etag, head ? h.okHead : h.ok, h.notModified, cur.body, head), started);
      return;
    }
    const plan = planWholeState(cur, acceptEncoding, ifNoneMatch, true);
    const send = (status: number, headers: HeaderList, body: Uint8Array | null) => {
      res.writeHead(status, headers);
      res.end(head || !body ? undefined : body);
      record(status, started);
    };
    if (plan.status === 304) send(304, variantHeaders(cur, plan, null, head), null);
    else if (!plan.encoding) send(200, variantHeaders(cur, plan, cur.body, head), cur.body);
    else {
      // (the body is here: a version without one went to Hono)
      void wholeStateBody(cur as VersionWithBody, plan, deps.compressed)
        .then((sent) => send(200, variantHeaders(cur, sent.plan, sent.body, head), sent.body));
    }
  };

  const repeat = (req: IncomingMessage, res: ServerResponse, a: RememberedAnswer, method: 'GET' | 'HEAD', started: number) => {
    const head = method === 'HEAD';
    deps.answerBytes?.whileWriting(a.body, res);
    const status = writePrepared(res, header(req, 'if-none-match'), a.etag, head ? a.okHead : a.ok, a.notModified, a.body, head);
    deps.metrics.record(method, a.route, status, started);
  };

  return (req, res) => {
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || deps.cors) return false;
    const cur = deps.current();
    if (!cur) return false;
    const target = req.url ?? '';
    const whole = recorders.get(target);
    const remembered = whole ? undefined : deps.remembered?.lookup(target, cur);
    if ((!whole && !remembered) || authorize(req.headers.authorization) !== 'ok') return false;
    // a repeated Authorization field: node's req.headers keeps the first, Hono's request joins them all (which no
    // bearer token parses as, a 401 there): Hono answers it, so the two paths never judge one request apart
    if (deps.apiToken && repeatedHeader(req.rawHeaders, 'authorization')) return false;
    // a version whose body the store has not rendered yet: Hono's route asks for it, unless this is a 304
    if (whole && !cur.body && planWholeState(cur, header(req, 'accept-encoding'), header(req, 'if-none-match'), true).status !== 304) return false;
    const started = deps.metrics.start();
    if (remembered) repeat(req, res, remembered, method, started);
    else wholeState(req, res, cur, method, whole![method], started);
    return true;
  };
}

/**
 * An answer whose headers were prepared once: its 304 when If-None-Match matches `etag` (the rule of Hono's
 * routes, etag.ts conditional), else its 200 with `body` (none for HEAD). Returns the status written.
 */
function writePrepared(
  res: ServerResponse, ifNoneMatch: string | undefined, etag: string,
  ok: WithFreshness, notModified: WithFreshness, body: Uint8Array | null, head: boolean,
): 200 | 304 {
  if (matches(ifNoneMatch, etag)) {
    res.writeHead(304, notModified.get());
    res.end();
    return 304;
  }
  res.writeHead(200, ok.get());
  res.end(head ? undefined : body);
  return 200;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
