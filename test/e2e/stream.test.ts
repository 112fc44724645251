import { connect } from 'node:net';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fake, LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { expectGoWireEvents } from '../helpers/go-wire.ts';
import { openStream } from '../helpers/sse.ts';

const dir = mkdtempSync(join(tmpdir(), 'mr-stream-'));
const file = join(dir, 'steps.json');
const T0 = '2026-11-25T10:00:00.000Z';

function writeTasks(tasks: Array<{ id: string; status: string; user: string; result?: string }>) {
  writeFileSync(file, JSON.stringify([{ op: 'replace', domain: 'tasks', items: tasks.map((t) => ({
    task_id: t.id, type: 'install', status: t.status, app_name: 'firefox', user_id: t.user, created_at: T0,
    ...(t.result === undefined ? {} : { result: t.result }),
  })) }]));
}

describe('GET …/events: the change stream', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    writeTasks([{ id: 't1', status: 'running', user: 'alice' }, { id: 't2', status: 'pending', user: 'bob' }]);
    sc = await startInProcess([fake('tasks', { mode: 'file', file })], { intervalMs: 100 });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('starts with a snapshot, then sends each version as one change event', async () => {
    const s = await openStream(`${sc.base}/api/v2/runtime/events`);
    expect(s.res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const snap = await s.next((e) => e.event === 'snapshot');
    expect(Object.keys(JSON.parse(snap.data).tasks).sort()).toEqual(['t1', 't2']);
    writeTasks([{ id: 't1', status: 'completed', user: 'alice' }, { id: 't3', status: 'pending', user: 'bob' }]);
    const change = await s.next((e) => e.event === 'change' && JSON.parse(e.data).upserts.tasks?.t3 !== undefined);
    const data = JSON.parse(change.data);
    expect(change.id).toMatch(/^\w+-\d+\.[\w-]{22}$/);
    expect(data.upserts.tasks.t1.status).toBe('completed');
    expect(data.removed.tasks).toEqual(['t2']);
    expect(data.summary).toMatchObject({ total_tasks: 2, completed_tasks: 1, pending_tasks: 1 });
    expectGoWireEvents(s.events);
    await s.close();
  });

  it('sends only matching changes to a filtered client, with its own summary', async () => {
    writeTasks([{ id: 'a1', status: 'running', user: 'alice' }, { id: 'b1', status: 'running', user: 'bob' }]);
    await eventually(async () => expect(Object.keys((await (await sc.get('/api/v2/runtime/state')).json()).data.tasks)).toContain('b1'));
    const s = await openStream(`${sc.base}/api/v2/runtime/events?user_id=bob`);
    const snap = JSON.parse((await s.next((e) => e.event === 'snapshot')).data);
    expect(Object.keys(snap.tasks)).toEqual(['b1']);
    writeTasks([{ id: 'a1', status: 'failed', user: 'alice' }, { id: 'b1', status: 'completed', user: 'bob' }, { id: 'b2', status: 'pending', user: 'bob' }]);
    const change = await s.next((e) => e.event === 'change' && JSON.parse(e.data).upserts.tasks?.b2 !== undefined);
    const data = JSON.parse(change.data);
    expect(Object.keys(data.upserts.tasks).sort()).toEqual(['b1', 'b2']);
    expect(data.summary).toMatchObject({ total_tasks: 2, completed_tasks: 1, pending_tasks: 1, failed_tasks: 0 });
    // alice's task changed too, but this client never hears of it
    expect(s.events.some((e) => e.data.includes('"a1"'))).toBe(false);
    expectGoWireEvents(s.events);
    await s.close();
  });

  it('resumes with Last-Event-ID: the missed changes, no snapshot', async () => {
    const s1 = await openStream(`${sc.base}/api/v2/runtime/events`);
    const snap = await s1.next((e) => e.event === 'snapshot');
    await s1.close();
    writeTasks([{ id: 'r1', status: 'running', user: 'carol' }]);
    await eventually(async () => expect(Object.keys((await (await sc.get('/api/v2/runtime/state')).json()).data.tasks)).toEqual(['r1']));
    const s2 = await openStream(`${sc.base}/api/v2/runtime/events`, { 'Last-Event-ID': snap.id! });
    const missed = await s2.next((e) => e.event === 'change' && JSON.parse(e.data).upserts.tasks?.r1 !== undefined);
    expect(missed).toBeDefined();
    expect(s2.events.some((e) => e.event === 'snapshot')).toBe(false);
    expectGoWireEvents([...s1.events, ...s2.events]);
    await s2.close();
    // the query's last_event_id, beside an empty Last-Event-ID header (which names no event), resumes too
    const s3 = await openStream(`${sc.base}/api/v2/runtime/events?last_event_id=${encodeURIComponent(snap.id!)}`, { 'Last-Event-ID': '' });
    await s3.next((e) => e.event === 'change' && JSON.parse(e.data).upserts.tasks?.r1 !== undefined);
    expect(s3.events.some((e) => e.event === 'snapshot')).toBe(false);
    await s3.close();
  });

  it('a filtered resume replays only the versions its filter sees a change in, as the live stream sends them', async () => {
    writeTasks([{ id: 'f1', status: 'running', user: 'dave' }, { id: 'g1', status: 'running', user: 'erin' }]);
    await eventually(async () => expect(Object.keys((await (await sc.get('/api/v2/runtime/state')).json()).data.tasks).sort()).toEqual(['f1', 'g1']));
    const s1 = await openStream(`${sc.base}/api/v2/runtime/events?user_id=dave`);
    const snap = await s1.next((e) => e.event === 'snapshot');
    await s1.close();
    // three versions erin's task moves in, then one dave's does
    for (const status of ['pending', 'running', 'failed']) {
      writeTasks([{ id: 'f1', status: 'running', user: 'dave' }, { id: 'g1', status, user: 'erin' }]);
      await eventually(async () => expect((await (await sc.get('/api/v2/runtime/tasks/g1')).json()).data.status).toBe(status));
    }
    writeTasks([{ id: 'f1', status: 'completed', user: 'dave' }, { id: 'g1', status: 'failed', user: 'erin' }]);
    await eventually(async () => expect((await (await sc.get('/api/v2/runtime/tasks/f1')).json()).data.status).toBe('completed'));
    const s2 = await openStream(`${sc.base}/api/v2/runtime/events?user_id=dave`, { 'Last-Event-ID': snap.id! });
    await s2.next((e) => e.event === 'change' && JSON.parse(e.data).upserts.tasks?.f1 !== undefined);
    const changes = s2.events.filter((e) => e.event === 'change');
    expect(changes.length).toBe(1);
    await s2.close();
  });

  it('a filtered resume: each replayed event carries the summary at its version, as /state with the filter said then', async () => {
    writeTasks([{ id: 'h1', status: 'running', user: 'dave' }, { id: 'h2', status: 'running', user: 'erin' }]);
    await eventually(async () => expect(Object.keys((await (await sc.get('/api/v2/runtime/state')).json()).data.tasks).sort()).toEqual(['h1', 'h2']));
    const url = `${sc.base}/api/v2/runtime/events?task_status=running`;
    const s1 = await openStream(url);
    const snap = await s1.next((e) => e.event === 'snapshot');
    await s1.close();
    const said = new Map<number, unknown>();
    for (const [h1, h2] of [['running', 'failed'], ['completed', 'failed']]) {
      writeTasks([{ id: 'h1', status: h1!, user: 'dave' }, { id: 'h2', status: h2!, user: 'erin' }]);
      await eventually(async () => expect((await (await sc.get('/api/v2/runtime/tasks/h1')).json()).data.status).toBe(h1));
      await eventually(async () => expect((await (await sc.get('/api/v2/runtime/tasks/h2')).json()).data.status).toBe(h2));
      const now = (await (await sc.get('/api/v2/runtime/state?task_status=running')).json()).data;
      said.set(now.version, now.summary);
    }
    const s2 = await openStream(url, { 'Last-Event-ID': snap.id! });
    await s2.next((e) => e.event === 'change' && JSON.parse(e.data).removed.tasks?.includes('h1'));
    const replayed = s2.events.filter((e) => e.event === 'change').map((e) => JSON.parse(e.data) as { version: number; summary: { running_tasks: number } });
    expect(replayed.map((e) => e.summary.running_tasks)).toEqual([1, 0]);
    // none of them is the version the client had (its id is `epoch-version.variant`)
    const had = Number(/-(\d+)/.exec(snap.id!)![1]);
    for (const e of replayed) expect(e.version).toBeGreaterThan(had);
    // (other sources may mint versions between a write and the read of /state: the ones both saw are compared, and there are some)
    const both = replayed.filter((e) => said.has(e.version));
    expect(both.length).toBeGreaterThan(0);
    for (const e of both) expect(e.summary, `version ${e.version}`).toEqual(said.get(e.version));
    await s2.close();
  });

  it('a resume too old (or from another store epoch) gets a snapshot first', async () => {
    const s = await openStream(`${sc.base}/api/v2/runtime/events`, { 'Last-Event-ID': 'deadbeef-1' });
    const first = await s.next(() => true);
    expect(first.event).toBe('snapshot');
    expectGoWireEvents(s.events);
    await s.close();
  });

  it('a version too large to follow item by item (> 2 MiB of changes) ends the stream: the client resumes from a snapshot; summary clients hear of it', async () => {
    const s = await openStream(`${sc.base}/api/v2/runtime/events`);
    const snap = await s.next((e) => e.event === 'snapshot');
    const summary = await openStream(`${sc.base}/api/v2/runtime/events?view=summary`);
    await summary.next((e) => e.event === 'snapshot');
    // 400 tasks of ~6 KB each: the whole market moved at once (a store's first pass looks like this)
    writeTasks(Array.from({ length: 400 }, (_, i) => ({ id: `big${i}`, status: 'running', user: 'dave', result: `${i} `.padEnd(6000, 'x') })));
    await eventually(async () => expect(s.ended).toBe(true));
    expect(s.events.some((e) => e.event === 'change' && e.data.includes('big1'))).toBe(false);
    await summary.next((e) => e.event === 'change' && JSON.parse(e.data).summary.total_tasks === 400);
    expect(summary.ended).toBe(false);
    const again = await openStream(`${sc.base}/api/v2/runtime/events`, { 'Last-Event-ID': snap.id! });
    const first = await again.next(() => true);
    expect(first.event).toBe('snapshot');
    expect(Object.keys(JSON.parse(first.data).tasks)).toHaveLength(400);
    expectGoWireEvents([...s.events, ...summary.events, ...again.events]);
    await Promise.all([s.close(), summary.close(), again.close()]);
  });

  it('rejects a bad filter with 400', async () => {
    const res = await sc.get('/api/v2/runtime/events?task_status=nope');
    expect(res.status).toBe(400);
    expect((await res.json()).message).toMatch(/task_status/);
  });
});

describe('a stalled client', () => {
  let sc: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    // 8,000 tasks replaced every 100 ms: over a megabyte of changes per version (under MAX_CHANGE_BYTES, so
    // each is sent item by item)
    sc = await startInProcess([fake('tasks', { mode: 'passes', count: 8000 })], { intervalMs: 100 });
    await untilReady(sc.base);
  });
  afterAll(() => sc.sup.stop());

  it('is cut off past its buffer limit while a reading client goes on', async () => {
    const port = Number(new URL(sc.base).port);
    const stalled = connect(port, '127.0.0.1');
    stalled.write('GET /api/v2/runtime/events HTTP/1.1\r\nHost: x\r\n\r\n');
    stalled.pause(); // never read: the server's send buffer fills up
    const closed = new Promise<void>((r) => stalled.once('close', () => r()));
    const reader = await openStream(`${sc.base}/api/v2/runtime/events`);
    // by twelve versions of over a megabyte each, the stalled client is far past its 8 MiB limit
    for (let i = 0; i < 12; i++) await reader.next((e) => e.event === 'change', LIVENESS_MS, reader.events.length);
    let bytes = 0;
    stalled.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    stalled.resume();
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('stalled client never cut off')), LIVENESS_MS))]);
    // it got what sat in the socket buffers and then the end, not the twelve versions
    expect(bytes).toBeLessThan(reader.events.slice(-12).reduce((n, e) => n + e.data.length, 0));
    const countBefore = reader.events.length;
    await reader.next(() => true, LIVENESS_MS, countBefore);
    expect(reader.ended).toBe(false);
    expectGoWireEvents(reader.events);
    // operators see it: one client cut off, the reader still connected
    const metrics = await (await sc.get('/metrics')).text();
    expect(metrics).toMatch(/^market_runtime_http_stream_cut_off_total 1$/m);
    expect(metrics).toMatch(/^market_runtime_http_stream_clients 1$/m);
    await reader.close();
  }, 4 * LIVENESS_MS);
});
