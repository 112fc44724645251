/**
 * `…/events?timeline=true`: a change event carries the new timeline entries of the apps and tasks it changed;
 * a filtered client gets only the entries of what it sees; a client that did not ask gets none; a client that
 * resumes with Last-Event-ID gets the entries of the versions it missed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStream } from '../helpers/sse.ts';
import { app, startHarness, task } from './store-harness.ts';

const API = '/api/v2/runtime';

interface Change {
  upserts: Record<string, Record<string, unknown>>;
  timeline?: Record<string, Record<string, Array<{ stage: string; evidence: string }>>>;
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
    const url = (query: string) => `http://127.0.0.1:${h.port}${API}/events${query}`;
    const all = await openStream(url('?timeline=true'));
    const alice = await openStream(url('?timeline=true&user_id=alice'));
    const plain = await openStream(url(''));
    for (const s of [all, alice, plain]) await s.next((e) => e.event === 'snapshot');

    const from = [all, alice, plain].map((s) => s.events.length);
    poll('stopped', 'completed');
    await h.settled(true);
    // the two passes may be two versions: what the client got up to the store's version, merged
    const version = h.store.store.version;
    const changes = async (s: typeof all, i: number): Promise<Change> => {
      await s.next((e) => e.event === 'change' && (JSON.parse(e.data) as { version: number }).version === version, 10_000, from[i]);
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
