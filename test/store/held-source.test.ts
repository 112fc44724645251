/**
 * A source that is down while the store thread dies: the supervisor took what the store held of it at the source's
 * first failed run (heldOf) and gives it to the store that replaces the dead one (restoreHeld), so the new store
 * shows what was known — the same bytes, the same content digest (ETag) — instead of nothing.
 */
import { describe, expect, it } from 'vitest';
import { appKey } from '../../src/model/index.ts';
import type { SourceName } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';
import { aliceChartRepo, app, pass, pushed, T0, task } from '../helpers/store-fixtures.ts';

const SOURCES: SourceName[] = ['app_flow', 'tasks', 'components', 'chart_repo'];
const down = { ok: false, error: 'connect ECONNREFUSED 127.0.0.1:5432' };

/** A store that knew two apps, a task and the Chart Repo, whose database then went down. */
function storeBeforeItDied(): StoreActor {
  const actor = new StoreActor();
  actor.expectSources(SOURCES);
  actor.receive(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki'), app('bob', 'market', 'blog', { stage: 'installing', health: 'unknown' })] }]));
  actor.receive(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t1', 'wiki', 'alice', { status: 'running' })] }]));
  actor.receive(pass('components', []));
  actor.receive(pass('chart_repo', [aliceChartRepo([{ state: 'processing', duration: 1e9 }], T0)]));
  for (const source of SOURCES) actor.receive(pass(source, [], down, 2));
  return actor;
}

/** The store replacing it, given what it held of each source. */
function storeAfter(before: StoreActor): StoreActor {
  const after = new StoreActor();
  // (with the supervisor's record of the runs, as a rebuilt store gets it)
  after.expectSources(SOURCES, undefined, 30_000, before.store.freshness());
  for (const source of SOURCES) {
    const held = before.heldOf(source)!.bytes;
    if (held !== null) expect(after.restoreHeld(source, held), source).toBe(true);
  }
  // the sources still down: their runs fail against the new store too
  for (const source of SOURCES) after.receive(pass(source, [], down, 1));
  return after;
}

const data = (actor: StoreActor) => {
  actor.store.commit();
  const { app_states, tasks, chart_repo } = JSON.parse(actor.store.body()).data;
  return { app_states, tasks, chart_repo };
};

describe('what a store held of a source that is down', () => {
  it('a new store given it shows the same apps, tasks and Chart Repo view, with the same content digest', () => {
    const before = storeBeforeItDied();
    const after = storeAfter(before);
    expect(Object.keys(data(after).app_states)).toHaveLength(2);
    expect(data(after)).toEqual(data(before));
    expect(after.store.content).toBe(before.store.content);
  });

  it('is nothing for a source the store holds nothing of', () => {
    expect(storeBeforeItDied().heldOf('components')!.bytes).toBeNull();
    expect(storeBeforeItDied().heldOf('nats')!.bytes).toBeNull();
  });

  it("the apps' timelines say where they came from", () => {
    const after = storeAfter(storeBeforeItDied());
    const history = JSON.parse(after.store.history('app_states', appKey({ user_id: 'alice', source_id: 'market', app_name: 'wiki' }))!);
    expect(history.entries.at(-1).evidence).toMatch(/kept from the store before a restart/);
  });

  it('is refused once a pass of the source reached the new store: that pass is newer', () => {
    const before = storeBeforeItDied();
    const after = new StoreActor();
    after.expectSources(SOURCES, undefined, 30_000);
    after.receive(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki', { stage: 'stopped' })] }]));
    expect(after.restoreHeld('app_flow', before.heldOf('app_flow')!.bytes!)).toBe(false);
    expect(Object.keys(data(after).app_states)).toEqual([appKey({ user_id: 'alice', source_id: 'market', app_name: 'wiki' })]);
  });

  it('bytes that are not a pass are refused and change nothing', () => {
    const after = new StoreActor();
    after.expectSources(SOURCES, undefined, 30_000);
    expect(after.restoreHeld('app_flow', new Uint8Array([1, 2, 3]).buffer)).toBe(false);
    expect(after.restoreHeld('app_flow', new ArrayBuffer(0))).toBe(false);
    expect(data(after).app_states).toEqual({});
  });

  it('the next full listing of the source reconciles it: what the source no longer lists goes', () => {
    const after = storeAfter(storeBeforeItDied());
    after.receive(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'market', 'wiki')] }]));
    expect(Object.keys(data(after).app_states)).toEqual([appKey({ user_id: 'alice', source_id: 'market', app_name: 'wiki' })]);
  });

  it('is made again only when it changed: an app event pushed during the outage changes it, a failed run does not', () => {
    const before = storeBeforeItDied();
    const first = before.heldOf('app_flow')!;
    before.receive(pass('app_flow', [], down, 3));
    expect(before.heldOf('app_flow', first.mark)).toBeNull();
    const later = '2026-11-25T10:05:00.000Z';
    before.receive(pushed('nats', [{ op: 'app_events', events: [
      { key: appKey({ user_id: 'bob', source_id: 'market', app_name: 'blog' }), at: later, app: app('bob', 'market', 'blog', { stage: 'running', metadata: { status: { createTime: later } } }) },
    ] }], 4));
    const again = before.heldOf('app_flow', first.mark)!;
    expect(again.bytes).not.toBeNull();
    const after = new StoreActor();
    after.expectSources(SOURCES, undefined, 30_000);
    expect(after.restoreHeld('app_flow', again.bytes!)).toBe(true);
    expect(data(after).app_states[appKey({ user_id: 'bob', source_id: 'market', app_name: 'blog' })].stage).toBe('running');
    // (other sources' marks do not move with it)
    expect(before.heldOf('tasks', before.heldOf('tasks')!.mark)).toBeNull();
  });
});
