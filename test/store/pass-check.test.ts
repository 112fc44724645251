import { describe, expect, it } from 'vitest';
import { StoreActor } from '../../src/store/actor.ts';
import { passProblem } from '../../src/store/pass-check.ts';
import { aliceChartRepo, pass, pushed, T0, task } from '../helpers/store-fixtures.ts';

const ok = pushed('tasks', []);

describe('passProblem', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /not a pass/],
    ['unknown source', { ...ok, source: 'mars' }, /unknown source/],
    ['steps not a list', { ...ok, steps: {} }, /steps/],
    ['unknown op', { ...ok, steps: [{ op: 'explode' }] }, /unknown step/],
    ['unknown domain', { ...ok, steps: [{ op: 'upsert', domain: 'no_such_domain', items: [] }] }, /unknown domain/],
    ['items not objects', { ...ok, steps: [{ op: 'replace', domain: 'tasks', items: [null] }] }, /items/],
    ['remove keys not strings', { ...ok, steps: [{ op: 'remove', domain: 'tasks', keys: [1] }] }, /keys/],
    ['replace keep not strings', { ...ok, steps: [{ op: 'replace', domain: 'tasks', items: [], keep: [1] }] }, /keep/],
    ['events malformed', { ...ok, steps: [{ op: 'app_events', events: [{ key: 'k' }] }] }, /app_events/],
    ['left rows malformed', { ...ok, steps: [{ op: 'changes', domain: 'app_states', items: [], removed: ['k'], left: [{ key: 'k', at: 'soon', state: 'uninstalled' }] }] }, /left/],
  ];
  it.each(bad)('%s', (_n, msg, reason) => expect(passProblem(msg)).toMatch(reason));
  it('accepts every well-formed step', () => {
    expect(passProblem({ ...ok, steps: [
      { op: 'replace', domain: 'tasks', items: [{}] }, { op: 'replace', domain: 'tasks', items: [], keep: ['t1'] },
      { op: 'upsert', domain: 'components', items: [] },
      { op: 'remove', domain: 'app_states', keys: ['a'] },
      { op: 'changes', domain: 'app_states', items: [], removed: ['k'], left: [{ key: 'k', at: T0, state: 'uninstalled' }] }, aliceChartRepo([{ state: 'completed', duration: 1e9 }], T0),
      { op: 'app_events', events: [{ key: 'k', at: 't', app: null }] },
    ] })).toBeNull();
  });
});

it('the store drops a malformed pass whole, keeps what it knew, and says why in the source status', () => {
  const actor = new StoreActor();
  actor.receive(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t1', 'a', undefined, { status: 'running' })] }]));
  const ack = actor.receive(pushed('tasks', [
    { op: 'replace', domain: 'tasks', items: [] }, { op: 'upsert', domain: 'nope', items: [] } as never,
  ], 2));
  // the collector learns it too: one that sends only changes lists everything next time
  expect(ack).toEqual({ type: 'applied', seq: 2, dropped: true });
  actor.flush();
  const data = JSON.parse(actor.store.state({}));
  expect(Object.keys(data.tasks)).toEqual(['t1']);
  expect(data.sources.tasks).toMatchObject({ ok: false, last_error: expect.stringMatching(/malformed pass dropped: upsert of unknown domain nope/) });
  // counted for the source that sent them, not store-wide
  const bad = (source: 'tasks' | 'components', seq: number) => actor.receive(pushed(source, [{ op: 'upsert', domain: 'nope', items: [] } as never], seq));
  bad('tasks', 3);
  bad('components', 1);
  expect(actor.store.freshness().tasks?.counters?.dropped_passes).toBe(2);
  expect(actor.store.freshness().components?.counters?.dropped_passes).toBe(1);
});

it('the store commits a pass read in bulk at once and collects its garbage after it, not after other passes', () => {
  const g = globalThis as { gc?: () => void };
  const had = g.gc;
  const seen: number[] = [];
  const actor = new StoreActor();
  g.gc = () => { seen.push(actor.store.version); };
  try {
    actor.receive({ ...pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t1', 'a', undefined, { status: 'running' })] }]), bulk: true });
    // the pass was committed before the collection: its version is the one collected after
    expect(seen).toEqual([actor.store.version]);
    expect(actor.store.version).toBeGreaterThan(0);
    actor.receive(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [] }], {}, 2));
    expect(seen).toHaveLength(1);
  } finally {
    if (had) g.gc = had;
    else delete g.gc;
  }
});
