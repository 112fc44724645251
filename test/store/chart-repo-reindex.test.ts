/**
 * A Chart Repo pass updates the view's item index over the pairs it changed only (reindexPairs): after any
 * sequence of passes, the index and the changes the stream sends are those of indexing every pair afresh.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HYDRATOR_COUNTERS } from '../../src/collect/chart-repo-merge.ts';
import type { ChartItemPart, ChartRepoPairPart, ChartRepoPairSlot, HydratorCounters, StoreStep } from '../../src/protocol.ts';
import { emptyChartPending, takeChartChanges, type ChartIndex } from '../../src/store/chart-repo-items.ts';
import { diffIndex, holdPair, indexPairs } from '../../src/store/chart-repo-pairs.ts';
import { ChartRepoView } from '../../src/store/chart-repo-view.ts';

const FRAME = { last_update: '2026-12-01T10:00:00Z' };
const USERS = ['alice', 'bob', 'carol'];
const SOURCES = ['market', 'local'];

/** one item as a pass sends it: its key from a small pool (two pairs may list one), its JSON from another */
const itemArb = fc.record({ key: fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5'), json: fc.constantFrom('{"s":1}', '{"s":2}', '{"s":3}') });
const itemsArb = fc.uniqueArray(itemArb, { selector: (i) => i.key, maxLength: 4 });
const partArb = fc.record({ apps: itemsArb, images: itemsArb, tasks: fc.option(itemsArb, { nil: undefined }) });
type PartSpec = typeof partArb extends fc.Arbitrary<infer T> ? T : never;
/** a pass: some of the (user, source) pairs in some order, each with its answer; the same answer keeps its content */
const passArb = fc.uniqueArray(fc.record({ user: fc.constantFrom(...USERS), source: fc.constantFrom(...SOURCES), part: partArb }),
  { selector: (p) => `${p.user} ${p.source}`, maxLength: 5 });

function partOf(spec: PartSpec, user: string): ChartRepoPairPart {
  const items = (list: { key: string; json: string }[]): ChartItemPart[] =>
    // k1 and k2 are listed under every user's pair that has them: keys two pairs hold
    list.map((i) => ({ key: i.key === 'k1' || i.key === 'k2' ? i.key : `${user}:${i.key}`, json: i.json, facets: { user_id: user } }));
  const counters = Object.fromEntries(HYDRATOR_COUNTERS.map((k) => [k, 1])) as HydratorCounters;
  return { apps: items(spec.apps), images: items(spec.images), ...(spec.tasks ? { hydrator: { counters, tasks: items(spec.tasks), recent_failed: [] } } : {}) };
}

const plain = (index: ChartIndex) => Object.fromEntries(Object.entries(index.lists).map(([list, items]) =>
  [list, [...items].map(([key, it]) => [key, it.json, it.facets]).sort()]));
const sortedChanges = (c: ReturnType<typeof takeChartChanges>) => c && Object.fromEntries(Object.entries(c).map(([k, v]) =>
  [k, Array.isArray(v) ? [...v].map((x) => JSON.stringify(x)).sort() : v]));

describe('the Chart Repo item index across passes', () => {
  // (inPlaceOps 0: every change a pass makes goes through copies of the lists, as a pass that changed many items does)
  it.each([['few changes, made in place', undefined], ['many changes, made in copies', 0]])('is, after every pass, the index of every pair made afresh, and the stream gets the same changes: %s', (_, inPlaceOps) => {
    fc.assert(fc.property(fc.array(passArb, { minLength: 1, maxLength: 8 }), (passes) => {
      const view = new ChartRepoView(inPlaceOps);
      const held = new Map<string, string>();
      let expected: ChartIndex | null = null;
      for (const pass of passes) {
        const slots: ChartRepoPairSlot[] = pass.map(({ user, source, part }) => {
          const content = JSON.stringify(part);
          const same = held.get(`${user} ${source}`) === content;
          held.set(`${user} ${source}`, content);
          // an answer that did not change is named by its content only: the store keeps the pair it holds
          return same ? { user, source, content } : { user, source, content, part: partOf(part, user) };
        });
        for (const key of [...held.keys()]) if (!pass.some((p) => `${p.user} ${p.source}` === key)) held.delete(key);
        const step: Extract<StoreStep, { op: 'chart_repo_pairs' }> = { op: 'chart_repo_pairs', frame: FRAME, shared_content: 's', pairs: slots };
        view.setPairs(step);
        const fresh = indexPairs(FRAME, pass.map(({ user, source, part }) => holdPair(user, source, JSON.stringify(part), partOf(part, user))));
        const pending = emptyChartPending();
        diffIndex(expected, fresh, pending);
        expected = fresh;
        expect(plain(view.held!.index)).toEqual(plain(fresh));
        expect(sortedChanges(view.takeChanges())).toEqual(sortedChanges(takeChartChanges(pending)));
      }
    }), {
      numRuns: 300,
      examples: [
        // found by a run: the same JSON in the same order under other keys (renders the same, indexes otherwise)
        [[
          [{ user: 'alice', source: 'market', part: { apps: [], images: [], tasks: [{ key: 'k4', json: '{"s":3}' }, { key: 'k1', json: '{"s":3}' }, { key: 'k3', json: '{"s":1}' }] } }],
          [{ user: 'alice', source: 'market', part: { apps: [], images: [], tasks: [{ key: 'k5', json: '{"s":3}' }, { key: 'k3', json: '{"s":3}' }, { key: 'k1', json: '{"s":1}' }] } }],
        ]],
        // the same images held by another user's answer: they count as that user's now
        [[
          [{ user: 'alice', source: 'market', part: { apps: [], images: [{ key: 'k1', json: '{"s":1}' }], tasks: undefined } }],
          [{ user: 'bob', source: 'market', part: { apps: [], images: [{ key: 'k1', json: '{"s":1}' }], tasks: undefined } }],
        ]],
      ],
    });
  });

  it('a pass that changed one pair of many touches that pair\'s items only', () => {
    const view = new ChartRepoView();
    const slot = (user: string, json: string, withPart: boolean): ChartRepoPairSlot => ({
      user, source: 'market', content: json,
      ...(withPart ? { part: { apps: [{ key: `${user}:a`, json, facets: { user_id: user } }], images: [] } } : {}),
    });
    const users = Array.from({ length: 50 }, (_, i) => `u${i}`);
    view.setPairs({ op: 'chart_repo_pairs', frame: { ...FRAME }, shared_content: 's', pairs: users.map((u) => slot(u, '{"s":1}', true)) });
    view.takeChanges();
    const before = view.held!.index.lists.apps;
    view.setPairs({ op: 'chart_repo_pairs', frame: { ...FRAME }, shared_content: 's',
      pairs: users.map((u) => (u === 'u7' ? slot(u, '{"s":2}', true) : slot(u, '{"s":1}', false))) });
    const changes = view.takeChanges()!;
    expect(changes.apps.map((c) => [c.key, c.json])).toEqual([['u7:a', '{"s":2}']]);
    // the same index, updated where the pair changed (not rebuilt)
    expect(view.held!.index.lists.apps).toBe(before);
    expect(before.get('u7:a')?.json).toBe('{"s":2}');
    expect(before.size).toBe(50);
  });
});
