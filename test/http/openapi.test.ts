import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Hono } from 'hono';
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
import { APP_STAGES, TASK_STATUSES, TASK_TYPES } from '../../src/model/index.ts';

type ParamSchema = { enum?: string[]; maxLength?: number; minLength?: number; anyOf?: unknown[]; pattern?: string };
type Doc = { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema: ParamSchema }> }>> };

const API = '/api/v2/runtime';
const paramsOf = (path: string, where: 'query' | 'path') =>
  (buildOpenApi() as Doc).paths[API + path]!.get!.parameters!.filter((p) => p.in === where);
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

  it('documents every GET route the app registers, under both base paths, and no route it does not have', () => {
    const app = createRuntimeApp({ current: () => null, queries: () => null, storeAlive: async () => false });
    const registered = new Set(app.routes.filter((r) => r.method === 'GET').map((r) => r.path.replace(/:(\w+)/g, '{$1}')));
    const documented = new Set(Object.keys((buildOpenApi() as Doc).paths));
    expect([...registered].filter((p) => !documented.has(p)), 'routes the document lacks').toEqual([]);
    expect([...documented].filter((p) => !registered.has(p)), 'documented paths the app does not serve').toEqual([]);
    for (const base of BASE_PATHS) expect(documented.has(`${base}/openapi.json`)).toBe(true);
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
