import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { createRuntimeApp } from '../../src/http/app.ts';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import { buildOpenApi, openApiText } from '../../src/http/openapi.ts';
import { APP_FILTER_KEYS, FILTER_KEYS, parseAppsQuery, parseStateFilter } from '../../src/http/query.ts';
import { APP_STAGES, TASK_STATUSES, TASK_TYPES } from '../../src/model/index.ts';

type Doc = { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema: { enum?: string[]; maxLength?: number } }> }>> };

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
    // /state keeps the Go module's filters: stage is not one of them (ignored, as any unknown parameter)
    expect(parseStateFilter({ stage: ['failed'] })).toEqual({ ok: true, filter: {}, canonical: '' });
  });
});
