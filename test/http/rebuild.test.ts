/**
 * Issue 18.3: while a restarted store rebuilds the state, no answer comes from it. The unfiltered /state
 * keeps serving the last complete bytes (same ETag, 304 to it); filtered /state, every partial query and
 * new change-stream clients get 503 with Retry-After and an envelope that says why, until the new store
 * holds a pass of every collector; then everything answers from the new store, never from what was
 * cached or remembered for the old one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorBody } from '../../src/http/envelope.ts';
import { REBUILDING } from '../../src/http/rebuilding.ts';
import { envelopeJson, OK_MESSAGE } from '../../src/model/index.ts';
import { encodeCursor } from '../../src/store/page-cursor.ts';
import { eventually, fake, LIVENESS_MS, startInProcess } from '../helpers/sidecar.ts';
import { openStream } from '../helpers/sse.ts';
import { app, startHarness, task, type Answer } from './store-harness.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const API = '/api/v2/runtime';

/** One target per query kind (and the filtered stream), with how the store answers it. */
const QUERIES = [
  { target: `${API}/state?user_id=alice`, fresh: (s: Store) => envelopeJson(true, OK_MESSAGE, s.state({ user_id: 'alice' })) },
  { target: `/app-store${API}/state?app_name=blog&task_status=running`, fresh: (s: Store) => envelopeJson(true, OK_MESSAGE, s.state({ app_name: 'blog', task_status: 'running' })) },
  { target: `${API}/apps/alice/market/blog`, fresh: (s: Store) => json(s.app('alice', 'market', 'blog'), 'app not found') },
  { target: `${API}/apps/alice/market/blog/history`, fresh: (s: Store) => json(s.history('app_states', 'alice:market:blog'), 'no history of this app') },
  { target: `${API}/tasks/t-blog`, fresh: (s: Store) => json(s.task('t-blog'), 'task not found') },
  { target: `${API}/tasks/t-blog/history`, fresh: (s: Store) => json(s.history('tasks', 't-blog'), 'no history of this task') },
  { target: `${API}/tasks?app_name=blog`, fresh: (s: Store) => json(s.tasksBy({ app_name: 'blog' }), '') },
  { target: `${API}/users/alice/apps`, fresh: (s: Store) => json(s.appsByUser('alice'), '') },
  { target: `${API}/users/alice/tasks`, fresh: (s: Store) => json(s.tasksBy({ user_id: 'alice' }), '') },
  // pages of apps (the first, and one after a cursor with the Chart Repo beside it) and the overview
  { target: `${API}/apps?user_id=alice&limit=1`, fresh: (s: Store) => json(s.appsPage({ user_id: 'alice' }, 1, null), '') },
  {
    target: `/app-store${API}/apps?limit=1&cursor=${encodeCursor('alice:market:blog')}&include=chart_repo`,
    fresh: (s: Store) => json(s.appsPage({}, 1, 'alice:market:blog', true), ''),
  },
  { target: `${API}/overview`, fresh: (s: Store) => envelopeJson(true, OK_MESSAGE, s.overview()) },
];
type Store = Awaited<ReturnType<typeof startHarness>>['store']['store'];

function json(data: string | null, notFound: string): string {
  return data === null ? JSON.stringify(errorBody(notFound)) : envelopeJson(true, 'success', data);
}

function expectRebuilding(a: Answer, head = false): void {
  expect(a.status).toBe(503);
  expect(Number(a.headers['retry-after'])).toBeGreaterThan(0);
  if (head) expect(a.body).toBe('');
  else expect(JSON.parse(a.body)).toEqual({ success: false, message: REBUILDING, data: null });
}

describe('a store restart, with the HTTP thread\'s real code and real store actors', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow', 'tasks']);
  });
  afterAll(() => h?.close());

  it('serves the last complete snapshot and answers every query and new stream client 503 until the new store is ready', async () => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki'), app('alice', 'market', 'blog')] }]);
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-blog', 'blog', 'alice', { status: 'running' }), task('t-wiki', 'wiki', 'alice')] }]);
    await h.settled(true);
    // a few more versions than the new store will have when it is ready: version numbers will repeat
    for (let i = 0; i < 4; i++) {
      h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-blog', 'blog', 'alice', { status: 'running', result: `old ${i}` })] }]);
      await h.settled(true);
    }
    const oldVersion = h.store.store.version;
    const old = await h.send(`${API}/state`);
    expect(old.status).toBe(200);
    // every query answered (and repeated: cached, and remembered by the raw path) from the complete store
    const oldAnswers = new Map<string, Answer>();
    for (const q of QUERIES) {
      const first = await h.send(q.target);
      expect(first.body, q.target).toBe(q.fresh(h.store.store));
      expect((await h.send(q.target)).body).toBe(first.body);
      oldAnswers.set(q.target, first);
    }
    const stream = await openStream(`http://127.0.0.1:${h.port}${API}/events`);
    await stream.next((e) => e.event === 'snapshot');

    // the restart: the new store gets a pass of one collector of two, and publishes that (not ready)
    const fresh = h.restartStore();
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    await h.delivered();
    expect(fresh.store.ready).toBe(false);

    // the unfiltered /state: the last complete bytes, same tag, 304 to it, by GET and HEAD on both base paths
    for (const target of [`${API}/state`, `/app-store${API}/state`]) {
      const again = await h.send(target);
      expect(again.status).toBe(200);
      expect(again.body).toBe(old.body);
      expect(again.headers.etag).toBe(old.headers.etag);
      expect((await h.send(target, 'HEAD')).headers['content-length']).toBe(String(Buffer.byteLength(old.body)));
      expect((await h.send(target, 'GET', { 'If-None-Match': old.headers.etag as string })).status).toBe(304);
    }
    expect((await h.send('/readyz')).status).toBe(503);
    // every query kind: 503, first ask and repeat (nothing cached or remembered for the old store serves),
    // conditional too (the tag named the old store's answer), and HEAD
    for (const q of QUERIES) {
      expectRebuilding(await h.send(q.target));
      expectRebuilding(await h.send(q.target));
      expectRebuilding(await h.send(q.target, 'GET', { 'If-None-Match': oldAnswers.get(q.target)!.headers.etag as string }));
      expectRebuilding(await h.send(q.target, 'HEAD'), true);
    }
    // new stream clients, unfiltered and filtered, GET and HEAD
    for (const target of [`${API}/events`, `${API}/events?user_id=alice`]) {
      expectRebuilding(await h.send(target));
      expectRebuilding(await h.send(target, 'HEAD'), true);
    }
    // a client already connected keeps its stream, with no event from the rebuilding store
    const seen = stream.events.length;
    expect(stream.ended).toBe(false);

    // the new store gets its last missing pass: ready
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-wiki', 'wiki', 'alice')] }]);
    await h.settled(true);
    expect(stream.events.length).toBe(seen);
    // fewer versions than the old store: bring it to the old store's version number, so a cache keyed by
    // version alone would answer from the old store
    while (h.store.store.version < oldVersion) {
      h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-wiki', 'wiki', 'alice', { result: `new ${h.store.store.version}` })] }]);
      await h.settled(true);
    }
    expect(h.store.store.version).toBe(oldVersion);
    const now = await h.send(`${API}/state`);
    expect(now.body).not.toBe(old.body);
    expect(now.headers.etag).not.toBe(old.headers.etag);
    expect(JSON.parse(now.body).data.app_states).not.toHaveProperty(['alice:market:blog']);
    for (const q of QUERIES) {
      for (let i = 0; i < 2; i++) {
        const a = await h.send(q.target);
        expect(a.body, q.target).toBe(q.fresh(h.store.store));
        expect(a.body, q.target).not.toBe(oldAnswers.get(q.target)!.body);
        expect(a.headers.etag ?? null).not.toBe(oldAnswers.get(q.target)!.headers.etag);
      }
    }
    // the connected client's stream ended (a new store's event ids mean nothing to it); a new client starts
    await eventually(async () => expect(stream.ended).toBe(true), 5000);
    await stream.close();
    const again = await openStream(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`);
    const snap = await again.next((e) => e.event === 'snapshot');
    expect(Object.keys(JSON.parse(snap.data).app_states)).toEqual(['alice:market:wiki']);
    await again.close();
  });
});

describe('a store restart before any reader asked for the whole state', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow', 'tasks']);
  });
  afterAll(() => h?.close());

  it('answers the unfiltered /state 503 (rebuilding) too: no body is rendered and held for its own sake', async () => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-wiki', 'wiki', 'alice')] }]);
    await h.settled(true);
    expect((await h.send(`${API}/state?user_id=alice`)).status).toBe(200);
    h.restartStore();
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    await h.delivered();
    for (const target of [`${API}/state`, `/app-store${API}/state`, `${API}/events`]) {
      expectRebuilding(await h.send(target));
      expectRebuilding(await h.send(target, 'HEAD'), true);
    }
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-wiki', 'wiki', 'alice')] }]);
    await h.settled(true);
    const now = await h.send(`${API}/state`);
    expect(now.status).toBe(200);
    expect(Object.keys(JSON.parse(now.body).data.app_states)).toEqual(['alice:market:wiki']);
  });
});

describe('a store thread killed under a running sidecar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mr-rebuild-'));
  const apps = join(dir, 'apps.json');
  /** while this file exists, app_flow's runs wait: the rebuild lasts until the test has asked its questions */
  const hold = join(dir, 'hold');
  writeFileSync(apps, JSON.stringify([{ op: 'replace', domain: 'app_states', items: ['wiki', 'blog'].map((a) => app('alice', 'market', a)) }]));
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 20 }),
      fake('app_flow', { mode: 'file', file: apps, holdFile: hold }),
      // a deadline far past anything the test waits for: a held run must not end (as a failed first pass,
      // which would make the new store ready) before the test lets it go, however loaded the machine
    ], { intervalMs: 200, deadlineMs: 10 * LIVENESS_MS });
    await eventually(async () => expect((await fetch(`${sc.base}/readyz`)).status).toBe(200), 60_000);
  }, 90_000);
  afterAll(async () => {
    rmSync(hold, { force: true });
    await sc?.sup.stop();
  });

  it('answers queries 503 (rebuilding) and /state from the last snapshot until the new store is ready, then from it', async () => {
    const restarts = sc.sup.storeRestarts;
    // a reader of the whole state: the HTTP thread holds that body (none is rendered for its own sake)
    expect((await fetch(`${sc.base}${API}/state`)).status).toBe(200);
    // from here on app_flow's runs wait: the new store gets no app_flow pass until the test lets it go, so the
    // rebuild lasts as long as the questions below take, not a fixed time a loaded machine might overrun
    writeFileSync(hold, '');
    await sc.sup.threads().store.terminate();
    // until the supervisor replaced the store, queries may wait for the dead one; then they say "rebuilding"
    await eventually(async () => {
      const r = await fetch(`${sc.base}${API}/state?user_id=alice`, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { message: string }).message).toBe(REBUILDING);
    }, LIVENESS_MS, 50);
    expect(sc.sup.storeRestarts).toBeGreaterThan(restarts);
    const targets = [
      `${API}/state?user_id=alice`, `${API}/apps/alice/market/wiki`, `${API}/apps/alice/market/wiki/history`, `${API}/tasks/p1-t1`,
      `${API}/tasks/p1-t1/history`, `${API}/tasks?app_name=app1`,
      `${API}/users/alice/apps`, `${API}/users/user1/tasks`, `${API}/apps?user_id=alice&limit=1`, `${API}/overview`,
      `${API}/events`, `${API}/events?user_id=alice`,
    ];
    const answers = await Promise.all(targets.map(async (t) => {
      const r = await fetch(sc.base + t, { signal: AbortSignal.timeout(LIVENESS_MS) });
      return { t, status: r.status, retry: r.headers.get('retry-after'), body: await r.text() };
    }));
    const whole = await fetch(`${sc.base}${API}/state`);
    const wholeBody = await whole.text();
    const ready = await fetch(`${sc.base}/readyz`);
    // still inside the rebuild (the held collector has not reported to the new store)
    expect(ready.status).toBe(503);
    for (const a of answers) {
      expect(a.status, a.t).toBe(503);
      expect(a.retry, a.t).not.toBeNull();
      expect(JSON.parse(a.body), a.t).toEqual({ success: false, message: REBUILDING, data: null });
    }
    // the last complete snapshot: both apps (the new store has had no app_flow pass yet), held still while
    // the new store publishes a version per tasks pass
    expect(whole.status).toBe(200);
    expect(Object.keys((JSON.parse(wholeBody) as { data: { app_states: object } }).data.app_states)).toHaveLength(2);
    expect(await (await fetch(`${sc.base}${API}/state`)).text()).toBe(wholeBody);
    // then (app_flow let go): ready, and every query answered from the new store, as its unfiltered /state is
    rmSync(hold);
    await eventually(async () => expect((await fetch(`${sc.base}/readyz`)).status).toBe(200), 60_000);
    for (const t of targets.filter((x) => !x.includes('/events'))) {
      const r = await fetch(sc.base + t);
      expect([200, 404], t).toContain(r.status);
    }
    await eventually(async () => {
      const whole = (await (await fetch(`${sc.base}${API}/state`)).json()) as { data: { app_states: Record<string, { user_id: string }> } };
      const filtered = (await (await fetch(`${sc.base}${API}/state?user_id=alice`)).json()) as { data: { app_states: object } };
      const alice = Object.keys(whole.data.app_states).filter((k) => whole.data.app_states[k].user_id === 'alice');
      // (whether the new store already holds both apps depends on how the supervisor brings lost passes back:
      // the in-process test above checks contents; this checks both answers come from the same store)
      expect(Object.keys(filtered.data.app_states).sort()).toEqual(alice.sort());
    }, 20_000);
  }, 150_000);
});
