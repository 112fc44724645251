/**
 * A query string or path that is not valid percent-encoding is a clear 400 naming the parameter, on every route and
 * both base paths, asked once or repeated (the raw path never remembers it) — not a filter on its raw text,
 * which answers an empty result as if no app matched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { malformedTarget } from '../../src/http/query.ts';
import { app, startHarness, task } from './store-harness.ts';

describe('malformedTarget', () => {
  it.each([
    ['/state?user_id=%ZZ', 'user_id'],
    ['/state?app_name=firefox&user_id=al%2', 'user_id'],
    ['/state?user_id=%C3%28', 'user_id'],
    ['/state?user%ZZ=a', 'user%ZZ'],
    ['/state?user_id=100%', 'user_id'],
  ])('%s names %s', (url, name) => {
    expect(malformedTarget(url)).toBe(`invalid query parameter ${name}: malformed percent-encoding (% must start two hex digits, and the escapes must be UTF-8)`);
  });

  it.each(['/state', '/state?', '/state?user_id=alice', '/state?user_id=100%25', '/state?user_id=%E6%97%A5', '/state?user_id=a+b&x', '/users/al%20ice/apps', '/users/%E6%97%A5/apps?x=%25'])('%s is fine', (url) => {
    expect(malformedTarget(url)).toBeNull();
  });

  it.each([
    ['/users/%ZZ/apps', '%ZZ'],
    ['/apps/alice/market/fire%C3%28fox', 'fire%C3%28fox'],
    ['/tasks/100%?user_id=%ZZ', '100%'],
  ])('%s names the path segment %s', (url, segment) => {
    expect(malformedTarget(url)).toBe(`invalid path segment ${segment}: malformed percent-encoding (% must start two hex digits, and the escapes must be UTF-8)`);
  });
});

describe('malformed query strings over HTTP', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow', 'tasks']);
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'firefox')] }]);
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t1', 'firefox', 'alice')] }]);
    await h.settled(true);
  });
  afterAll(() => h?.close());

  const routes = [
    '/state?user_id=%ZZ', '/state?task_status=running&user_id=%C3%28', '/apps?user_id=%ZZ', '/tasks?app_name=%ZZ',
    '/users/alice/apps?x=%ZZ', '/apps/alice/market/firefox?user_id=%', '/tasks/t1?_=%ZZ', '/overview?_=%G0',
    '/sources?_=%ZZ', '/events?user_id=%ZZ', '/apps/alice/market/firefox/history?_=%ZZ',
  ];
  for (const base of ['/api/v2/runtime', '/app-store/api/v2/runtime']) {
    it.each(routes)(`${base}%s answers 400 naming the parameter, every time`, async (route) => {
      for (let i = 0; i < 3; i++) {
        const a = await h.send(base + route);
        expect(a.status).toBe(400);
        const body = JSON.parse(a.body) as { success: boolean; message: string };
        expect(body.success).toBe(false);
        expect(body.message).toMatch(/^invalid query parameter \S+: malformed percent-encoding/);
      }
    });
  }

  const paths = ['/users/%ZZ/apps', '/users/%ZZ/tasks', '/apps/%ZZ/market/firefox', '/apps/alice/market/%C3%28/history', '/tasks/%ZZ', '/tasks/t%1/history'];
  for (const base of ['/api/v2/runtime', '/app-store/api/v2/runtime']) {
    it.each(paths)(`${base}%s answers 400 naming the path segment, not an empty answer or a 404`, async (route) => {
      const a = await h.send(base + route);
      expect(a.status).toBe(400);
      expect((JSON.parse(a.body) as { message: string }).message).toMatch(/^invalid path segment \S+: malformed percent-encoding/);
    });
  }

  it('a well-encoded query beside it still answers', async () => {
    const a = await h.send('/api/v2/runtime/state?user_id=alice');
    expect(a.status).toBe(200);
    expect(Object.keys((JSON.parse(a.body) as { data: { app_states: object } }).data.app_states)).toEqual(['alice:market:firefox']);
  });
});
