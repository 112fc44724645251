import { readdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { Hono } from 'hono';
import { inspectRoutes } from 'hono/dev';
import * as v from 'valibot';
import { describe, expect, it, vi } from 'vitest';
import { createRuntimeApp } from '../../src/http/app.ts';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import { ASSET_FILES } from '../../src/http/dashboard/routes.ts';
import { buildOpenApi, openApiDocument, openApiText } from '../../src/http/openapi.ts';
import { registerOpenApi } from '../../src/http/openapi-route.ts';
import { APP_PATH_SCHEMA, parsePath, TASK_PATH_SCHEMA, USER_PATH_SCHEMA } from '../../src/http/path-params.ts';
import {
  APP_FILTER_KEYS, APPS_QUERY_KEYS, FILTER_KEYS, parseAppsQuery, parseStateFilter, parseStreamQuery, parseTasksQuery, STREAM_QUERY_KEYS,
  TASKS_QUERY_KEYS,
} from '../../src/http/query.ts';
import { AppFlowState, APP_STAGES, TASK_STATUSES, TASK_TYPES } from '../../src/model/index.ts';
import { METHODS } from '../helpers/openapi-contract.ts';
import { API } from '../reliability/helpers.ts';

type ParamSchema = { enum?: string[]; maxLength?: number; minLength?: number; anyOf?: unknown[]; pattern?: string };
type Parameter = { name: string; in: string; required?: boolean; schema: ParamSchema };
type Operation = { parameters?: Parameter[]; responses: Record<string, unknown> };
/** a path item: its operations by method, and the parameters every one of them shares */
type PathItem = Record<string, Operation> & { parameters?: Parameter[] };
type Doc = { paths: Record<string, PathItem>; components: { schemas: Record<string, Record<string, unknown>> } };

// both are CommonJS: under NodeNext the default import is the module object, whose `default` is the export
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

/** GET's parameters of a path: the path item's (path parameters) and the operation's own */
const paramsOf = (path: string, where: 'query' | 'path') => {
  const item = (buildOpenApi() as Doc).paths[API + path]!;
  return [...(item.parameters ?? []), ...(item.get!.parameters ?? [])].filter((p) => p.in === where);
};

/**
 * The routes an app answers that the document lacks, as `METHOD path`: every route of every method (HEAD with
 * each GET, every method for ALL) and every middleware registered on a concrete path (it answers there);
 * middleware on a wildcard (`/*`, the method guard, CORS, auth) answers every path, as the document's description says.
 */
function undocumentedRoutes(app: Hono, doc: Doc): string[] {
  const missing: string[] = [];
  for (const r of inspectRoutes(app)) {
    if (r.isMiddleware && r.path.includes('*')) continue;
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const methods = r.method === 'ALL' ? [...METHODS] : r.method === 'GET' ? ['get', 'head'] : [r.method.toLowerCase()];
    for (const m of methods) if (!doc.paths[path]?.[m]) missing.push(`${m.toUpperCase()} ${path}`);
  }
  return [...new Set(missing)];
}
const schemasOf = (path: string, where: 'query' | 'path') =>
  Object.fromEntries(paramsOf(path, where).map((p) => [p.name, p.schema]));

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (swagger-parser)', async () => {
    const api = await SwaggerParser.validate(structuredClone(buildOpenApi()) as never);
    expect((api as { openapi: string }).openapi).toBe('3.1.0');
  });

  it('openapi.json in the repo is current (run `npm run openapi` after changing a route or a schema)', () => {
    const checkedIn = readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8');
    expect(checkedIn === openApiText(), 'openapi.json is stale: run `npm run openapi` and commit it').toBe(true);
  });

  it('documents every route of every method the app registers, under both base paths, and no route it does not have', () => {
    const doc = buildOpenApi() as Doc;
    const deps = { current: () => null, queries: () => null, storeAlive: async () => false };
    // with and without what registers conditional middleware and routes (token, CORS, an open /metrics)
    const apps = [
      createRuntimeApp(deps),
      createRuntimeApp(deps, { apiToken: 'token', corsOrigins: ['http://client.example'], metricsRequireToken: false }),
    ];
    const documented = new Set(Object.keys(doc.paths));
    for (const app of apps) {
      expect(undocumentedRoutes(app, doc), 'routes the document lacks').toEqual([]);
      const registered = new Set(inspectRoutes(app).filter((r) => !r.isMiddleware).map((r) => r.path.replace(/:(\w+)/g, '{$1}')));
      expect([...documented].filter((p) => !registered.has(p)), 'documented paths the app does not serve').toEqual([]);
    }
    for (const base of BASE_PATHS) expect(documented.has(`${base}/openapi.json`)).toBe(true);
    // the check sees a route of any method, a route of every method, and a middleware that answers on a path
    const extra = createRuntimeApp(deps);
    extra.post(`${API}/state/refresh`, (c) => c.text('no'));
    extra.delete(`${API}/tasks/:task_id`, (c) => c.text('no'));
    extra.all('/debug', (c) => c.text('no'));
    extra.use('/admin', async (c, next) => (c.req.method === 'PUT' ? c.text('no') : next()));
    expect(undocumentedRoutes(extra, doc)).toEqual([
      `POST ${API}/state/refresh`, ...METHODS.map((m) => `${m.toUpperCase()} /debug`), ...METHODS.map((m) => `${m.toUpperCase()} /admin`),
    ]);
  });

  it('declares every path parameter for every operation of its path (on the path item, once)', () => {
    const doc = buildOpenApi() as Doc;
    let templated = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      if (names.length > 0) templated++;
      const shared = (item.parameters ?? []).filter((p) => p.in === 'path');
      for (const p of shared) expect(p.required, `${path} {${p.name}}`).toBe(true);
      expect(shared.map((p) => p.name).sort(), `${path}: the path item's parameters are the path's`).toEqual([...names].sort());
      for (const m of METHODS) {
        const op = item[m];
        expect(op, `${m} ${path}`).toBeDefined();
        const declared = new Set([...shared, ...(op!.parameters ?? [])].filter((p) => p.in === 'path').map((p) => p.name));
        for (const name of names) expect(declared.has(name), `${m.toUpperCase()} ${path} declares {${name}}`).toBe(true);
        // and not a second time per operation
        expect((op!.parameters ?? []).filter((p) => p.in === 'path'), `${m} ${path}`).toEqual([]);
      }
    }
    // both base paths' /apps/{…}, /apps/{…}/history, /tasks/{…}, /tasks/{…}/history, /users/{…}/apps, /users/{…}/tasks, /assets/{file}
    expect(templated).toBe(14);
  });

  it('states every time as date-time (RFC 3339), which the contract checks: Go\'s zero time is one, a date that does not exist is not', () => {
    const doc = buildOpenApi() as Doc;
    const props = (name: string) => doc.components.schemas[name]!.properties as Record<string, Record<string, unknown>>;
    // GoTime (its RFC 3339 check) and Time (common.ts), wherever used: plain, optional, nullable
    expect(props('GoAppFlowState').last_update).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props('AppFlowState').last_update).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props('AppFlowState').stage_since).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props('GoTaskState').created_at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(props('Freshness').fresh_as_of).toMatchObject({ anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] });
    // identifiers and texts are not times
    expect(props('AppFlowState').app_id).not.toHaveProperty('format');
    expect(props('AppFlowState').stage_detail).not.toHaveProperty('format');
    // the contract's ajv (with ajv-formats) holds bodies to it
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const time = ajv.compile(props('GoAppFlowState').last_update!);
    for (const ok of ['0001-01-01T00:00:00Z', '2024-02-29T12:30:45.123Z', '2024-05-01T08:00:00+02:00']) expect(time(ok), ok).toBe(true);
    for (const bad of ['yesterday', '2024-02-30T00:00:00Z', '2024-05-01 08:00', '2024-05-01T08:00:00']) expect(time(bad), bad).toBe(false);
  });

  it('declares the additive keys of an app\'s metadata (status.createTime, status.opID, manifest_entrances), other keys still allowed', () => {
    const doc = buildOpenApi() as Doc;
    const metadata = (doc.components.schemas.AppFlowState!.properties as Record<string, Record<string, unknown>>).metadata!;
    expect(metadata).toMatchObject({
      type: 'object',
      properties: {
        status: { type: 'object', properties: { createTime: { type: 'string', format: 'date-time' }, opID: { type: 'string' } } },
        manifest_entrances: { type: 'boolean' },
      },
    });
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const valid = ajv.compile(metadata);
    expect(valid({ status: { name: 'firefox', createTime: '2024-05-01T08:00:00.123Z', opID: 'op-1' }, manifest_entrances: true, anything: { else: 1 } })).toBe(true);
    expect(valid({ status: { createTime: 'soon' } })).toBe(false);
    expect(valid({ manifest_entrances: 'yes' })).toBe(false);
    // the valibot schema keeps them too (a free map, as Go's), bounded as before
    const app = { app_id: 'a', app_name: 'a', user_id: 'u', source_id: 's', stage: 'running', last_update: '2024-05-01T08:00:00Z' } as const;
    const meta = { status: { createTime: '2024-05-01T08:00:00Z', opID: 'op-1', title: 'A' }, manifest_entrances: true, other: [1] };
    expect(v.parse(AppFlowState, { ...app, metadata: meta }).metadata).toEqual(meta);
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(v.safeParse(AppFlowState, { ...app, metadata: deep }).success).toBe(false);
  });

  it('gives every enum and const its type (a bare enum is typed `unknown` by some generators)', () => {
    const untyped: string[] = [];
    const walk = (x: unknown, at: string): void => {
      if (Array.isArray(x)) return x.forEach((y, i) => walk(y, `${at}/${i}`));
      if (typeof x !== 'object' || x === null) return;
      const s = x as Record<string, unknown>;
      // a header's or a schema's enum/const (not an example value): schemas are what carry `type`
      if (('enum' in s || 'const' in s) && !('type' in s)) untyped.push(at);
      for (const [k, y] of Object.entries(s)) walk(y, `${at}/${k}`);
    };
    walk(buildOpenApi(), '#');
    expect(untyped).toEqual([]);
  });

  it('states versions and counts as whole numbers from 0 (integer), which the contract holds real answers to', () => {
    const schemas = (buildOpenApi() as Doc).components.schemas;
    const prop = (name: string, ...path: string[]) => path.reduce<Record<string, unknown>>(
      (s, k) => (s.properties as Record<string, Record<string, unknown>>)[k]!, schemas[name]!);
    const whole = { type: 'integer', minimum: 0 };
    for (const name of ['AppsPage', 'Overview', 'SummaryEvent', 'ChangeEvent', 'Readyz']) expect(prop(name, 'version'), name).toMatchObject(whole);
    expect((schemas.RuntimeSnapshot!.allOf as Record<string, Record<string, Record<string, unknown>>>[])[1]!.properties!.version).toMatchObject(whole);
    expect(prop('AppsPage', 'total')).toMatchObject(whole);
    for (const key of ['stuck_apps', 'stuck_tasks', 'total_apps']) expect(prop('RuntimeSummary', key), key).toMatchObject(whole);
    for (const key of ['consecutive_failures', 'duration_ms']) expect(prop('SourceStatus', key), key).toMatchObject(whole);
    expect(prop('Overview', 'chart_repo_counts', 'apps').additionalProperties).toMatchObject(whole);
  });

  it("states Go's components by name: each one's status words and metric keys (typed), any other component as the generic one, our keys allowed", async () => {
    const doc = (await SwaggerParser.dereference(structuredClone(buildOpenApi()) as never)) as unknown as Doc;
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const valid = ajv.compile(doc.components.schemas.Components!);
    const at = '2024-05-01T08:00:00Z';
    const tm = { name: 'task_module', healthy: true, status: 'running', last_check: at, metrics: { pending_tasks: 2, running_tasks: 1, ours: 'x' } };
    const syncer = { name: 'syncer', healthy: false, status: 'degraded', last_check: at, metrics: { last_sync_time: at } };
    const other = { name: 'postgres', healthy: true, status: 'error', last_check: at, metrics: { anything: 1 } };
    expect(valid({ task_module: tm, syncer, postgres: other }), JSON.stringify(valid.errors)).toBe(true);
    expect(valid({ task_module: { ...tm, status: 'stopped' } })).toBe(false);
    expect(valid({ syncer: { ...syncer, status: 'error' } })).toBe(false);
    expect(valid({ task_module: { ...tm, metrics: { ...tm.metrics, pending_tasks: 1.5 } } })).toBe(false);
    expect(valid({ task_module: { ...tm, metrics: { running_tasks: 1 } } })).toBe(false);
    expect(valid({ syncer: { ...syncer, metrics: { last_sync_time: 'yesterday' } } })).toBe(false);
    expect(valid({ cache: tm })).toBe(false);
    // the published document names them, so a generated client has the types
    const props = (doc.components.schemas.GoComponents!.properties ?? {}) as Record<string, unknown>;
    expect(Object.keys(props).sort()).toEqual(['cache', 'hydrator', 'syncer', 'task_module']);
  });

  it('states the filters the parser enforces: each documented value is accepted, and a value outside them gets the same 400 message', () => {
    const params = (buildOpenApi() as Doc).paths['/api/v2/runtime/state']!.get!.parameters!;
    expect(params.filter((p) => p.in === 'query').map((p) => p.name)).toEqual([...FILTER_KEYS]);
    const byName = Object.fromEntries(params.map((p) => [p.name, p.schema]));
    expect(byName.task_status!.enum).toEqual(['', ...TASK_STATUSES]);
    expect(byName.task_type!.enum).toEqual(['', ...TASK_TYPES]);
    expect(byName.stuck!.enum).toEqual(['', 'true', 'false']);
    expect(byName.user_id!.maxLength).toBe(256);
    for (const name of ['task_status', 'task_type', 'stuck'] as const) {
      for (const value of byName[name]!.enum!) expect(parseStateFilter({ [name]: [value] }).ok).toBe(true);
    }
    expect(parseStateFilter({ task_status: ['bogus'] })).toEqual({ ok: false, message: `invalid query parameter task_status: task_status must be one of ${TASK_STATUSES.join(', ')}` });
    expect(parseStateFilter({ task_type: ['bogus'] })).toEqual({ ok: false, message: `invalid query parameter task_type: task_type must be one of ${TASK_TYPES.join(', ')}` });
    expect(parseStateFilter({ stuck: ['yes'] })).toEqual({ ok: false, message: 'invalid query parameter stuck: stuck must be true or false' });
    // trimming still happens before the allowed values are checked
    expect(parseStateFilter({ task_status: ['  failed '] })).toMatchObject({ ok: true, filter: { task_status: 'failed' } });
    expect(parseStateFilter({ user_id: ['x'.repeat(257)] })).toEqual({ ok: false, message: 'invalid query parameter user_id: user_id is longer than 256 characters' });
    // the bound is on the trimmed value
    expect(parseStateFilter({ user_id: [` ${'x'.repeat(256)}  `] })).toMatchObject({ ok: true, filter: { user_id: 'x'.repeat(256) } });
  });

  it('states …/apps\'s own filters (stage, health) as the parser enforces them; /state does not take them', () => {
    const params = (buildOpenApi() as Doc).paths['/api/v2/runtime/apps']!.get!.parameters!;
    const byName = Object.fromEntries(params.map((p) => [p.name, p.schema]));
    expect(params.map((p) => p.name)).toEqual(expect.arrayContaining([...APP_FILTER_KEYS]));
    expect(byName.stage!.enum).toEqual(['', ...APP_STAGES]);
    expect(byName.health!.enum).toEqual(['', 'healthy', 'unhealthy', 'unknown']);
    for (const name of ['stage', 'health'] as const) {
      for (const value of byName[name]!.enum!) expect(parseAppsQuery({ [name]: [value] }).ok).toBe(true);
    }
    expect(parseAppsQuery({ stage: ['bogus'] })).toEqual({ ok: false, message: `invalid query parameter stage: stage must be one of ${APP_STAGES.join(', ')}` });
    expect(parseAppsQuery({ health: ['degraded'] })).toEqual({ ok: false, message: 'invalid query parameter health: health must be one of healthy, unhealthy, unknown' });
    expect(parseAppsQuery({ health: [' unknown '] })).toMatchObject({ ok: true, filter: { health: 'unknown' } });
    expect(parseAppsQuery({ stage: [' failed '] })).toMatchObject({ ok: true, filter: { stage: 'failed' } });
    // /state keeps the Go module's filters: stage is not one of them (a 400, so it cannot look filtered)
    expect(parseStateFilter({ stage: ['failed'] })).toMatchObject({ ok: false, message: expect.stringMatching(/^invalid query parameter stage: not taken here/) });
  });

  it('states …/apps?limit= as the parser enforces it: empty, or a whole number from 1 to 1000 in plain digits (read as a number)', () => {
    expect(paramsOf('/apps', 'query').map((p) => p.name)).toEqual([...APPS_QUERY_KEYS]);
    const { limit, cursor, include } = schemasOf('/apps', 'query');
    expect(limit).toEqual({ anyOf: [{ type: 'string', const: '' }, { type: 'integer', minimum: 1, maximum: 1000 }] });
    expect(include!.enum).toEqual(['', 'chart_repo']);
    expect(cursor).toEqual({ type: 'string', maxLength: 6163, pattern: '^[A-Za-z0-9_-]*$' });
    for (const [given, pageSize] of [['', 100], ['1', 1], ['1000', 1000], ['0042', 42]] as const) {
      expect(parseAppsQuery({ limit: [given] }), given).toMatchObject({ ok: true, limit: pageSize });
    }
    expect(parseAppsQuery({})).toMatchObject({ ok: true, limit: 100 });
    // plain decimal digits only: no sign, space (`+` in a query), point, exponent, hex or other digits
    for (const bad of ['0', '1001', '1.5', '-1', '1e3', 'ten', '99999999999999999999', '+5', ' 5', '5 ', ' 7 ', ' ', '5.0', '0x10', '5e1', '\uff15']) {
      expect(parseAppsQuery({ limit: [bad] }), bad).toEqual({ ok: false, message: 'invalid query parameter limit: limit must be a whole number from 1 to 1000 in plain decimal digits' });
    }
    // outside the cursor's alphabet, or in it but not given out: the same 400
    for (const bad of ['not a cursor', 'bm90LWEtY3Vyc29y']) {
      expect(parseAppsQuery({ cursor: [bad] })).toEqual({ ok: false, message: 'invalid query parameter cursor: not a cursor this API gave out (take next_cursor of the page before)' });
    }
  });

  it('states the change stream\'s own parameters (timeline, view, last_event_id) as the parser enforces them', () => {
    expect(paramsOf('/events', 'query').map((p) => p.name)).toEqual([...STREAM_QUERY_KEYS]);
    const { timeline, view, last_event_id: lastEventId } = schemasOf('/events', 'query');
    expect(timeline!.enum).toEqual(['', 'true', 'false']);
    expect(view!.enum).toEqual(['', 'summary']);
    expect(lastEventId!.maxLength).toBe(256);
    expect(parseStreamQuery({ timeline: [' true '] })).toMatchObject({ ok: true, timeline: true, summaryOnly: false });
    for (const off of ['', 'false']) expect(parseStreamQuery({ timeline: [off] })).toMatchObject({ ok: true, timeline: false });
    for (const bad of ['yes', '1', 'TRUE']) {
      expect(parseStreamQuery({ timeline: [bad] })).toEqual({ ok: false, message: 'invalid query parameter timeline: timeline must be true or false' });
    }
    expect(parseStreamQuery({ timeline: ['true', 'false'] })).toEqual({ ok: false, message: 'invalid query parameter timeline: given more than once' });
    expect(parseStreamQuery({ view: ['summary'] })).toMatchObject({ ok: true, summaryOnly: true });
    expect(parseStreamQuery({ view: ['everything'] })).toEqual({ ok: false, message: 'invalid query parameter view: view must be one of summary' });
    expect(parseStreamQuery({ view: ['summary'], user_id: ['alice'] })).toEqual({ ok: false, message: 'invalid query parameter view: view=summary takes no filters' });
    expect(parseStreamQuery({ last_event_id: [' e1-7.abc '] })).toMatchObject({ ok: true, lastEventId: 'e1-7.abc' });
    expect(parseStreamQuery({ last_event_id: ['x'.repeat(257)] })).toMatchObject({ ok: false, message: expect.stringContaining('last_event_id is longer than 256') });
    // the filters are /state's, with its messages
    expect(parseStreamQuery({ stuck: ['maybe'] })).toEqual({ ok: false, message: 'invalid query parameter stuck: stuck must be true or false' });
    expect(parseStreamQuery({ user_id: [' alice '] })).toMatchObject({ ok: true, filter: { user_id: 'alice' }, canonical: '[["user_id","alice"]]' });
  });

  it('states …/tasks\' parameters as the parser enforces them', () => {
    expect(paramsOf('/tasks', 'query').map((p) => p.name)).toEqual([...TASKS_QUERY_KEYS]);
    for (const s of Object.values(schemasOf('/tasks', 'query'))) expect(s).toEqual({ type: 'string', maxLength: 256 });
    expect(parseTasksQuery({ app_name: [' firefox '] })).toEqual({ ok: true, app_name: 'firefox' });
    expect(parseTasksQuery({ app_name: ['firefox'], user_id: ['alice'] })).toEqual({ ok: true, app_name: 'firefox', user_id: 'alice' });
    for (const none of [{}, { app_name: [' '] }] as Record<string, string[]>[]) expect(parseTasksQuery(none)).toEqual({ ok: false, message: 'give app_name and/or user_id' });
    expect(parseTasksQuery({ user_id: ['x'.repeat(257)] })).toEqual({ ok: false, message: 'invalid query parameter user_id: user_id is longer than 256 characters' });
    expect(parseTasksQuery({ user_id: ['a', 'b'] })).toEqual({ ok: false, message: 'invalid query parameter user_id: given more than once' });
  });

  it('states every path parameter as the routes validate it (path-params.ts), with the route\'s 400 message past its limits', () => {
    const routes = [
      ['/apps/{user_id}/{source_id}/{app_name}', APP_PATH_SCHEMA], ['/apps/{user_id}/{source_id}/{app_name}/history', APP_PATH_SCHEMA],
      ['/tasks/{task_id}', TASK_PATH_SCHEMA], ['/tasks/{task_id}/history', TASK_PATH_SCHEMA],
      ['/users/{user_id}/apps', USER_PATH_SCHEMA], ['/users/{user_id}/tasks', USER_PATH_SCHEMA],
    ] as const;
    for (const [path, schema] of routes) {
      const documented = schemasOf(path, 'path');
      expect(Object.keys(documented), path).toEqual(Object.keys(schema.entries));
      for (const s of Object.values(documented)) expect(s).toEqual({ type: 'string', minLength: 1, maxLength: 256 });
    }
    expect(parsePath(APP_PATH_SCHEMA, { user_id: 'alice', source_id: 'market.olares', app_name: 'firefox' }))
      .toEqual({ ok: true, params: { user_id: 'alice', source_id: 'market.olares', app_name: 'firefox' } });
    expect(parsePath(APP_PATH_SCHEMA, { user_id: 'alice', source_id: 's'.repeat(257), app_name: 'a'.repeat(257) }))
      .toEqual({ ok: false, message: 'source_id is longer than 256 characters' });
    expect(parsePath(TASK_PATH_SCHEMA, { task_id: '' })).toEqual({ ok: false, message: 'task_id must not be empty' });
    // the asset route's names are the files it serves
    expect(schemasOf('/assets/{file}', 'path').file!.enum).toEqual([...ASSET_FILES]);
  });

  it('is built shortly after the route is registered (the thread\'s start), so the first request does not wait for it', async () => {
    let builds = 0;
    const api = new Hono();
    registerOpenApi(api, { warmAfterMs: 0, build: async () => { builds++; return openApiDocument(); } });
    expect(builds).toBe(0);
    await vi.waitFor(() => expect(builds).toBe(1));
    const res = await api.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(openApiText());
    expect(builds).toBe(1);
  });
});

/**
 * The source text of `src` with what cannot answer a request blanked out: comments, the text of strings and
 * template literals (a template's `${…}` expressions stay), regular expression literals. Newlines stay, so
 * offsets keep their line; quotes stay, so a string is still seen to be one.
 */
function codeOnly(src: string): string {
  const out = src.split('');
  const n = src.length;
  const blank = (at: number) => { if (at < n && out[at] !== '\n') out[at] = ' '; };
  /** the brace depth at which each open template `${` began */
  const expressions: number[] = [];
  let depth = 0;
  let i = 0;
  /** the last character of code seen (not a space): a `/` after one of these starts a regular expression */
  let prev = '';
  const template = () => {
    while (i < n) {
      const ch = src[i]!;
      if (ch === '\\') { blank(i); blank(i + 1); i += 2; continue; }
      if (ch === '`') { i++; prev = '`'; return; }
      if (ch === '$' && src[i + 1] === '{') { expressions.push(depth); depth++; i += 2; prev = '{'; return; }
      blank(i++);
    }
  };
  while (i < n) {
    const ch = src[i]!;
    const next = src[i + 1];
    if (ch === '/' && next === '/') { while (i < n && src[i] !== '\n') blank(i++); continue; }
    if (ch === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      while (i < stop) blank(i++);
      continue;
    }
    if (ch === '"' || ch === "'") {
      i++;
      while (i < n && src[i] !== ch && src[i] !== '\n') { if (src[i] === '\\') blank(i++); blank(i++); }
      i++;
      prev = ch;
      continue;
    }
    if (ch === '`') { i++; template(); continue; }
    if (ch === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev) || /\b(?:return|typeof|case|in|of)\s*$/.test(src.slice(Math.max(0, i - 8), i)))) {
      blank(i++);
      let inClass = false;
      while (i < n && src[i] !== '\n') {
        const c = src[i]!;
        if (c === '\\') { blank(i); blank(i + 1); i += 2; continue; }
        if (c === '/' && !inClass) break;
        if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        blank(i++);
      }
      blank(i++);
      prev = '/';
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') {
      depth--;
      if (expressions.length > 0 && expressions[expressions.length - 1] === depth) {
        expressions.pop();
        i++;
        template();
        continue;
      }
    }
    if (!/\s/.test(ch)) prev = ch;
    i++;
  }
  return out.join('');
}

/** The top-level arguments of the call whose `(` is at `open` in code-only text. */
function callArguments(code: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < code.length; i++) {
    const ch = code[i]!;
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) { args.push(code.slice(start, i)); break; }
    } else if (ch === ',' && depth === 1) {
      args.push(code.slice(start, i));
      start = i + 1;
    }
  }
  return args.map((a) => a.trim());
}

/**
 * The calls that write an answer with a status among their arguments, as the HTTP code writes them: Hono's
 * `c.json(body, 400, headers)`, `c.body(…)`, `c.text(…)` (and `html`, `redirect`, `newResponse`), node's
 * `res.writeHead(304, …)`, `new Response(body, init)` (its status in `init`, the `status:` form below),
 * and the thread's own writers (thread.ts refuseHead, rawAnswer; raw-path.ts send). A new way of answering is
 * added here: the test below fails on a function of src/http that takes a `status` and is in neither list.
 */
const ANSWERING_CALLS = ['json', 'body', 'text', 'html', 'redirect', 'newResponse', 'writeHead', 'Response', 'send', 'refuseHead', 'rawAnswer'];
/**
 * Functions of src/http that take a status without answering with it: they count it (metrics.ts record, series;
 * request-stats.ts of; raw-path.ts's Record type) or pick an answer's headers for it (query-headers.ts).
 */
const NOT_ANSWERING = ['of', 'record', 'series', 'Record', 'queryHeaders'];

/** A status, or a choice of two (`ready ? 200 : 503`); a union type (`200 | 304`) in a `status:` declaration. */
const STATUS = '([1-5]\\d{2})';
const STATUS_EXPRESSION = new RegExp(`^(?:[^?]*\\?\\s*)?${STATUS}(?:\\s*[:|]\\s*${STATUS})?$`);

interface StatusSite { status: number; line: number; text: string }

/**
 * Every status number `source` can answer, where it is written as a number: an argument of an answering call
 * (ANSWERING_CALLS), a `status:` property or declaration (`new Response(body, { status: bad ? 400 : 500 })`,
 * a plan's `{ status: 304, … }`), or a status paired with its message (`[431, 'request line … too large']`,
 * thread.ts answerClientError). Comments, strings and regular expressions are not read.
 */
function answeredStatuses(source: string): StatusSite[] {
  const code = codeOnly(source);
  const sites: StatusSite[] = [];
  const at = (index: number, status: string, text: string) =>
    sites.push({ status: Number(status), line: code.slice(0, index).split('\n').length, text: text.replace(/\s+/g, ' ').slice(0, 80) });
  for (const m of code.matchAll(new RegExp(`\\b(?:${ANSWERING_CALLS.join('|')})\\s*\\(`, 'g'))) {
    for (const arg of callArguments(code, m.index + m[0].length - 1)) {
      const s = STATUS_EXPRESSION.exec(arg);
      if (s) for (const status of s.slice(1)) if (status) at(m.index, status, `${m[0]}… ${arg}`);
    }
  }
  for (const m of code.matchAll(new RegExp(`\\bstatus\\??\\s*:\\s*((?:[\\w.!]+\\s*\\?\\s*)?${STATUS}(?:\\s*[:|]\\s*${STATUS})?)`, 'g'))) {
    for (const status of m.slice(2)) if (status) at(m.index, status, m[0]);
  }
  for (const m of code.matchAll(new RegExp(`\\[\\s*${STATUS}\\s*,\\s*['"\`]`, 'g'))) at(m.index, m[1]!, m[0]);
  return sites;
}

/** The functions `source` declares with a parameter `status` (a number or a union of statuses). */
function statusTakers(source: string): string[] {
  const code = codeOnly(source);
  const names = [...code.matchAll(/\b(\w+)\s*(?:=\s*(?:async\s*)?)?\(([^()]*?)\bstatus\s*:\s*(?:number|[1-5]\d{2})/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

/** Every .ts file under src/http (the app, its routes and middleware, the HTTP thread, the raw path). */
function httpSources(): Array<{ file: string; text: string }> {
  const root = fileURLToPath(new URL('../../src/http/', import.meta.url));
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => ({ file: `src/http/${f.split(sep).join('/')}`, text: readFileSync(join(root, f), 'utf8') }));
}

describe('the statuses the code answers', () => {
  it('are found in each form the code writes them, and not in comments, strings, regular expressions or other calls', () => {
    const source = [
      "if (!out) return c.json(errorBody('the change stream needs the node server'), 501);",
      "return c.json(errorBody(`method ${m.slice(0, 16)} not allowed: use ${allow}`), 405, { Allow: allow });",
      "return c.body(null, ok ? 200 : 502, headers);",
      'return new Response(body, { status: bad ? 400 : 507, headers });',
      "res.writeHead(418, headers);",
      "send(203, variantHeaders(cur, plan, null, head), null);",
      "const [status, message] = big ? [413, 'too large'] : [400, `malformed: ${x}`];",
      'const plan = { status: 206, encoding };',
      // none of these answers
      'const clipped = name.slice(0, 256); const wait = Math.min(300, grace);',
      '// answered with c.json(body, 599) one day',
      "/* c.json(x, 598) */ const s = 'c.json(x, 597)'; const t = `see c.json(x, 596)`;",
      'const re = /c.json\\(x, 595\\)/; const half = total / 2; const q = /,\\s*594\\)/g;',
      "log.info(`${c.json(x, 404)} in a template expression`);",
    ].join('\n');
    const found = answeredStatuses(source).map((s) => `${s.line}:${s.status}`);
    expect(found.sort()).toEqual(['1:501', '2:405', '3:200', '3:502', '4:400', '4:507', '5:418', '6:203', '7:400', '7:413', '8:206', '13:404'].sort());
    expect(statusTakers([
      'function refuseHead(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {',
      'const send = (status: number, headers: HeaderList, body: Uint8Array | null) => {',
      'export function queryHeaders(status: 200 | 304, etag: string): Record<string, string> {',
    ].join('\n'))).toEqual(['refuseHead', 'send', 'queryHeaders']);
  });

  it('are each documented for at least one route: a status the code can answer that the document lacks fails', () => {
    const doc = buildOpenApi() as Doc;
    const documented = new Set<number>();
    for (const item of Object.values(doc.paths)) {
      for (const m of METHODS) for (const s of Object.keys(item[m]?.responses ?? {})) documented.add(Number(s));
    }
    const sources = httpSources();
    expect(sources.map((s) => s.file)).toEqual(expect.arrayContaining(['src/http/app.ts', 'src/http/thread.ts', 'src/http/events-route.ts']));
    const found = new Set<number>();
    const undocumented: string[] = [];
    const unknownTakers: string[] = [];
    for (const { file, text } of sources) {
      for (const site of answeredStatuses(text)) {
        found.add(site.status);
        if (!documented.has(site.status)) undocumented.push(`${file}:${site.line} answers ${site.status} (${site.text})`);
      }
      // a function that takes a status writes an answer (its callers' statuses are read above) or only counts it
      for (const name of statusTakers(text)) {
        if (![...ANSWERING_CALLS, ...NOT_ANSWERING].includes(name)) unknownTakers.push(`${file}: ${name}`);
      }
    }
    expect(undocumented, 'statuses the code answers that no route of the document lists (document them in src/http/openapi.ts, or do not answer them)').toEqual([]);
    expect(unknownTakers, 'functions taking a status: add them to ANSWERING_CALLS if they answer with it, else to NOT_ANSWERING').toEqual([]);
    // the scan sees every form in use (a regex that found nothing would pass the check above)
    for (const status of [200, 302, 304, 400, 401, 404, 405, 408, 414, 417, 431, 500, 503]) expect(found.has(status), `found ${status}`).toBe(true);
    // 204 (CORS preflight) is answered by hono/cors, not written in src/http; the document has it
    expect(documented.has(204)).toBe(true);
  });
});
