/**
 * Before the first version (no collector has reported yet) the store holds nothing to answer from: every data
 * route answers 503 with Retry-After and says so, as the whole /state does, and the store is not asked (an
 * empty answer would read as an empty market, a 404 as an app that does not exist). At the first start that
 * holds until every collector has run once: a version with part of the market is not served either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntimeApp } from '../../src/http/app.ts';
import type { AsyncQueries } from '../../src/http/current-version.ts';
import { NOT_READY } from '../../src/http/rebuilding.ts';
import { API } from '../reliability/helpers.ts';
import { app, startHarness, task } from './store-harness.ts';


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

describe('at the first start, before every collector has run once', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow', 'tasks']);
  });
  afterAll(() => h?.close());

  it('answers 503 "not collected yet" while only some have reported (the tasks without the apps would read as an empty market)', async () => {
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-wiki', 'wiki', 'alice')] }]);
    await h.delivered();
    for (const target of ['/state', '/apps?limit=5', '/apps/alice/market/wiki', '/tasks/t-wiki', '/users/alice/apps', '/events']) {
      const a = await h.send(API + target);
      expect(a.status, target).toBe(503);
      expect(JSON.parse(a.body), target).toEqual({ success: false, message: NOT_READY, data: null });
    }
    expect((await h.send('/readyz')).status).toBe(503);

    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    await h.settled(true);
    const state = await h.send(`${API}/state`);
    expect(state.status).toBe(200);
    const data = JSON.parse(state.body).data as { app_states: Record<string, unknown>; tasks: Record<string, unknown> };
    expect(Object.keys(data.app_states)).toHaveLength(1);
    expect(Object.keys(data.tasks)).toEqual(['t-wiki']);
    expect((await h.send(`${API}/apps/alice/market/wiki`)).status).toBe(200);
  });
});
