/**
 * GET …/apps: a dashboard pages through the apps, `limit` at a time, following next_cursor; bad parameters
 * answer 400 naming the parameter; an unchanged page answers 304 to its ETag; both base paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import { appKey, type AppFlowState } from '../../src/model/index.ts';
import { app, startHarness, type Answer } from './store-harness.ts';

interface Page { version: number; total: number; items: AppFlowState[]; next_cursor: string | null }

const data = (a: Answer): Page => JSON.parse(a.body).data;
const keyOf = (a: AppFlowState) => appKey(a);

describe('GET …/apps', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  const apps: AppFlowState[] = [];

  beforeAll(async () => {
    h = await startHarness(['app_flow']);
    // every 9th app is stopped and unhealthy; two in 9 are installing, with health unknown or none reported yet
    const over = (i: number): Partial<AppFlowState> => (i % 9 === 0 ? { stage: 'stopped', health: 'unhealthy' }
      : i % 9 === 4 ? { stage: 'installing', health: 'unknown' } : i % 9 === 7 ? { stage: 'installing', health: undefined } : {});
    for (let i = 0; i < 250; i++) apps.push(app(`user${i % 5}`, i % 2 ? 'market' : 'local', `app${(i * 37) % 250}`, over(i)));
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps }]);
    await h.settled(true);
  });
  afterAll(() => h?.close());

  it('pages through every app once, in key order, under both base paths', async () => {
    for (const base of BASE_PATHS) {
      const seen: string[] = [];
      let target = `${base}/apps?limit=40`;
      for (;;) {
        const a = await h.send(target);
        expect(a.status).toBe(200);
        const body = JSON.parse(a.body);
        expect(body).toMatchObject({ success: true, message: 'success' });
        const page = data(a);
        expect(page.total).toBe(250);
        seen.push(...page.items.map(keyOf));
        if (page.next_cursor === null) break;
        target = `${base}/apps?limit=40&cursor=${encodeURIComponent(page.next_cursor)}`;
      }
      expect(seen).toEqual(apps.map(keyOf).sort());
    }
  });

  it('without a limit a page holds 100 apps; filters narrow it', async () => {
    expect(data(await h.send('/api/v2/runtime/apps')).items).toHaveLength(100);
    const alice = data(await h.send('/api/v2/runtime/apps?user_id=user1&source_id=market&limit=1000'));
    const expected = apps.filter((a) => a.user_id === 'user1' && a.source_id === 'market').map(keyOf).sort();
    expect(alice.items.map(keyOf)).toEqual(expected);
    expect(alice.total).toBe(expected.length);
    expect(alice.next_cursor).toBeNull();
    const none = data(await h.send('/api/v2/runtime/apps?stuck=true'));
    expect(none).toMatchObject({ total: 0, items: [], next_cursor: null });
  });

  it.each([
    ['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=abc', 'limit'], ['limit=1.5', 'limit'], ['limit=5&limit=6', 'limit'],
    // plain decimal digits only ("+" in a query is a space)
    ['limit=%2B5', 'limit'], ['limit=+5', 'limit'], ['limit=5.0', 'limit'], ['limit=0x10', 'limit'], ['limit=%205', 'limit'],
    ['limit=5%20', 'limit'], ['limit=5e1', 'limit'], ['limit=%EF%BC%95', 'limit'], ['limit=+', 'limit'],
    ['cursor=garbage!', 'cursor'], ['cursor=bm90LWEtY3Vyc29y', 'cursor'], ['stuck=maybe', 'stuck'],
    ['stage=bogus', 'stage'], ['stage=Running', 'stage'], ['stage=running&stage=failed', 'stage'],
    ['health=sick', 'health'], ['health=Unknown', 'health'], ['health=degraded', 'health'],
  ])('?%s answers 400 naming %s', async (query, param) => {
    for (const base of BASE_PATHS) {
      const a = await h.send(`${base}/apps?${query}`);
      expect(a.status).toBe(400);
      const body = JSON.parse(a.body);
      expect(body).toMatchObject({ success: false, data: null });
      expect(body.message).toMatch(new RegExp(`^invalid query parameter ${param}: `));
    }
  });

  it.each([
    ['/state?stage=installing', 'stage'], ['/state?health=unhealthy', 'health'], ['/state?limit=10', 'limit'],
    ['/apps?task_status=running', 'task_status'], ['/tasks?app_name=wiki&source_id=market', 'source_id'],
    ['/overview?user_id=alice', 'user_id'], ['/users/alice/apps?stage=running', 'stage'], ['/sources?user_id=alice', 'user_id'],
  ])('%s answers 400: a parameter of another route is not silently ignored', async (target, param) => {
    const a = await h.send(`/api/v2/runtime${target}`);
    expect(a.status).toBe(400);
    expect(JSON.parse(a.body).message).toMatch(new RegExp(`^invalid query parameter ${param}: not taken here \\(this route takes `));
  });

  it('a parameter no route takes (a cache-buster) is ignored, as the Go module ignores it', async () => {
    const plain = await h.send('/api/v2/runtime/state');
    const busted = await h.send('/api/v2/runtime/state?_=1733212800000');
    expect(busted.status).toBe(200);
    expect(busted.body).toBe(plain.body);
    expect((await h.send('/api/v2/runtime/apps?limit=2&_=1')).status).toBe(200);
  });

  it('stage and health narrow items and total on the server, across cursor pages', async () => {
    const stopped = apps.filter((a) => a.stage === 'stopped').map(keyOf).sort();
    const seen: string[] = [];
    let target = '/api/v2/runtime/apps?stage=stopped&limit=7';
    for (;;) {
      const page = data(await h.send(target));
      expect(page.total).toBe(stopped.length);
      seen.push(...page.items.map(keyOf));
      if (page.next_cursor === null) break;
      target = `/api/v2/runtime/apps?stage=stopped&limit=7&cursor=${page.next_cursor}`;
    }
    expect(seen).toEqual(stopped);
    const healthy = data(await h.send('/api/v2/runtime/apps?health=healthy&user_id=user1&limit=1000'));
    expect(healthy.items.map(keyOf)).toEqual(apps.filter((a) => a.health === 'healthy' && a.user_id === 'user1').map(keyOf).sort());
    expect(data(await h.send('/api/v2/runtime/apps?stage=running&health=unhealthy')).total).toBe(0);
  });

  it('health=unknown lists the apps counted neither healthy nor unhealthy (reported unknown or not at all), across pages', async () => {
    const unknown = apps.filter((a) => a.stage === 'installing').map(keyOf).sort();
    expect(apps.some((a) => a.health === undefined) && apps.some((a) => a.health === 'unknown')).toBe(true);
    for (const base of BASE_PATHS) {
      const seen: string[] = [];
      let target = `${base}/apps?health=unknown&limit=9`;
      for (;;) {
        const a = await h.send(target);
        expect(a.status).toBe(200);
        const page = data(a);
        expect(page.total).toBe(unknown.length);
        seen.push(...page.items.map(keyOf));
        if (page.next_cursor === null) break;
        target = `${base}/apps?health=unknown&limit=9&cursor=${page.next_cursor}`;
      }
      expect(seen).toEqual(unknown);
    }
    const { summary } = JSON.parse((await h.send('/api/v2/runtime/overview')).body).data;
    expect(summary.total_apps - summary.healthy_apps - summary.unhealthy_apps).toBe(unknown.length);
  });

  it('each stage / health filter has its own ETag, even over the same apps; equal filters written differently share one', async () => {
    const tagOf = async (query: string) => (await h.send(`/api/v2/runtime/apps?${query}`)).headers.etag as string;
    const stage = await tagOf('stage=stopped');
    const health = await tagOf('health=unhealthy');
    // the same apps (every stopped app is the unhealthy one) under two filters
    expect(data(await h.send('/api/v2/runtime/apps?stage=stopped')).items).toEqual(data(await h.send('/api/v2/runtime/apps?health=unhealthy')).items);
    const tags = [stage, health, await tagOf(''), await tagOf('stage=running'), await tagOf('stage=stopped&health=unhealthy'), await tagOf('health=healthy'), await tagOf('health=unknown')];
    expect(new Set(tags).size).toBe(tags.length);
    expect(await tagOf('stage=%20stopped%20&health=')).toBe(stage);
    expect((await h.send('/api/v2/runtime/apps?stage=stopped', 'GET', { 'If-None-Match': stage })).status).toBe(304);
    expect((await h.send('/api/v2/runtime/apps?health=unhealthy', 'GET', { 'If-None-Match': stage })).status).toBe(200);
  });

  it('answers 304 to its ETag while the page is unchanged, and a new tag once it changes', async () => {
    const tags: string[] = [];
    for (const base of BASE_PATHS) {
      const target = `${base}/apps?user_id=user2&limit=3`;
      const first = await h.send(target);
      const etag = first.headers.etag as string;
      expect(etag).toMatch(/^W\//);
      tags.push(etag);
      expect((await h.send(target, 'GET', { 'If-None-Match': etag })).status).toBe(304);
      expect((await h.send(target, 'HEAD', { 'If-None-Match': etag })).status).toBe(304);
      // another page of the same listing has its own tag
      const next = await h.send(`${target}&cursor=${data(first).next_cursor}`);
      expect(next.headers.etag).not.toBe(etag);
    }
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [...apps, app('user2', 'local', 'aaa-new')] }]);
    await h.settled(true);
    const moved = await h.send('/api/v2/runtime/apps?user_id=user2&limit=3');
    expect(data(moved).items.map(keyOf)).toContain('user2:local:aaa-new');
    expect(data(moved).total).toBe(51);
    expect(moved.headers.etag).not.toBe(tags[0]);
    expect((await h.send('/api/v2/runtime/apps?user_id=user2&limit=3', 'GET', { 'If-None-Match': tags[0]! })).status).toBe(200);
  });
});
