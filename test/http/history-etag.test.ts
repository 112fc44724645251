/**
 * A history answer's ETag names the history itself, not the store's content: an app uninstalled and
 * installed again leaves the store's content as it was, but its history gained entries, and a client holding
 * the old tag must get them (200), not a 304.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app, startHarness, task } from './store-harness.ts';
import { API } from '../reliability/helpers.ts';

const HISTORY = `${API}/apps/alice/market/wiki/history`;

describe('history ETags', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow', 'tasks']);
  });
  afterAll(() => h?.close());

  const listApps = async (...names: string[]) => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: names.map((n) => app('alice', 'market', n)) }]);
    await h.settled(true);
  };
  const stages = (body: string) => (JSON.parse(body) as { data: { entries: Array<{ stage: string }> } }).data.entries.map((e) => e.stage);

  it('uninstall then reinstall: same store content, the old tag gets the longer history', async () => {
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t1', 'wiki', 'alice')] }]);
    await listApps('wiki', 'blog');
    const state = await h.send(`${API}/state`);
    const first = await h.send(HISTORY);
    expect(first.status).toBe(200);
    expect(stages(first.body)).toEqual(['running']);
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^W\/"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"$/);

    await listApps('blog');
    await listApps('wiki', 'blog');
    // the store holds what it held when the tag was given (the bug: history tags were made of this)
    expect((await h.send(`${API}/state`)).headers.etag).toBe(state.headers.etag);
    const again = await h.send(HISTORY, 'GET', { 'If-None-Match': tag });
    expect(again.status).toBe(200);
    expect(stages(again.body)).toEqual(['running', 'removed', 'running']);
    expect(again.headers.etag).not.toBe(tag);
    // and the new tag revalidates, repeated (nothing served from a cache of the old answer)
    for (let i = 0; i < 2; i++) {
      expect((await h.send(HISTORY, 'GET', { 'If-None-Match': again.headers.etag as string })).status).toBe(304);
    }
    // another app moves: a new version, this history unchanged, so its tag still revalidates
    await listApps('wiki');
    expect((await h.send(HISTORY, 'GET', { 'If-None-Match': again.headers.etag as string })).status).toBe(304);
  });

  it('after a store restart the old tag gets the new store\'s history', async () => {
    await listApps('wiki', 'blog');
    const state = await h.send(`${API}/state`);
    const before = await h.send(HISTORY);
    expect(stages(before.body)).toEqual(['running', 'removed', 'running']);
    h.restartStore();
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t1', 'wiki', 'alice')] }]);
    await listApps('wiki', 'blog');
    expect((await h.send(`${API}/state`)).headers.etag).toBe(state.headers.etag);
    const after = await h.send(HISTORY, 'GET', { 'If-None-Match': before.headers.etag as string });
    expect(after.status).toBe(200);
    // the new store saw one install: what it answers, not what the old store had
    expect(stages(after.body)).toEqual(['running']);
  });
});
