import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnswerBytes } from './answer-bytes.ts';
import { Hono, type Context } from 'hono';
import { appKey, OK_MESSAGE } from '../model/index.ts';
import type { DashboardSettings, QueryAnswer, StoreMetricsSample } from '../protocol.ts';
import { sha256 } from '../content-digest.ts';
import type { Encoding } from './compress-job.ts';
import { withBody, type AsyncQueries, type BodyOf, type CurrentVersion, type VersionWithBody } from './current-version.ts';
import { planWholeState, wholeStateBody } from './whole-state.ts';
import { taggedJson } from './query-headers.ts';
import { answerText, envelopeBytes, errorBody, JSON_TYPE } from './envelope.ts';
import { etagFor } from './etag.ts';
import { registerDashboards } from './dashboard/routes.ts';
import { applyHardening, onUnhandled, type HttpSecurityOptions } from './hardening.ts';
import { registerEvents } from './events-route.ts';
import type { FreshnessHolder } from './freshness.ts';
import { headContentLength } from './head-length.ts';
import { registerOpenApi } from './openapi-route.ts';
import { APP_PATH_SCHEMA, parsePath, TASK_PATH_SCHEMA, USER_PATH_SCHEMA } from './path-params.ts';
import { malformedTarget, otherRoutesParameter, parseAppsQuery, parseStateFilter, parseTasksQuery } from './query.ts';
import { NOT_READY, rebuildingAnswer, STORE_UNAVAILABLE, unavailableAnswer } from './rebuilding.ts';
import { routeLabel } from './metrics.ts';
import { HeldViewGauges, storeMetricsText } from './store-metrics.ts';
import { corsVariesByOrigin } from './security.ts';
import { threadMemory, type ThreadMemory } from '../thread-memory.ts';
import { CALL_DEADLINE_MS, callWithDeadline } from '../threads.ts';
import type { RememberedAnswers } from './remembered-answers.ts';
import { stampOf, type ResponseCache } from './response-cache.ts';
import type { ChangeStream } from './stream.ts';

// the types the app's callers build it with, for them to import from here (defined apart: no import circle)
export type { AsyncQueries, CurrentVersion } from './current-version.ts';

export interface RuntimeAppDeps {
  /** what the dashboards are written with (COLLECT_INTERVAL_MS, default 5 s; the demo banner) */
  dashboards?: DashboardSettings;
  current(): CurrentVersion | null;
  queries(): AsyncQueries | null;
  /** true when the store thread answers now */
  storeAlive(): Promise<boolean>;
  /**
   * true while a restarted store has not yet got a pass of every collector: `current()` still holds the
   * last complete bytes of the store before it, and nothing else may be answered (absent: never)
   */
  rebuilding?(): boolean;
  /** the snapshot compressed once per version (absent: never compress) */
  compressed?(cur: CurrentVersion, encoding: Encoding): Promise<Uint8Array>;
  /** the version's /state body, rendered by the store when first needed (absent: versions carry theirs) */
  body?: BodyOf;
  /** answers of filtered and partial queries per version (absent: always ask the store) */
  cache?: ResponseCache;
  /** answers the raw path repeats for the same request target at the same version (absent: none) */
  remembered?: RememberedAnswers;
  /** who holds each store answer's bytes, so they go once nothing does (absent: left to the collector) */
  answerBytes?: AnswerBytes;
  /** the change stream (GET …/events); absent in tests that build the app alone */
  stream?: ChangeStream;
  /** sources' freshness, pushed by the store apart from versions (absent: no …/sources, no header) */
  freshness?: FreshnessHolder;
  /** a reader asked for the unfiltered /state */
  wholeStateAsked?(): void;
  /** the compression thread's memory after its last job (none ran: undefined) */
  compressMemory?(): ThreadMemory | undefined;
  /** /metrics gauges held through a store restart (absent: held by this app alone) */
  viewGauges?: HeldViewGauges;
}

export { BASE_PATHS } from './base-paths.ts';
import { BASE_PATHS, DASHBOARD_HOME } from './base-paths.ts';


/** The runtime API: /state (hot path: bytes from memory), partial queries, probes. */
export function createRuntimeApp(deps: RuntimeAppDeps, security: HttpSecurityOptions = {}): Hono {
  const api = new Hono();
  /** A view route that takes no query parameters: given one of another route's, a 400 rather than an unfiltered answer. */
  const plainView = (path: string, handler: (c: Context) => Response | Promise<Response>) => api.get(path, (c) => {
    const other = otherRoutesParameter(c.req.queries());
    return other === null ? handler(c) : c.json(errorBody(other), 400);
  });
  const freshness = deps.freshness;
  if (freshness) {
    // every API answer (304 included) says how fresh the data is; the ETag moves only with content
    api.use('*', async (c, next) => {
      await next();
      // the same pair the raw path appends to its prepared lists
      const [name, value] = freshness.headerPair();
      if (name && value && !c.res.headers.has(name)) c.res.headers.set(name, value);
    });
  }

  // before any route reads a parameter: a value it cannot decode is a 400, not a filter on its raw text
  api.use('*', async (c, next) => {
    const malformed = malformedTarget(c.req.url);
    if (malformed !== null) return c.json(errorBody(malformed), 400);
    await next();
  });

  // unversioned: each source's health and freshness, moving with every pass (the snapshot holds health only)
  plainView('/sources', (c) => {
    const f = freshness?.current;
    if (!f) return c.json(errorBody(NOT_READY), 503, { 'Retry-After': '1' });
    return c.body(f.body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': JSON_TYPE, 'Cache-Control': 'no-store' });
  });

  api.get('/state', async (c) => {
    const cur = deps.current();
    if (!cur) return unavailableAnswer(c, deps);
    const parsed = parseStateFilter(c.req.queries());
    if (!parsed.ok) return c.json(errorBody(parsed.message), 400);
    if (parsed.canonical === '') return wholeState(c, cur, deps);
    return answer(c, deps, { key: `state${parsed.canonical}`, ask: (q) => q.state(parsed.filter), message: OK_MESSAGE });
  });

  registerEvents(api, deps, corsVariesByOrigin(security.corsOrigins));

  // a page of apps in key order: what a dashboard of 50,000 apps asks for instead of the whole state
  api.get('/apps', async (c) => {
    const parsed = parseAppsQuery(c.req.queries());
    if (!parsed.ok) return c.json(errorBody(parsed.message), 400);
    const { filter, limit, after, withChart } = parsed;
    return answer(c, deps, { key: `apps${parsed.canonical}`, ask: (q) => q.appsPage(filter, limit, after, withChart) });
  });

  // the snapshot without the lists that grow with the market: what a dashboard shows beside a page of apps
  plainView('/overview', async (c) => answer(c, deps, { key: 'overview', ask: (q) => q.overview(), message: OK_MESSAGE }));

  plainView('/apps/:user_id/:source_id/:app_name', async (c) => {
    const path = parsePath(APP_PATH_SCHEMA, c.req.param());
    if (!path.ok) return c.json(errorBody(path.message), 400);
    const { user_id, source_id, app_name } = path.params;
    return answer(c, deps, { key: keyOf('app', user_id, source_id, app_name), ask: (q) => q.app(user_id, source_id, app_name), notFound: 'app not found' });
  });

  // what the store saw happen to one app or task (timeline; kept a while after it left the view)
  plainView('/apps/:user_id/:source_id/:app_name/history', async (c) => {
    const path = parsePath(APP_PATH_SCHEMA, c.req.param());
    if (!path.ok) return c.json(errorBody(path.message), 400);
    const { user_id, source_id, app_name } = path.params;
    const key = appKey({ user_id, source_id, app_name });
    return answer(c, deps, { key: keyOf('app-history', user_id, source_id, app_name), ask: (q) => q.history('app_states', key), notFound: 'no history of this app', ownContent: true });
  });

  plainView('/tasks/:task_id/history', async (c) => {
    const path = parsePath(TASK_PATH_SCHEMA, c.req.param());
    if (!path.ok) return c.json(errorBody(path.message), 400);
    const { task_id } = path.params;
    return answer(c, deps, { key: keyOf('task-history', task_id), ask: (q) => q.history('tasks', task_id), notFound: 'no history of this task', ownContent: true });
  });

  plainView('/tasks/:task_id', async (c) => {
    const path = parsePath(TASK_PATH_SCHEMA, c.req.param());
    if (!path.ok) return c.json(errorBody(path.message), 400);
    const { task_id } = path.params;
    return answer(c, deps, { key: keyOf('task', task_id), ask: (q) => q.task(task_id), notFound: 'task not found' });
  });

  api.get('/tasks', async (c) => {
    const parsed = parseTasksQuery(c.req.queries());
    if (!parsed.ok) return c.json(errorBody(parsed.message), 400);
    const { app_name, user_id } = parsed;
    return answer(c, deps, { key: keyOf('tasks', app_name ?? '', user_id ?? ''), ask: (q) => q.tasks({ app_name, user_id }) });
  });

  plainView('/users/:user_id/apps', async (c) => {
    const path = parsePath(USER_PATH_SCHEMA, c.req.param());
    if (!path.ok) return c.json(errorBody(path.message), 400);
    const { user_id } = path.params;
    return answer(c, deps, { key: keyOf('user-apps', user_id), ask: (q) => q.appsByUser(user_id) });
  });

  plainView('/users/:user_id/tasks', async (c) => {
    const path = parsePath(USER_PATH_SCHEMA, c.req.param());
    if (!path.ok) return c.json(errorBody(path.message), 400);
    const { user_id } = path.params;
    return answer(c, deps, { key: keyOf('user-tasks', user_id), ask: (q) => q.tasksByUser(user_id) });
  });

  registerDashboards(api, deps.dashboards);
  registerOpenApi(api);

  const app = new Hono();
  // first, so that it also wraps the routes applyHardening registers (/metrics)
  app.use('*', headContentLength());
  const viewGauges = deps.viewGauges ?? new HeldViewGauges();
  applyHardening(app, security, async () => {
    const pending = deps.queries()?.metrics();
    let sample: StoreMetricsSample | undefined;
    try {
      if (pending) sample = await callWithDeadline(Promise.resolve(pending), CALL_DEADLINE_MS, 'store.metrics');
    } catch {
      // no answer in time: the last ready store's view gauges below, the store's own figures left out
    }
    // the store sends numbers; they are rendered here, this thread's memory among the threads'
    const compress = deps.compressMemory?.();
    const shown = viewGauges.through(sample);
    const text = shown ? await storeMetricsText(shown, { http: threadMemory(), ...(compress ? { compress } : {}) }) : '';
    return { text, storeAnswered: sample !== undefined };
  });
  for (const base of BASE_PATHS) app.route(base, api);

  // the bare host (http://localhost:8080/) opens the dashboard; open like the page itself (hardening.ts PAGE_PATHS)
  app.get('/', (c) => c.text(`Found: ${DASHBOARD_HOME}\n`, 302, { Location: DASHBOARD_HOME }));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const cur = deps.current();
    const alive = await deps.storeAlive();
    const ready = alive && cur !== null && cur.ready;
    return c.json({ ready, store: alive ? 'up' : 'down', version: cur?.version ?? 0 }, ready ? 200 : 503);
  });

  // HEAD is the GET without its body: the same message, so the same Content-Length
  app.notFound((c) => c.json(errorBody(`not found: ${c.req.method === 'HEAD' ? 'GET' : c.req.method} ${c.req.path.slice(0, 200)}`), 404));
  app.onError(onUnhandled(security.log));
  return app;
}

/**
 * The unfiltered snapshot: bytes the store built once per version, compressed (br or gzip) once per version
 * in a CPU-job thread when the client accepts it. Never serialized here. (The HTTP thread answers most of
 * these before Hono, in raw-path.ts; this route serves what that path leaves, e.g. CORS requests.)
 */
async function wholeState(c: Context, cur: CurrentVersion, deps: RuntimeAppDeps): Promise<Response> {
  deps.wholeStateAsked?.();
  const plan = planWholeState(cur, c.req.header('accept-encoding'), c.req.header('if-none-match'), deps.compressed !== undefined);
  if (plan.status === 304) return c.body(null, 304, plan.headers);
  if (!cur.body) {
    // the first reader of this version's body: the store renders it (once, however many ask)
    let full: CurrentVersion;
    try {
      full = await withBody(cur, deps.body);
    } catch {
      return c.json(errorBody(STORE_UNAVAILABLE), 503, { 'Retry-After': '1' });
    }
    // (the store may have moved on: then this is a newer version, with its own tag)
    return wholeState(c, full, deps);
  }
  // (held until written: compressing may take a while, and a failed compression falls back to these bytes)
  deps.answerBytes?.whileWriting(cur.body, outgoing(c));
  const sent = await wholeStateBody(cur as VersionWithBody, plan, deps.compressed);
  return c.body(sent.body as Uint8Array<ArrayBuffer>, 200, sent.plan.headers);
}

/** An unambiguous key of a query kind and its parameters. */
function keyOf(kind: string, ...params: string[]): string {
  return `${kind}${JSON.stringify(params)}`;
}

interface Query {
  /** names the query (route + parameters): the cache key and the ETag variant */
  key: string;
  ask: (q: AsyncQueries) => Promise<QueryAnswer>;
  notFound?: string;
  message?: string;
  /**
   * the answer is not a function of the store's content (a history gains entries when an app is reinstalled,
   * loses them when it expires or the store restarts, all possibly at the same content digest): asked of the
   * store every time (never cached or remembered per version)
   */
  ownContent?: true;
}

/**
 * Runs one store query, unless this version's answer is cached or the client already has it (304). The
 * store is asked only here, never for the unfiltered snapshot. Cached answers are kept per store and
 * version (epoch + version), so no answer of one store is served for another; nothing is answered while a
 * restarted store rebuilds.
 */
async function answer(c: Context, deps: RuntimeAppDeps, query: Query): Promise<Response> {
  const rebuilding = rebuildingAnswer(c, deps);
  if (rebuilding) return rebuilding;
  const cur = deps.current();
  // nothing collected yet: the store holds nothing to answer from (as the whole /state says)
  if (!cur) return unavailableAnswer(c, deps);
  const hit = !query.ownContent ? deps.cache?.get(query.key, stampOf(cur.epoch, cur.version)) : undefined;
  if (hit?.missing) return c.json(errorBody(query.notFound ?? 'not found'), 404);
  if (hit) {
    remember(c, deps, cur, hit.etag, hit.body);
    return sendTagged(c, deps, hit.etag, hit.body);
  }
  const q = deps.queries();
  if (!q) return c.json(errorBody(STORE_UNAVAILABLE), 503, { 'Retry-After': '1' });
  let a: QueryAnswer;
  try {
    a = await callWithDeadline(query.ask(q), CALL_DEADLINE_MS, 'store.query');
  } catch {
    return c.json(errorBody(STORE_UNAVAILABLE), 503, { 'Retry-After': '1' });
  }
  const epoch = cur.epoch;
  if (a.json === null) {
    if (!query.ownContent) deps.cache?.setMissing(query.key, stampOf(epoch, a.version));
    return c.json(errorBody(query.notFound ?? 'not found'), 404);
  }
  const body = envelopeBytes(query.message ?? 'success', a.json);
  // (bytes the store sent are this thread's alone; a string's may share Node's buffer pool)
  if (typeof a.json !== 'string') deps.answerBytes?.own(body);
  const tag = etagFor(a.own_content ?? (a.own_from === undefined ? a.content : answerDigest(answerText(a.json), a.own_from)), query.key);
  if (query.ownContent) return sendTagged(c, deps, tag, body);
  // the store that answered is the one `cur` came from (not rebuilding): its epoch names it
  // (an answer asked once per version is neither kept nor remembered: ResponseCache)
  const kept = deps.cache ? deps.cache.set(query.key, stampOf(epoch, a.version), tag, body) : true;
  if (kept && a.version === cur.version) remember(c, deps, cur, tag, body);
  return sendTagged(c, deps, tag, body);
}

/**
 * What an answer's tag names when it is its own (QueryAnswer.own_from): its JSON from `from` on, 128 bits of
 * SHA-256. An answer that did not change keeps its tag, and its 304, while other parts of the market move on.
 */
function answerDigest(json: string, from: number): string {
  return sha256(from > 0 ? json.slice(from) : json).slice(0, 22);
}

/** the node response Hono writes to (@hono/node-server's env), absent when the app is called without a server */
function outgoing(c: Context): ServerResponse | undefined {
  return (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
}

/** A tagged answer whose bytes are held (answer-bytes.ts) until the response has written them. */
function sendTagged(c: Context, deps: RuntimeAppDeps, etag: string, body: Uint8Array): Response {
  deps.answerBytes?.whileWriting(body, outgoing(c));
  return taggedJson(c, etag, body);
}

/**
 * Lets the raw path answer the next identical request (same target, same version) without Hono. Only for
 * a ready version that is still the current one (a rebuilding store's versions may repeat numbers, and a
 * store may have been replaced while the query ran) and for requests that came through a node server (the
 * raw target is what the raw path looks up).
 */
function remember(c: Context, deps: RuntimeAppDeps, cur: CurrentVersion, etag: string, body: Uint8Array): void {
  const target = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.url;
  if (deps.remembered && target && cur.ready && deps.current() === cur && !deps.rebuilding?.()) {
    deps.remembered.remember(target, cur, routeLabel(c), etag, body);
  }
}
