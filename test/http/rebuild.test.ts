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
import { eventually, fake, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { openStream } from '../helpers/sse.ts';
import { outcome, pass } from '../helpers/store-fixtures.ts';
import { app, startHarness, task, type Answer } from './store-harness.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API } from '../reliability/helpers.ts';


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
    // and failures of the other: the run the old store's death cut short (reported by the supervisor), then a
    // failed pass; neither is a pass of its data, so the store stays unready
    fresh.reportOutcome('tasks', outcome({ ok: false, error: 'store.attachDeltaPort: no answer', finished_at: new Date().toISOString() }));
    fresh.receive(pass('tasks', [], { ok: false, error: 'read failed', finished_at: new Date().toISOString() }, 1000));
    await h.delivered();
    expect(fresh.store.ready).toBe(false);
    // an HTTP thread started during the rebuild (the supervisor restarted it) holds no complete bytes: it answers
    // nothing from the new store, the unfiltered /state included
    const late = await h.twin({});
    for (const target of [`${API}/state`, `${API}/state?user_id=alice`, `${API}/apps?limit=5`, `${API}/events`]) {
      expectRebuilding(await late.send(target));
      expectRebuilding(await late.send(target, 'HEAD'), true);
    }
    expect((await late.send('/readyz')).status).toBe(503);

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
    // the HTTP thread started during the rebuild serves the new store as the first one does
    expect((await late.send(`${API}/state`)).body).toBe(now.body);
    expect((await late.send(`${API}/state?user_id=alice`)).body).toBe(QUERIES[0].fresh(h.store.store));
    // the connected client's stream ended (a new store's event ids mean nothing to it); a new client starts
    await eventually(async () => expect(stream.ended).toBe(true), LIVENESS_MS);
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

  it('serves the newest version the old store published, not the one a reader last fetched: /state never goes back in time', async () => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t-wiki', 'wiki', 'alice')] }]);
    await h.settled(true);
    // a poller of the whole state reads this version (polling: twice), then the store publishes another before
    // anyone reads it
    expect((await h.send(`${API}/state`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    expect((await h.send(`${API}/state`)).status).toBe(200);
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki'), app('alice', 'market', 'blog')] }]);
    await h.settled(true);
    const newest = h.store.store.version;
    // the HTTP thread fetches it as it comes, with no reader asking (asking would fetch it): wait for that
    const held = () => (h.http as unknown as { current: { version: number; body: Uint8Array | null } | null }).current;
    await eventually(async () => expect(held()?.version === newest && held()?.body !== null).toBe(true), LIVENESS_MS, 20);
    h.restartStore();
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]);
    await h.delivered();
    const during = await h.send(`${API}/state`);
    expect(during.status).toBe(200);
    expect(JSON.parse(during.body).data.version).toBe(newest);
    expect(Object.keys(JSON.parse(during.body).data.app_states).sort()).toEqual(['alice:market:blog', 'alice:market:wiki']);
  });
});

describe('a store thread killed under a running sidecar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mr-rebuild-'));
  const apps = join(dir, 'apps.json');
  const both = JSON.stringify([{ op: 'replace', domain: 'app_states', items: ['wiki', 'blog'].map((a) => app('alice', 'market', a)) }]);
  writeFileSync(apps, both);
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    // a restarted store counts a failing source as reported after 3 failed runs in a row or two deadlines
    // (source-book.ts, supervisor.ts): with runs half the liveness bound apart and that bound as the deadline,
    // app_flow's first failure on the new store comes at once and the third 30 s later, after the questions below
    sc = await startInProcess([
      fake('tasks', { mode: 'passes', count: 20 }),
      fake('app_flow', { mode: 'file', file: apps }),
    ], { intervalMs: LIVENESS_MS / 2, deadlineMs: LIVENESS_MS });
    await untilReady(sc.base);
  }, 3 * LIVENESS_MS);
  afterAll(async () => {
    await sc?.sup.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Answers of the apps known before the restart: none may be a 200 with fewer of them, or a 404 for one.
   * Also counts the answers by status, so the test can tell that the watch saw anything at all.
   */
  async function watchApps(stop: () => boolean): Promise<{ wrong: string[]; seen: Record<number, number> }> {
    const wrong: string[] = [];
    const seen: Record<number, number> = {};
    const count = (body: string): number => {
      const data = (JSON.parse(body) as { data: { app_states?: Record<string, { user_id: string }>; items?: unknown[] } }).data;
      if (data.items) return data.items.length;
      return Object.values(data.app_states!).filter((a) => a.user_id === 'alice').length;
    };
    while (!stop()) {
      for (const t of [`${API}/state`, `${API}/state?user_id=alice`, `${API}/apps?user_id=alice`, `${API}/apps/alice/market/blog`]) {
        let answer: { status: number; body: string };
        try {
          const r = await fetch(sc.base + t, { signal: AbortSignal.timeout(LIVENESS_MS) });
          answer = { status: r.status, body: await r.text() };
        } catch {
          // the HTTP thread being replaced: no answer is no wrong answer (a body that is not JSON is one)
          continue;
        }
        seen[answer.status] = (seen[answer.status] ?? 0) + 1;
        if (answer.status === 404 || (answer.status === 200 && !t.includes('/blog') && count(answer.body) < 2)) wrong.push(`${t}: ${answer.status} ${answer.body.slice(0, 200)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return { wrong, seen };
  }

  it('answers queries 503 (rebuilding) and /state from the last snapshot until a good pass of every source, also from a new HTTP thread', async () => {
    const restarts = sc.sup.storeRestarts;
    // a reader of the whole state: the HTTP thread holds that body (none is rendered for its own sake)
    expect((await fetch(`${sc.base}${API}/state`)).status).toBe(200);
    type Sources = { data: { fresh_as_of: string | null; sources: Record<string, { ok: boolean; last_attempt: string; last_success: string | null; consecutive_failures: number } | undefined> } };
    const before = (await (await fetch(`${sc.base}${API}/sources`)).json()) as Sources;
    const lastGoodAppFlow = before.data.sources.app_flow!.last_success;
    expect(lastGoodAppFlow).not.toBeNull();
    let done = false;
    const watched = watchApps(() => done);
    // app_flow's database goes away: its runs fail from now on, the first on the new store
    writeFileSync(apps, JSON.stringify({ throw: 'database unavailable' }));
    const killedAt = new Date().toISOString();
    await sc.sup.threads().store.terminate();
    // until the supervisor replaced the store, queries may wait for the dead one; then they say "rebuilding"
    await eventually(async () => {
      const r = await fetch(`${sc.base}${API}/state?user_id=alice`, { signal: AbortSignal.timeout(LIVENESS_MS) });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { message: string }).message).toBe(REBUILDING);
    }, LIVENESS_MS, 50);
    expect(sc.sup.storeRestarts).toBeGreaterThan(restarts);
    // the new store has had a failed app_flow run and a good tasks pass: not ready on their strength
    await eventually(async () => {
      const s = (await (await fetch(`${sc.base}${API}/sources`)).json()) as Sources;
      expect(s.data.sources.app_flow?.ok).toBe(false);
      expect(s.data.sources.app_flow!.last_attempt > killedAt).toBe(true);
      expect(s.data.sources.tasks?.ok).toBe(true);
      // the restart lost no freshness: app_flow's last success is the one from before, its failures go on
      expect(s.data.sources.app_flow!.last_success).toBe(lastGoodAppFlow);
      expect(s.data.sources.app_flow!.consecutive_failures).toBeGreaterThanOrEqual(1);
      expect(s.data.fresh_as_of).not.toBeNull();
      // and /metrics says the same (its gauges carried over too)
      const metrics = await (await fetch(`${sc.base}/metrics`)).text();
      const gauge = (name: string) => Number(new RegExp(`^${name}\\{source="app_flow"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
      expect(gauge('market_runtime_collection_last_success_timestamp_seconds')).toBe(Date.parse(lastGoodAppFlow!) / 1000);
      expect(gauge('market_runtime_collection_consecutive_failures')).toBeGreaterThanOrEqual(1);
    }, LIVENESS_MS);
    const targets = [
      `${API}/state?user_id=alice`, `${API}/apps/alice/market/wiki`, `${API}/apps/alice/market/wiki/history`, `${API}/tasks/p1-t1`,
      `${API}/tasks/p1-t1/history`, `${API}/tasks?app_name=app1`,
      `${API}/users/alice/apps`, `${API}/users/user1/tasks`, `${API}/apps?user_id=alice&limit=1`, `${API}/overview`,
      `${API}/events`, `${API}/events?user_id=alice`,
    ];
    const ask = () => Promise.all(targets.map(async (t) => {
      const r = await fetch(sc.base + t, { signal: AbortSignal.timeout(LIVENESS_MS) });
      // a stream that opened never ends: its status is the answer
      const open = r.status === 200 && t.includes('/events');
      if (open) await r.body?.cancel();
      return { t, status: r.status, retry: r.headers.get('retry-after'), body: open ? '' : await r.text() };
    }));
    const expectAllRebuilding = (answers: Awaited<ReturnType<typeof ask>>) => {
      for (const a of answers) {
        expect(a.status, a.t).toBe(503);
        expect(a.retry, a.t).not.toBeNull();
        expect(JSON.parse(a.body), a.t).toEqual({ success: false, message: REBUILDING, data: null });
      }
    };
    expectAllRebuilding(await ask());
    const whole = await fetch(`${sc.base}${API}/state`);
    const wholeBody = await whole.text();
    expect((await fetch(`${sc.base}/readyz`)).status).toBe(503);
    // the last complete snapshot: both apps, held still while the new store publishes a version per tasks pass
    expect(whole.status).toBe(200);
    expect(Object.keys((JSON.parse(wholeBody) as { data: { app_states: object } }).data.app_states)).toHaveLength(2);
    expect(await (await fetch(`${sc.base}${API}/state`)).text()).toBe(wholeBody);

    // the HTTP thread dies during the rebuild: its replacement holds no complete bytes, so it answers nothing
    // from the rebuilding store, the unfiltered /state included
    const httpRestarts = sc.sup.httpRestarts;
    expect(sc.sup.kill('http')).toBe(true);
    await eventually(async () => {
      expect(sc.sup.httpRestarts).toBeGreaterThan(httpRestarts);
      const r = await fetch(`${sc.base}${API}/state`, { signal: AbortSignal.timeout(LIVENESS_MS) });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { message: string }).message).toBe(REBUILDING);
    }, LIVENESS_MS, 50);
    expectAllRebuilding(await ask());
    expect((await fetch(`${sc.base}/readyz`)).status).toBe(503);

    // app_flow's database is back: its first good pass makes the new store ready, and everything answers from it
    // (that run is up to two intervals away: runs start on the supervisor's ticks)
    writeFileSync(apps, both);
    await untilReady(sc.base, 2 * LIVENESS_MS);
    for (const t of targets.filter((x) => !x.includes('/events'))) {
      const r = await fetch(sc.base + t);
      expect([200, 404], t).toContain(r.status);
    }
    const after = (await (await fetch(`${sc.base}${API}/state`)).json()) as { data: { app_states: object } };
    expect(Object.keys(after.data.app_states).sort()).toEqual(['alice:market:blog', 'alice:market:wiki']);
    done = true;
    // at no time a 200 with fewer apps than were known, or a 404 for one of them
    const { wrong, seen } = await watched;
    expect(wrong).toEqual([]);
    // and the watch saw the rebuild: answers from before or after it (200) and during it (503)
    expect(seen[200] ?? 0, JSON.stringify(seen)).toBeGreaterThan(0);
    expect(seen[503] ?? 0, JSON.stringify(seen)).toBeGreaterThan(0);
  }, 6 * LIVENESS_MS);
});
