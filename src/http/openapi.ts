import { sha256 } from '../content-digest.ts';
import { toJsonSchemaDefs, type ConversionConfig } from '@valibot/to-json-schema';
import * as v from 'valibot';
import {
  AppFlowState, ChartRepoApp, ChartRepoImage, ChartRepoStatus, ComponentStatus, HydratorTask, SourceHealth,
  SourceStatus, TaskState,
} from '../model/index.ts';
import { BASE_PATHS, DASHBOARD_HOME } from './base-paths.ts';
import { ASSET_FILES } from './dashboard/routes.ts';
import { FRESH_AS_OF } from './freshness.ts';
import {
  AppsPageSchema, ChangeEvent, OverviewSchema, SummaryEvent, ErrorEnvelope, FreshnessSchema, Healthz, HistorySchema, Readyz, RuntimeSnapshotSchema,
  RuntimeSummarySchema, SourcesHealth, TimelineEntry, WireApp, WireComponent, WireComponents, WireSummary, WireTask, envelope,
} from './openapi-schemas.ts';
import {
  GO_COMPONENT_METRICS, GoAppFlowState, GoAppStatus, GoCacheComponent, GoComponents, GoComponentStatus, GoEntrance, GoHydratorComponent,
  GoRuntimeSnapshot, GoSummary, GoSyncerComponent, GoTaskModuleComponent, GoTaskState,
} from '../model/go-wire.ts';
import { Time } from '../model/common.ts';
import { isRfc3339Time } from '../model/go-time.ts';
import { APP_PATH_SCHEMA, TASK_PATH_SCHEMA, USER_PATH_SCHEMA } from './path-params.ts';
import {
  APPS_QUERY_KEYS, APPS_QUERY_SCHEMA, FILTER_SCHEMA, FILTER_KEYS, PAGE_LIMITS, STREAM_QUERY_KEYS, STREAM_QUERY_SCHEMA,
  TASKS_QUERY_KEYS, TASKS_QUERY_SCHEMA,
} from './query.ts';
import { ALLOWED_METHODS, CORS_ALLOW_HEADERS, CORS_ALLOW_METHODS, CORS_EXPOSE_HEADERS, CORS_MAX_AGE_S, MAX_URL_BYTES } from './security.ts';
import { STREAM_LIMITS } from './stream.ts';

/**
 * The OpenAPI 3.1 document of every route, generated from the valibot schemas the code validates with
 * (@valibot/to-json-schema): nothing about a body's shape is written here a second time. Built once per process
 * (`openApiDocument()`), served at …/openapi.json and checked in as openapi.json (`npm run openapi`).
 */

/** Named schemas (components.schemas); a schema used inside another becomes a $ref to its name. */
const DEFINITIONS = {
  App: WireApp, Task: WireTask, Component: WireComponent, Components: WireComponents, Summary: WireSummary,
  GoAppFlowState, GoAppStatus, GoEntrance, GoTaskState, GoComponentStatus, GoComponents, GoSummary, GoRuntimeSnapshot,
  GoCacheComponent, GoHydratorComponent, GoSyncerComponent, GoTaskModuleComponent,
  GoCacheMetrics: GO_COMPONENT_METRICS.cache, GoHydratorMetrics: GO_COMPONENT_METRICS.hydrator,
  GoSyncerMetrics: GO_COMPONENT_METRICS.syncer, GoTaskModuleMetrics: GO_COMPONENT_METRICS.task_module,
  AppFlowState, TaskState, ComponentStatus, SourceHealth, SourceStatus, ChartRepoStatus, ChartRepoApp, ChartRepoImage,
  HydratorTask, RuntimeSummary: RuntimeSummarySchema, SourcesHealth, RuntimeSnapshot: RuntimeSnapshotSchema,
  Freshness: FreshnessSchema, AppsPage: AppsPageSchema, Overview: OverviewSchema, SummaryEvent, TimelineEntry, History: HistorySchema, ChangeEvent, ErrorEnvelope, Healthz, Readyz,
} satisfies Record<string, v.GenericSchema>;

/**
 * The one action of common.ts's Time (`pipe(string, maxLength(64))`): no other schema shares this action object,
 * so meeting it means a Time. Time has no check of its own to recognise it by, and the converter hands
 * overrideSchema the pipe's string schema, not the pipe.
 */
const TIME_BOUND = Time.pipe[1];

const CONVERT: ConversionConfig = {
  target: 'draft-2020-12',
  // unconvertible actions fail the build of the document, except these, which have no JSON Schema equivalent:
  // trimming (the server trims query values), finiteness (JSON numbers are finite) and the depth/size check of
  // free-form JSON objects (LIMITS.jsonDepth, LIMITS.jsonBytes). Custom checks (`check`) are overridden below.
  ignoreActions: ['trim', 'finite', 'raw_check'],
  overrideAction: ({ valibotAction, jsonSchema }) => {
    // a time: RFC 3339, which is JSON Schema's date-time (Go's zero time 0001-01-01T00:00:00Z included). GoTime
    // by its RFC 3339 check, Time (common.ts) by its bound
    if (valibotAction === TIME_BOUND) return { ...jsonSchema, format: 'date-time' };
    if (valibotAction.type === 'check') {
      if ((valibotAction as v.CheckAction<unknown, v.ErrorMessage<v.CheckIssue<unknown>> | undefined>).requirement === isRfc3339Time) {
        return { ...jsonSchema, format: 'date-time' };
      }
      // any other custom function (Go's per-component metric types, the Go-decodable times of StatusTime, which
      // a pattern already narrows) has no JSON Schema equivalent: left out, as ignoreActions would
      return { ...jsonSchema };
    }
    // a Go integer: JSON Schema's integer
    if (valibotAction.type === 'safe_integer') return { ...jsonSchema, type: 'integer' };
    // digits read as a number (…/apps?limit=): from here on the value is the number, not the text
    if (valibotAction.type === 'to_number') {
      const { pattern: _digits, ...rest } = jsonSchema;
      return { ...rest, type: 'number' };
    }
    return undefined;
  },
  // a picklist or literal says its type (the converter gives a bare enum or const: some generators then type it
  // `unknown`); one whose values are of more than one type is left as it is
  overrideSchema: ({ valibotSchema, jsonSchema }) => {
    const values: readonly unknown[] | null = valibotSchema.type === 'picklist' ? (valibotSchema as v.PicklistSchema<v.PicklistOptions, undefined>).options
      : valibotSchema.type === 'literal' ? [(valibotSchema as v.LiteralSchema<v.Literal, undefined>).literal] : null;
    const types = new Set(values?.map((x) => typeof x));
    if (!values || jsonSchema.type !== undefined || types.size !== 1) return undefined;
    const [type] = types;
    return type === 'string' || type === 'boolean' || type === 'number' ? { type, ...jsonSchema } : undefined;
  },
  // the last schema of a pipe is what a value must be (query filters: string, trimmed, then one of a picklist)
  typeMode: 'output',
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
};

/**
 * The schemas of one build, converted together: `schemaOf` hands out an empty object that `convertAll` fills.
 * Converting each alone (toJsonSchema) converts every named schema again each time: ~50 times the work and
 * garbage of one pass.
 */
let pending: Map<string, { schema: v.GenericSchema; into: Json }> | null = null;

function schemaOf(s: v.GenericSchema): Json {
  if (!pending) throw new Error('schemaOf outside buildOpenApi');
  const into: Json = {};
  // a copy: the converter knows schemas by identity, so the schema itself would be named `_n` wherever it is used
  pending.set(`_${pending.size}`, { schema: { ...s } as v.GenericSchema, into });
  return into;
}

/** Converts the named schemas and every schema handed out since, in one pass; returns the named ones. */
function convertAll(): Json {
  const all = [...pending!];
  const converted = toJsonSchemaDefs({ ...DEFINITIONS, ...Object.fromEntries(all.map(([k, p]) => [k, p.schema])) }, CONVERT) as Record<string, object>;
  for (const [k, p] of all) Object.assign(p.into, converted[k]);
  return Object.fromEntries(Object.keys(DEFINITIONS).map((k) => [k, converted[k]]));
}
const ref = (name: keyof typeof DEFINITIONS) => ({ $ref: `#/components/schemas/${name}` });

type Json = Record<string, unknown>;
const JSON_MEDIA = 'application/json';

/** A response header; `required`: on every such answer (the contract test holds the server to it). */
const header = (description: string, schema: Json = { type: 'string' }, required = true) => ({ description, required, schema });
const HEADERS = {
  ETag: header('weak tag (`W/"…"`) naming the content of this answer (and the query), not when it was seen: the same content has the same tag after a restart and on every replica; send it back as If-None-Match to get 304 while it is current', { type: 'string', pattern: '^W/"[^"]*"$' }),
  StaticETag: header('strong tag: a hash of the bytes served (the page, the file, this document), which change only with the sidecar\'s build; send it back as If-None-Match to get 304', { type: 'string', pattern: '^"[^"]*"$' }),
  Fresh: header(`the oldest last_success over the sources (RFC 3339): every source's data is at least this fresh. Moves with every collection pass while the ETag moves only with content; absent until every source succeeded once`, { type: 'string', format: 'date-time' }, false),
  RetryAfter: header('seconds to wait before retrying', { type: 'integer', minimum: 0 }),
  CorsAllowOrigin: header('only when CORS_ORIGINS is set: the Origin of the request when it is one of them (`*` when they include `*`); absent otherwise, and the browser then refuses', { type: 'string' }, false),
  // as sent (hono's cors() joins with a bare comma)
  CorsExposeHeaders: header('only when CORS_ORIGINS is set: the answer headers a page on another origin may read', { type: 'string', const: CORS_EXPOSE_HEADERS.join(',') }, false),
};

/**
 * With CORS_ORIGINS set, every answer the app makes (any status, any path, before the token is asked for)
 * carries these; answers written before the app (a malformed request, 408, 417, 431) do not.
 */
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': { $ref: '#/components/headers/CorsAllowOrigin' },
  'Access-Control-Expose-Headers': { $ref: '#/components/headers/CorsExposeHeaders' },
};
const withCors = (res: Json): Json => ({ ...res, headers: { ...CORS_HEADERS, ...(res.headers as Json | undefined) } });

/** Components every operation refers to. */
function responses(): Json {
  const error = (description: string, headers: Json = {}) => ({
    description, headers: { [FRESH_AS_OF]: { $ref: '#/components/headers/FreshAsOf' }, ...headers },
    content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
  });
  const all: Record<string, Json> = {
    NotModified: {
      description: 'the If-None-Match tag is current: no body',
      headers: { ETag: { $ref: '#/components/headers/ETag' }, [FRESH_AS_OF]: { $ref: '#/components/headers/FreshAsOf' } },
    },
    NotModifiedStatic: {
      description: 'the If-None-Match tag is current: no body',
      headers: { ETag: { $ref: '#/components/headers/StaticETag' }, [FRESH_AS_OF]: { $ref: '#/components/headers/FreshAsOf' } },
    },
    BadRequest: error('a query or path parameter is invalid (unknown value, too long, given twice, missing, not valid percent-encoding, or one only another route takes); the message names it. Also, before the route runs, a malformed request (as MalformedRequest)', {
      // answered before the app (thread.ts), a malformed request knows nothing of the sources
      [FRESH_AS_OF]: header(`${HEADERS.Fresh.description}. Absent also on a malformed request answered before the route runs (its message starts "malformed HTTP request:")`, HEADERS.Fresh.schema, false),
    }),
    Unauthorized: {
      description: 'RUNTIME_API_TOKEN is set and the request has no or another bearer token',
      headers: { 'WWW-Authenticate': header('Bearer realm="market-runtime"; with `error="invalid_token"` when a token was sent and is not the one', { type: 'string', pattern: '^Bearer realm="market-runtime"' }) },
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    NotFound: error('no such entity (or no such route)'),
    MethodNotAllowed: {
      description: 'the API is read-only: methods other than GET and HEAD (and OPTIONS when CORS_ORIGINS is set)',
      headers: { Allow: header('the methods the API answers', { type: 'string', const: ALLOWED_METHODS.join(', ') }) },
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    UriTooLong: {
      description: `the request target (path and query) is longer than ${MAX_URL_BYTES} bytes`,
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    MalformedRequest: {
      description: 'a malformed request, answered for any method before its route runs, the message naming what was wrong: the HTTP parser refused it (a malformed request line, header or chunk, or an HTTP/2 connection preface: use HTTP/1.1; the connection is then closed), its target or Host header cannot be read, the Host header is missing (HTTP/1.1) or given more than once, or (on every route under a base path) its path or query is not valid percent-encoding',
      // the percent-encoding check runs under the base paths, inside the middleware that adds the freshness header
      headers: {
        [FRESH_AS_OF]: header(`${HEADERS.Fresh.description}. Only on a path or query that is not valid percent-encoding under a base path (the message ends "malformed percent-encoding (…)"); absent on the others, answered before the request reaches the API`, HEADERS.Fresh.schema, false),
      },
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    RequestTimeout: {
      description: "the request did not arrive in time (its headers within 10 s, the whole request within 30 s): answered for any method before routing, then the connection is closed",
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    ExpectationFailed: {
      description: 'the request has an Expect header other than 100-continue, the only expectation the server meets: answered for any method before routing, then the connection is closed',
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    HeadersTooLarge: {
      description: "the request line and headers are larger than the server accepts (16 KiB in all, node's maxHeaderSize; a URL past that lands here, not at 414): answered for any method before routing, then the connection is closed",
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    InternalError: {
      description: 'an unhandled error (a fault of the sidecar, logged): the envelope says only "internal error"',
      content: { [JSON_MEDIA]: { schema: ref('ErrorEnvelope') } },
    },
    Unavailable: error('not collected yet, or the store is restarting or rebuilding: retry after Retry-After', {
      'Retry-After': { $ref: '#/components/headers/RetryAfter' },
    }),
    Preflight: {
      description: 'CORS preflight (only when CORS_ORIGINS is set; otherwise OPTIONS answers 405)',
      headers: {
        'Access-Control-Allow-Origin': header('the Origin of the request, when it is one of CORS_ORIGINS (absent otherwise: the browser then refuses)', { type: 'string' }, false),
        // as sent (hono's cors() joins with a bare comma), so the contract test checks the values too
        'Access-Control-Allow-Methods': header('the methods a request may use', { type: 'string', const: CORS_ALLOW_METHODS.join(',') }),
        'Access-Control-Allow-Headers': header('the headers a request may send', { type: 'string', const: CORS_ALLOW_HEADERS.join(',') }),
        'Access-Control-Max-Age': header('seconds a browser may keep this answer', { type: 'string', const: String(CORS_MAX_AGE_S) }),
      },
    },
  };
  return Object.fromEntries(Object.entries(all).map(([name, res]) => [name, withCors(res)]));
}

/**
 * What any method of any path can get before its route runs: a malformed request (400, unless the route has
 * its own 400: one node's parser refuses, or a path or query that is not valid percent-encoding), too slow (408), a
 * request target too long (414), an Expect header other than 100-continue (417), headers too large (431).
 */
const BEFORE_ROUTING = {
  400: { $ref: '#/components/responses/MalformedRequest' },
  408: { $ref: '#/components/responses/RequestTimeout' },
  414: { $ref: '#/components/responses/UriTooLong' },
  417: { $ref: '#/components/responses/ExpectationFailed' },
  431: { $ref: '#/components/responses/HeadersTooLarge' },
} as const;

/** What any method of any path gets when something throws (the app's onError, hardening.ts onUnhandled). */
const FAULT = { 500: { $ref: '#/components/responses/InternalError' } } as const;

interface Route {
  /** path under a base path (or at the root when `root`) */
  path: string;
  id: string;
  summary: string;
  description?: string;
  params?: Json[];
  /** the answer when all goes well (200 unless `status` says otherwise): media type -> schema */
  ok: { status?: 302; media: string | string[]; schema: Json; description?: string; headers?: Json; extra?: Json };
  /** answers carry an ETag and 304: weak for data (names the content), strong for pages, assets and the document */
  etag?: 'weak' | 'strong';
  /** error statuses the route answers itself */
  errors: Array<400 | 404 | 503>;
  /** no token needed (probes, pages), or optional (metrics) */
  open?: 'open' | 'optional';
  root?: boolean;
  /** the route's own 503 (instead of the error envelope with Retry-After) */
  unavailable?: Json;
  /** also serves the freshness header (routes under the base paths) */
  fresh?: boolean;
}

/** Pages, assets and this document: not data, nothing a parameter could be mistaken to filter. */
const IGNORES_QUERY = 'Takes no query parameters and ignores the query string (one that is not valid percent-encoding is still a 400, MalformedRequest).';

/** What each path parameter names. */
const PATH_PARAM_NAMES: Record<string, string> = { user_id: 'the user', source_id: 'the market source', app_name: 'the app', task_id: 'the task' };

/** Parameters handed out since buildOpenApi began: their descriptions say how a bounded length counts (noteLengths). */
const parameters: Array<{ description?: string; schema: Json }> = [];

function parameter<P extends { description?: string; schema: Json }>(p: P): P {
  parameters.push(p);
  return p;
}

/**
 * Once the schemas are converted: a bounded parameter's description says that the server counts UTF-16 code units
 * (JavaScript's length), where JSON Schema's maxLength counts characters.
 */
function noteLengths(): void {
  for (const p of parameters.splice(0)) {
    const max = (p.schema as { maxLength?: number }).maxLength;
    if (max === undefined) continue;
    const note = `at most ${max} UTF-16 code units (a character outside the Basic Multilingual Plane counts 2, where maxLength counts it 1)`;
    p.description = p.description ? `${p.description}; ${note}` : note;
  }
}

/** The path parameters of a route, from the valibot schema its handler validates them with (path-params.ts). */
function pathParams(schema: v.ObjectSchema<Record<string, v.GenericSchema>, undefined>): Json[] {
  return Object.entries(schema.entries).map(([name, s]) => parameter({
    name, in: 'path', required: true, description: PATH_PARAM_NAMES[name], schema: schemaOf(s),
  }));
}

/**
 * The query parameters `keys` of a route's valibot schema (an unknown value is a 400 naming it); `about` says
 * what a parameter does where the filters' note does not.
 */
function queryParams<E extends Record<string, v.OptionalSchema<v.GenericSchema, undefined>>>(
  entries: E, keys: readonly (keyof E & string)[], about: Partial<Record<keyof E & string, string>> = {},
): Json[] {
  return keys.map((name) => parameter({
    name, in: 'query', required: false,
    description: about[name] ?? 'trimmed; empty means no filter; given twice is a 400',
    schema: schemaOf(entries[name]!.wrapped),
  }));
}

const IF_NONE_MATCH = { name: 'If-None-Match', in: 'header', required: false, description: 'an ETag of an earlier answer: 304 while it is current', schema: { type: 'string' } };

function envelopeOf(data: v.GenericSchema): Json {
  return schemaOf(envelope(data));
}

function routes(): Route[] {
  const appParams = pathParams(APP_PATH_SCHEMA);
  const taskParams = pathParams(TASK_PATH_SCHEMA);
  const userParams = pathParams(USER_PATH_SCHEMA);
  const json = (data: v.GenericSchema, description?: string) => ({ media: JSON_MEDIA, schema: envelopeOf(data), description });
  const html = { media: 'text/html', schema: { type: 'string' } };
  return [
    {
      path: '/state', id: 'getState', summary: 'The runtime snapshot (filtered when a filter is given)',
      description: 'Unfiltered: the store\'s prepared bytes, compressed (br, gzip) when the client accepts it (Vary: Accept-Encoding; each encoding has its own ETag). Filtered: the same shape, holding only what the filters keep, with a summary of it.',
      params: queryParams(FILTER_SCHEMA.entries, FILTER_KEYS), ok: json(RuntimeSnapshotSchema), etag: 'weak', errors: [400, 503], fresh: true,
    },
    {
      path: '/events', id: 'getEvents', summary: 'The change stream (Server-Sent Events)',
      description: [
        'Same filters as /state. The stream opens with `retry: 2000` (a browser\'s EventSource reconnects 2 s after losing it, sending Last-Event-ID). Each event\'s `data:` is one line of JSON:',
        '- `event: snapshot` (id `epoch-version.content`, where `W/"content"` is the ETag of that version\'s /state): the (filtered) snapshot, as the `data` of /state (RuntimeSnapshot). Sent first, and when a Last-Event-ID can no longer be resumed.',
        '- `event: change` (id `epoch-version.content`): one store version (ChangeEvent): `upserts` and `removed` per domain (app_states, tasks, components), `chart_repo` as `{frame?, upserts, removed}` per list (apps by user:source:app, images by user:source:image, hydrator_tasks by id), `sources` when a source\'s health changed, `summary`, `version`, `timestamp`, and with ?timeline=true the `timeline` entries recorded in it.',
        '- `event: freshness` (no id; not a version): `{fresh_as_of, sources, threads}` (Freshness), at most once a second, and when a thread was replaced.',
        '- `?view=summary` (no filters): a page that reads its data elsewhere (…/apps, …/overview) and only needs to know when a version is minted. Its `snapshot` and `change` events carry just `{version, timestamp, summary}` (SummaryEvent; changes add `sources` when health moved); a reconnect starts again at the latest version, nothing is replayed.',
        `- \`: heartbeat\` comments every ${STREAM_LIMITS.heartbeatMs / 1000} s. Resume with Last-Event-ID (header or last_event_id): the versions missed are replayed from a history of the last ${STREAM_LIMITS.historyVersions} (at most ${STREAM_LIMITS.historyBytes / 2 ** 20} MiB, and no more than the /state body's size, ${STREAM_LIMITS.historyFloorBytes / 2 ** 10} KiB at least); a client further behind gets a snapshot.`,
        `- 503 also when ${STREAM_LIMITS.maxClients} clients are connected already, or when the snapshots still being sent to other clients would pass ${STREAM_LIMITS.snapshotBytesInFlight / 2 ** 20} MiB with this one's (Retry-After: 5).`,
      ].join('\n'),
      params: [
        ...queryParams(STREAM_QUERY_SCHEMA.entries, STREAM_QUERY_KEYS, {
          timeline: '`true`: change events also carry timeline entries; empty or `false`: they do not; anything else is a 400',
          view: '`summary`: one small event per version, no entities, no snapshot of the state (no filters with it); empty: the whole stream',
          last_event_id: 'as the Last-Event-ID header (for clients that cannot set it; the header wins); given twice is a 400',
        }),
        { name: 'Last-Event-ID', in: 'header', required: false, description: 'the id of the last event received: replay from there', schema: { type: 'string' } },
      ],
      ok: {
        media: 'text/event-stream', schema: { type: 'string' }, description: 'the stream; see the operation description for each event kind',
        extra: { 'x-sse-events': {
          snapshot: { anyOf: [ref('RuntimeSnapshot'), ref('SummaryEvent')] }, change: { anyOf: [ref('ChangeEvent'), ref('SummaryEvent')] },
          freshness: ref('Freshness'),
        } },
      },
      errors: [400, 503], fresh: true,
    },
    {
      path: '/sources', id: 'getSources', summary: "Each source's health and freshness (unversioned: moves with every pass, no ETag)",
      ok: json(FreshnessSchema), errors: [400, 503], fresh: true,
    },
    {
      path: '/apps', id: 'listApps', summary: 'A page of apps in key order (user:source:app), filtered',
      description: [
        'The apps matching the filters (as /state narrows app_states; `stage` and `health`, an app\'s own, are /apps only), `limit` at a time, by key in string order; `total` counts every match.',
        'Follow `next_cursor` until it is null. Each page is cut at the store\'s current version: the apps whose key sorts after the cursor.',
        'So when the version moves between pages no app is shown twice, an app added (or renamed) into the range already paged shows only in a new listing, and an app removed is simply not there; `version` says which version each page came from.',
      ].join('\n'),
      params: queryParams(APPS_QUERY_SCHEMA.entries, APPS_QUERY_KEYS, {
        limit: `apps per page; empty or absent means ${PAGE_LIMITS.default}; anything but a whole number from 1 to ${PAGE_LIMITS.max} in plain decimal digits (no sign, space, point, exponent or hex) is a 400`,
        cursor: '`next_cursor` of the page before (opaque); absent or empty: the first page; one this API did not give out is a 400',
        include: '`chart_repo`: the page also holds the Chart Repo items of its apps',
      }),
      ok: json(AppsPageSchema), etag: 'weak', errors: [400, 503], fresh: true,
    },
    {
      path: '/overview', id: 'getOverview', summary: 'The snapshot without the lists that grow with the market',
      description: 'As /state without `app_states` and without the Chart Repo\'s `apps` and `images` (counted per state and status in `chart_repo_counts`): what a dashboard shows beside a page of apps (…/apps). Its ETag names the version\'s content.',
      ok: json(OverviewSchema), etag: 'weak', errors: [400, 503], fresh: true,
    },
    {
      path: '/apps/{user_id}/{source_id}/{app_name}', id: 'getApp', summary: 'One installed app',
      params: appParams, ok: json(WireApp), etag: 'weak', errors: [400, 404, 503], fresh: true,
    },
    {
      path: '/apps/{user_id}/{source_id}/{app_name}/history', id: 'getAppHistory', summary: 'What the store saw happen to one app',
      params: appParams, ok: json(HistorySchema), etag: 'weak', errors: [400, 404, 503], fresh: true,
    },
    {
      path: '/tasks/{task_id}', id: 'getTask', summary: 'One task',
      params: taskParams, ok: json(WireTask), etag: 'weak', errors: [400, 404, 503], fresh: true,
    },
    {
      path: '/tasks/{task_id}/history', id: 'getTaskHistory', summary: 'What the store saw happen to one task',
      params: taskParams, ok: json(HistorySchema), etag: 'weak', errors: [400, 404, 503], fresh: true,
    },
    {
      path: '/tasks', id: 'listTasks', summary: 'Tasks of an app and/or a user (at least one is required)',
      params: queryParams(TASKS_QUERY_SCHEMA.entries, TASKS_QUERY_KEYS, {
        app_name: 'trimmed; empty means not given; given twice is a 400 (give app_name, user_id or both)',
        user_id: 'trimmed; empty means not given; given twice is a 400 (give app_name, user_id or both)',
      }),
      ok: json(v.array(WireTask)), etag: 'weak', errors: [400, 503], fresh: true,
    },
    {
      path: '/users/{user_id}/apps', id: 'listUserApps', summary: "A user's installed apps",
      params: userParams, ok: json(v.array(WireApp)), etag: 'weak', errors: [400, 503], fresh: true,
    },
    {
      path: '/users/{user_id}/tasks', id: 'listUserTasks', summary: "A user's tasks",
      params: userParams, ok: json(v.array(WireTask)), etag: 'weak', errors: [400, 503], fresh: true,
    },
    { path: '/dashboard', id: 'getDashboard', summary: 'The operator dashboard (HTML; loads without a token, its data does not)', description: IGNORES_QUERY, ok: html, etag: 'strong', errors: [], open: 'open', fresh: true },
    { path: '/dashboard-app', id: 'getDashboardApp', summary: 'The per-app dashboard (HTML)', description: IGNORES_QUERY, ok: html, etag: 'strong', errors: [], open: 'open', fresh: true },
    {
      path: '/assets/{file}', id: 'getAsset', summary: "The dashboards' scripts and stylesheet (no token needed, whatever the file)", description: IGNORES_QUERY,
      params: [{
        name: 'file', in: 'path', required: true, description: 'one of the files the dashboards load; any other name answers 404',
        schema: schemaOf(v.picklist(ASSET_FILES)),
      }],
      ok: { media: ['text/javascript', 'text/css'], schema: { type: 'string' }, description: 'the file' },
      etag: 'strong', errors: [404], open: 'open', fresh: true,
    },
    {
      path: '/openapi.json', id: 'getOpenApi', summary: 'This document', description: IGNORES_QUERY,
      ok: { media: JSON_MEDIA, schema: { type: 'object' } }, etag: 'strong', errors: [], fresh: true,
    },
    {
      path: '/', id: 'getRoot', summary: 'Sends a browser to the operator dashboard', root: true,
      ok: {
        status: 302, media: 'text/plain', schema: { type: 'string' }, description: `found: the dashboard is at ${DASHBOARD_HOME}`,
        headers: { Location: header('the dashboard (a path on this host)', { type: 'string', const: DASHBOARD_HOME }) },
      },
      errors: [], open: 'open',
    },
    { path: '/healthz', id: 'getHealthz', summary: 'Liveness: the HTTP thread answers', root: true, ok: { media: JSON_MEDIA, schema: ref('Healthz') }, errors: [], open: 'open' },
    {
      path: '/readyz', id: 'getReadyz', summary: 'Readiness: the store answers and has collected once', root: true,
      ok: { media: JSON_MEDIA, schema: ref('Readyz') }, errors: [503], open: 'open',
      unavailable: { description: 'not ready: the store is down or has not collected yet', content: { [JSON_MEDIA]: { schema: ref('Readyz') } } },
    },
    {
      path: '/metrics', id: 'getMetrics', summary: 'Prometheus metrics (token required when set, unless METRICS_REQUIRE_TOKEN=false)', root: true,
      ok: { media: 'text/plain', schema: { type: 'string' } }, errors: [], open: 'optional',
    },
  ];
}

function operation(r: Route, suffix: string): Json {
  const responsesOf: Json = {};
  const okHeaders: Json = { ...(r.ok.headers ?? {}) };
  if (r.etag) okHeaders.ETag = { $ref: `#/components/headers/${r.etag === 'weak' ? 'ETag' : 'StaticETag'}` };
  if (r.fresh) okHeaders[FRESH_AS_OF] = { $ref: '#/components/headers/FreshAsOf' };
  responsesOf[String(r.ok.status ?? 200)] = withCors({
    description: r.ok.description ?? 'success',
    headers: okHeaders,
    content: Object.fromEntries([r.ok.media].flat().map((m) => [m, { schema: r.ok.schema }])),
    ...(r.ok.extra ?? {}),
  });
  if (r.etag) responsesOf['304'] = { $ref: `#/components/responses/${r.etag === 'weak' ? 'NotModified' : 'NotModifiedStatic'}` };
  Object.assign(responsesOf, BEFORE_ROUTING, FAULT);
  if (r.errors.includes(400)) responsesOf['400'] = { $ref: '#/components/responses/BadRequest' };
  if (r.open !== 'open') responsesOf['401'] = { $ref: '#/components/responses/Unauthorized' };
  if (r.errors.includes(404)) responsesOf['404'] = { $ref: '#/components/responses/NotFound' };
  if (r.errors.includes(503)) responsesOf['503'] = r.unavailable ? withCors(r.unavailable) : { $ref: '#/components/responses/Unavailable' };
  // path parameters are declared once on the path item (every method of the path shares them)
  const params = [...(r.params ?? []).filter((p) => p.in !== 'path'), ...(r.etag ? [IF_NONE_MATCH] : [])];
  return {
    operationId: r.id + suffix, summary: r.summary, ...(r.description ? { description: r.description } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(r.open === 'open' ? { security: [] } : r.open === 'optional' ? { security: [{ bearer: [] }, {}] } : {}),
    responses: responsesOf,
  };
}

/** HEAD answers as GET without a body. */
function headOf(get: Json): Json {
  const out = structuredClone(get) as { operationId: string; responses: Record<string, Json> };
  out.operationId = `head${out.operationId.replace(/^get/, '').replace(/^\w/, (ch) => ch.toUpperCase())}`;
  for (const res of Object.values(out.responses)) {
    if (res.content) {
      delete res.content;
      delete res['x-sse-events'];
    }
  }
  return out;
}

const REJECTED = { $ref: '#/components/responses/MethodNotAllowed' };

/** The document, built once. */
export function buildOpenApi(): Json {
  pending = new Map();
  let described: Route[];
  let schemas: Json;
  try {
    described = routes();
    schemas = convertAll();
    noteLengths();
  } finally {
    pending = null;
    parameters.length = 0;
  }
  const paths: Json = {};
  for (const r of described) {
    const bases = r.root ? [''] : BASE_PATHS;
    bases.forEach((base, i) => {
      const suffix = i === 0 ? '' : 'Mounted';
      const get = operation(r, suffix);
      // the other methods' ids name the route without GET's verb: optionsState, postState, postListTasks
      const noun = (get.operationId as string).replace(/^get/, '');
      const inPath = (r.params ?? []).filter((p) => p.in === 'path');
      paths[base + r.path] = {
        // the path's parameters, for every method of it (a POST to …/tasks/{task_id} has a task_id too)
        ...(inPath.length ? { parameters: inPath } : {}),
        get,
        head: headOf(get),
        options: {
          operationId: `options${noun}`, summary: 'CORS preflight', security: [],
          responses: { 204: { $ref: '#/components/responses/Preflight' }, 405: REJECTED, ...BEFORE_ROUTING, ...FAULT },
        },
        ...Object.fromEntries(['post', 'put', 'patch', 'delete', 'trace'].map((m) => [m, {
          operationId: `${m}${noun}`, summary: 'rejected: the API is read-only',
          ...(r.open === 'open' ? { security: [] } : {}),
          responses: { 405: REJECTED, ...BEFORE_ROUTING, ...FAULT },
        }])),
      };
    });
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'market-runtime',
      version: '2',
      description: [
        'The runtime view of the market (apps, tasks, components, Chart Repo, sources), read-only.',
        `Every path is served under both base paths (${BASE_PATHS.join(' and ')}); probes, metrics and the redirect of / to the dashboard at the root.`,
        'Data answers use the market\'s envelope `{success, message, data}`. Versioned answers carry an ETag: send it back as If-None-Match to get 304 while nothing changed.',
        `Answers under the base paths carry ${FRESH_AS_OF} (how fresh the data is, apart from the version).`,
        'Objects may gain keys (additive); clients should ignore keys they do not know.',
        'A path not listed here answers GET and HEAD with 404 in the envelope (401 first when a token is set and the request lacks it; paths under …/assets/ are open: 404 either way), OPTIONS with the 204 CORS preflight when CORS_ORIGINS is set and 405 otherwise, and every other method with 405 and Allow (the API is read-only, whatever the path). A listed path answers 405 with Allow to any method it does not list.',
        'Before any route, listed or not, a request may be answered as every operation documents it: 400 for a malformed request (MalformedRequest), 408 when it does not arrive in time, 414 for a request target too long, 417 for an Expect header other than 100-continue, 431 for headers too large; and 500 for an unhandled error.',
      ].join('\n\n'),
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'RUNTIME_API_TOKEN. Required when the sidecar has one set; /healthz, /readyz, / and the dashboard pages never need it.' },
      },
      headers: {
        ETag: HEADERS.ETag, StaticETag: HEADERS.StaticETag, FreshAsOf: HEADERS.Fresh, RetryAfter: HEADERS.RetryAfter,
        CorsAllowOrigin: HEADERS.CorsAllowOrigin, CorsExposeHeaders: HEADERS.CorsExposeHeaders,
      },
      responses: responses(),
      schemas,
    },
  };
}

export interface ServedDocument {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
}

let built: ServedDocument | null = null;

/** The document as served: bytes and an ETag (a content hash), built once per process. */
export function openApiDocument(): ServedDocument {
  if (!built) {
    const body = new TextEncoder().encode(openApiText()) as Uint8Array<ArrayBuffer>;
    built = { body, etag: `"${sha256(body).slice(0, 22)}"` };
  }
  return built;
}

/** The text of openapi.json (as `npm run openapi` writes it). */
export function openApiText(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}
