import { readFileSync } from 'node:fs';
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

type ParamSchema = { enum?: string[]; maxLength?: number; minLength?: number; anyOf?: unknown[]; pattern?: string };
type Parameter = { name: string; in: string; required?: boolean; schema: ParamSchema };
type Operation = { parameters?: Parameter[]; responses: Record<string, unknown> };
/** a path item: its operations by method, and the parameters every one of them shares */
type PathItem = Record<string, Operation> & { parameters?: Parameter[] };
type Doc = { paths: Record<string, PathItem>; components: { schemas: Record<string, Record<string, unknown>> } };

// both are CommonJS: under NodeNext the default import is the module object, whose `default` is the export
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

const API = '/api/v2/runtime';
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
    expect(limit).toEqual({ anyOf: [{ const: '' }, { type: 'integer', minimum: 1, maximum: 1000 }] });
    expect(include!.enum).toEqual(['', 'chart_repo']);
    expect(cursor).toEqual({ type: 'string', maxLength: 8192, pattern: '^[A-Za-z0-9_-]*$' });
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
