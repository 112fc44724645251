/**
 * Before the first version (no collector has reported yet) the store holds nothing to answer from: every data
 * route answers 503 with Retry-After and says so, as the whole /state does, and the store is not asked (an
 * empty answer would read as an empty market, a 404 as an app that does not exist).
 */
import { describe, expect, it } from 'vitest';
import { createRuntimeApp } from '../../src/http/app.ts';
import type { AsyncQueries } from '../../src/http/current-version.ts';
import { NOT_READY } from '../../src/http/rebuilding.ts';
import { API } from '../reliability/helpers.ts';


describe('before the first version', () => {
  const asked: string[] = [];
  // a store that would answer anything: none of it may be served yet
  const queries = new Proxy({}, { get: (_t, name) => () => { asked.push(String(name)); return Promise.reject(new Error('asked')); } }) as AsyncQueries;
  const app = createRuntimeApp({ current: () => null, queries: () => queries, storeAlive: async () => true });

  it.each([
    '/state', '/state?user_id=alice', '/apps', '/apps?limit=5', '/overview', '/apps/alice/market/wiki', '/apps/alice/market/wiki/history',
    '/tasks/t1', '/tasks/t1/history', '/tasks?app_name=wiki', '/users/alice/apps', '/users/alice/tasks', '/events',
  ])('%s answers 503 "not collected yet", and the store is not asked', async (path) => {
    const res = await app.request(API + path);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ success: false, message: NOT_READY, data: null });
    expect(asked).toEqual([]);
  });
});
