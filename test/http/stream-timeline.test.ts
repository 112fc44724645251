/**
 * `…/events?timeline=true`: a change event carries the new timeline entries of the apps and tasks it changed;
 * a filtered client gets only the entries of what it sees; a client that did not ask gets none; a client that
 * resumes with Last-Event-ID gets the entries of the versions it missed; a version whose entries would take it
 * past the 2 MiB a change event may hold says how many it left out (`timeline_omitted`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { openStream } from '../helpers/sse.ts';
import { MAX_CHANGE_BYTES } from '../../src/protocol.ts';
import { app, startHarness, task } from './store-harness.ts';
import { API } from '../reliability/helpers.ts';


/** A change-stream client per query on the harness at `port`, each past its first snapshot. */
async function streamsPastSnapshot(port: number, ...queries: string[]) {
  const opened = [];
  for (const q of queries) opened.push(await openStream(`http://127.0.0.1:${port}${API}/events${q}`));
  for (const s of opened) await s.next((e) => e.event === 'snapshot');
  return opened;
}

interface Change {
  upserts: Record<string, Record<string, unknown>>;
  timeline?: Record<string, Record<string, Array<{ stage: string; evidence: string }>>>;
  timeline_omitted?: number;
}

describe('timeline entries on the change stream', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow', 'tasks']);
  });
  afterAll(() => h?.close());

  const poll = (stage: 'running' | 'stopped', status: 'running' | 'completed') => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [
      app('alice', 'market', 'wiki', { stage }), app('bob', 'market', 'blog', { stage }),
    ] }]);
    h.pass('tasks', [{ op: 'replace', domain: 'tasks', items: [
      task('t-alice', 'wiki', 'alice', { status }), task('t-bob', 'blog', 'bob', { status }),
    ] }]);
  };

  it('carries the entries of what changed, to the clients that asked, filtered as they are', async () => {
    poll('running', 'running');
    await h.settled(true);
    const [all, alice, plain] = await streamsPastSnapshot(h.port, '?timeline=true', '?timeline=true&user_id=alice', '');

    const from = [all, alice, plain].map((s) => s.events.length);
    poll('stopped', 'completed');
    await h.settled(true);
    // the two passes may be two versions: what the client got up to the store's version, merged
    const version = h.store.store.version;
    const changes = async (s: typeof all, i: number): Promise<Change> => {
      await s.next((e) => e.event === 'change' && (JSON.parse(e.data) as { version: number }).version === version, LIVENESS_MS, from[i]);
      const merged: Change = { upserts: {} };
      for (const e of s.events.slice(from[i]).filter((x) => x.event === 'change')) {
        const c = JSON.parse(e.data) as Change;
        for (const [d, items] of Object.entries(c.upserts)) merged.upserts[d] = { ...merged.upserts[d], ...items };
        for (const [d, items] of Object.entries(c.timeline ?? {})) merged.timeline = { ...merged.timeline, [d]: { ...merged.timeline?.[d], ...items } };
      }
      return merged;
    };
    const [everything, own, none] = [await changes(all, 0), await changes(alice, 1), await changes(plain, 2)];

    const stopped = [{ at: expect.any(String), stage: 'stopped', health: 'healthy', evidence: 'poll user_application_states' }];
    expect(everything.timeline).toEqual({
      app_states: { 'alice:market:wiki': stopped, 'bob:market:blog': stopped },
      tasks: { 't-alice': [expect.objectContaining({ stage: 'completed', evidence: 'poll task_records' })], 't-bob': [expect.objectContaining({ stage: 'completed' })] },
    });
    // filtered by user: its own apps and tasks only, in the upserts and in the timeline alike
    expect(Object.keys(own.upserts.app_states!)).toEqual(['alice:market:wiki']);
    expect(own.timeline).toEqual({
      app_states: { 'alice:market:wiki': stopped },
      tasks: { 't-alice': [expect.objectContaining({ stage: 'completed' })] },
    });
    // did not ask: the same change, no timeline
    expect(Object.keys(none.upserts.app_states!).sort()).toEqual(['alice:market:wiki', 'bob:market:blog']);
    expect(none).not.toHaveProperty('timeline');
    for (const s of [all, alice, plain]) await s.close();
  });

  it('carries the entries of an app that came and went within one version (an install that failed at once), to the clients whose filter it matches', async () => {
    poll('running', 'running');
    await h.settled(true);
    const [all, carol, alice] = await streamsPastSnapshot(h.port, '?timeline=true', '?timeline=true&user_id=carol', '?timeline=true&user_id=alice');
    const from = [all, carol, alice].map((s) => s.events.length);
    // one pass, one version: the app is new and gone again when it commits, so no reader ever saw it
    h.pass('app_flow', [
      { op: 'upsert', domain: 'app_states', items: [app('carol', 'market', 'wiki', { stage: 'installing' })] },
      { op: 'remove', domain: 'app_states', keys: ['carol:market:wiki'] },
    ]);
    await h.settled(true);
    const version = h.store.store.version;
    const change = async (s: typeof all, i: number) => JSON.parse((await s.next((e) => e.event === 'change'
      && (JSON.parse(e.data) as { version: number }).version === version, LIVENESS_MS, from[i])).data) as Change & { removed: object };
    for (const [s, i] of [[all, 0], [carol, 1]] as const) {
      const c = await change(s, i);
      expect(c.timeline?.app_states?.['carol:market:wiki']?.map((e) => e.stage)).toEqual(['installing', 'removed']);
      // neither an upsert nor a removal: no reader held it
      expect(c.upserts).toEqual({});
      expect(c.removed).toEqual({});
    }
    // another user's client hears nothing of it
    await h.send(`${API}/state`);
    expect(alice.events.slice(from[2]).filter((e) => e.event === 'change' && e.data.includes('carol'))).toEqual([]);
    for (const s of [all, carol, alice]) await s.close();
  });

  it('a client that resumes with Last-Event-ID gets the entries of the versions it missed', async () => {
    poll('running', 'running');
    await h.settled(true);
    const url = `http://127.0.0.1:${h.port}${API}/events?timeline=true`;
    const first = await openStream(url);
    const last = await first.next((e) => e.event === 'snapshot');
    // the only client that asked is gone while the apps stop and the tasks complete
    await first.close();
    poll('stopped', 'completed');
    await h.settled(true);
    const resumed = await openStream(url, { 'Last-Event-ID': last.id! });
    const version = h.store.store.version;
    await resumed.next((e) => e.event === 'change' && (JSON.parse(e.data) as { version: number }).version === version);
    const stages: Record<string, string[]> = {};
    for (const e of resumed.events.filter((x) => x.event === 'change')) {
      for (const items of Object.values((JSON.parse(e.data) as Change).timeline ?? {})) {
        for (const [key, entries] of Object.entries(items)) stages[key] = [...(stages[key] ?? []), ...entries.map((x) => x.stage)];
      }
    }
    expect(resumed.events.some((e) => e.event === 'snapshot')).toBe(false);
    expect(stages).toEqual({ 'alice:market:wiki': ['stopped'], 'bob:market:blog': ['stopped'], 't-alice': ['completed'], 't-bob': ['completed'] });
    await resumed.close();
  });
});

describe('timeline entries that would take a change event past its size cap', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow']);
  });
  afterAll(() => h?.close());

  // 1,000 apps (each with its metadata.status) and a 1,526-character stage detail: about 1.96 MB of changes when all of them move, under the
  // 2 MiB cap; their one new entry each (the detail cut to 128 characters, ~270 bytes) takes it to about 2.24 MB
  const APPS = 1000;
  const apps = (stage: 'running' | 'stopped', only?: number) => Array.from({ length: APPS }, (_, i) =>
    app(`u${i}`, 'market', `app-${String(i).padStart(4, '0')}`, { stage: i === only ? 'stopped' : stage, stage_detail: 'x'.repeat(1526) }));

  it('carries the changes without the entries and says how many each client lost', async () => {
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps('running') }]);
    await h.settled(true);
    const [all, one, plain] = await streamsPastSnapshot(h.port, '?timeline=true', '?timeline=true&user_id=u7', '');
    const change = async (s: typeof all, version: number): Promise<Change & { version: number }> => {
      const e = await s.next((x) => x.event === 'change' && (JSON.parse(x.data) as { version: number }).version === version, LIVENESS_MS);
      return JSON.parse(e.data) as Change & { version: number };
    };

    // every app stops: the changes fit, the entries do not
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps('stopped') }]);
    await h.settled(true);
    const big = h.store.store.version;
    const [everything, own, none] = [await change(all, big), await change(one, big), await change(plain, big)];
    expect(Object.keys(everything.upserts.app_states!)).toHaveLength(APPS);
    expect(JSON.stringify(everything.upserts).length).toBeLessThan(MAX_CHANGE_BYTES);
    expect(everything).not.toHaveProperty('timeline');
    expect(everything.timeline_omitted).toBe(APPS);
    // a filtered client: its own app's entry only; one that did not ask: no word of entries
    expect(Object.keys(own.upserts.app_states!)).toEqual(['u7:market:app-0007']);
    expect(own).not.toHaveProperty('timeline');
    expect(own.timeline_omitted).toBe(1);
    expect(Object.keys(none.upserts.app_states!)).toHaveLength(APPS);
    expect(none).not.toHaveProperty('timeline');
    expect(none).not.toHaveProperty('timeline_omitted');
    // the entries are not lost: …/history has them
    const history = await h.send(`${API}/apps/u7/market/app-0007/history`);
    expect(history.status).toBe(200);
    expect((JSON.parse(history.body) as { data: { entries: Array<{ stage: string }> } }).data.entries.map((e) => e.stage)).toEqual(['running', 'stopped']);

    // one app starts again: an event of normal size carries its entry, and no marker
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items: apps('stopped').map((a, i) => (i === 3 ? { ...a, stage: 'running' as const } : a)) }]);
    await h.settled(true);
    const small = await change(all, h.store.store.version);
    expect(Object.keys(small.upserts.app_states!)).toEqual(['u3:market:app-0003']);
    expect(small.timeline).toEqual({ app_states: { 'u3:market:app-0003': [expect.objectContaining({ stage: 'running' })] } });
    expect(small).not.toHaveProperty('timeline_omitted');
    for (const s of [all, one, plain]) await s.close();
  });
});
