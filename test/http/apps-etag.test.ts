/**
 * Issue 17, one content, one ETag: an answer of apps is tagged by what its rows say, not by the last_update a
 * store keeps from when it first saw that content. Two replicas (or a store before and after a restart) that saw
 * the market's row at different times hold different last_update values for the same content: their answers
 * still share a tag, so a poller moving between them keeps its 304s; different content never does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { app, startHarness } from './store-harness.ts';
import { API } from '../reliability/helpers.ts';

const TARGETS = [
  `${API}/apps/alice/market/wiki`, `${API}/users/alice/apps`, `${API}/apps?user_id=alice&limit=10`, `${API}/state?user_id=alice`,
  `${API}/apps?limit=1`,
];
/** the answers that hold wiki (the first page of one app holds blog alone: keys sort alice:market:blog first) */
const WITH_WIKI = TARGETS.slice(0, 4);
const T_SEEN = '2026-11-25T10:00:00.000Z';
const T_TOUCHED = '2026-11-25T10:07:00.000Z';

type Harness = Awaited<ReturnType<typeof startHarness>>;
const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

async function replica(...passes: Array<Array<ReturnType<typeof app>>>): Promise<Harness> {
  const h = await startHarness(['app_flow']);
  open.push(h);
  for (const items of passes) h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items }]);
  await h.settled(true);
  return h;
}

const wiki = (last_update: string, over = {}) => app('alice', 'market', 'wiki', { last_update, ...over });
const blog = app('alice', 'market', 'blog');

describe('answers of apps: one content, one ETag', () => {
  it('two replicas holding the same rows, seen at different times, tag every answer of apps alike', async () => {
    // A saw the row first at 10:00; the market touched it at 10:07 without changing it: A keeps 10:00
    const a = await replica([wiki(T_SEEN), blog], [wiki(T_TOUCHED), blog]);
    // B started after the touch
    const b = await replica([wiki(T_TOUCHED), blog]);
    const checked: string[] = [];
    for (const target of TARGETS) {
      const [ra, rb] = [await a.send(target), await b.send(target)];
      expect([ra.status, rb.status], target).toEqual([200, 200]);
      // the answers holding wiki hold it as each replica saw it: different last_update, one tag
      if (ra.body.includes('"wiki"')) {
        checked.push(target);
        expect(ra.body, target).toContain(T_SEEN);
        expect(rb.body, target).toContain(T_TOUCHED);
      }
      expect(rb.headers.etag, target).toBe(ra.headers.etag);
      // 128 bits of the answer, 128 of the query: as docs/api.md, ETags and 304, says of every tag
      expect(ra.headers.etag, target).toMatch(/^W\/"[\w-]{22}\.[\w-]{22}"$/);
      expect((await b.send(target, 'GET', { 'if-none-match': String(ra.headers.etag) })).status, target).toBe(304);
    }
    // the case this is about was there to check, in every answer that holds wiki
    expect(checked).toEqual(WITH_WIKI);
  });

  it('a restarted store tags them as before; other content gets another tag', async () => {
    const h = await replica([wiki(T_SEEN), blog], [wiki(T_TOUCHED), blog]);
    const before = new Map<string, string>();
    for (const target of TARGETS) before.set(target, String((await h.send(target)).headers.etag));
    h.restartStore();
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [wiki(T_TOUCHED), blog] }]);
    await h.settled(true);
    for (const target of TARGETS) expect(String((await h.send(target)).headers.etag), target).toBe(before.get(target));
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [wiki(T_TOUCHED, { stage: 'stopped', health: 'unhealthy' }), blog] }]);
    await h.settled(true);
    const changed: string[] = [];
    for (const target of TARGETS) {
      const r = await h.send(target);
      // every answer holding wiki changes its tag; the first page of one app holds blog alone: its tag stays
      if (r.body.includes('"wiki"')) {
        changed.push(target);
        expect(String(r.headers.etag), target).not.toBe(before.get(target));
      } else expect(String(r.headers.etag), target).toBe(before.get(target));
    }
    // some answers held wiki: the tag change was checked, not skipped
    expect(changed).toEqual(WITH_WIKI);
  });

  it('a filtered answer keeps its tag while other users\' apps move; the same rows in another order read alike', async () => {
    const chat = (over = {}) => app('bob', 'market', 'chat', over);
    // the same rows, passed in opposite orders: the indexes hold them in the order each store saw them
    const a = await replica([wiki(T_SEEN), blog, chat()]);
    const b = await replica([chat(), blog, wiki(T_SEEN)]);
    for (const target of [`${API}/state?user_id=alice`, `${API}/users/alice/apps`, `${API}/overview`]) {
      const [ra, rb] = [await a.send(target), await b.send(target)];
      expect(rb.headers.etag, target).toBe(ra.headers.etag);
      const data = (body: string) => JSON.parse(body).data;
      const order = (d: unknown) => (Array.isArray(d) ? d.map((x) => x.app_name) : Object.keys((d as { app_states?: object }).app_states ?? {}));
      expect(order(data(rb.body)), target).toEqual(order(data(ra.body)));
    }
    const before = new Map<string, string>();
    const targets = [`${API}/state?user_id=alice`, `${API}/state`];
    for (const target of targets) before.set(target, String((await a.send(target)).headers.etag));
    // bob's app says something new, in a way no count shows: alice's answer stays as it was
    a.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [wiki(T_SEEN), blog, chat({ stage_detail: 'pulling image' })] }]);
    await a.settled(true);
    const conditional = async (target: string) => (await a.send(target, 'GET', { 'if-none-match': before.get(target)! })).status;
    expect(await conditional(`${API}/state?user_id=alice`)).toBe(304);
    // (the whole state did change: the pass was seen)
    expect(await conditional(`${API}/state`)).toBe(200);
  });
});
