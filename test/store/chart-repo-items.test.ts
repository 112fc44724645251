import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appKey, chartItemKeys, type ChartRepoStatus } from '../../src/model/index.ts';
import { renderChartChanges } from '../../src/http/stream.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import type { StateFilter } from '../../src/protocol.ts';
import { chartRepoView, pushed } from '../helpers/store-fixtures.ts';

// how a stream client applies a chart_repo change to its copy (test/helpers/chart-change.js: the reference the
// stream is held to; the dashboards no longer keep the whole state)
const { applyChartChange } = await import('../helpers/chart-change.js' as string) as {
  applyChartChange(current: unknown, change: unknown): ChartRepoStatus;
};

const T0 = '2026-12-01T10:00:00.000Z';
const USERS = ['alice', 'bob', 'carol'];
const NAMES = ['wiki', 'blog', 'gitea', 'vault'];

const appArb = fc.record({
  user_id: fc.constantFrom(...USERS), source_id: fc.constantFrom('market', 'local'), app_name: fc.constantFrom(...NAMES),
  state: fc.constantFrom('pending', 'processing', 'completed', 'failed'),
}).map((a) => ({ ...a, app_id: a.app_name }));
// (an image names the pair whose answer listed it, as the collector's normalizer writes it)
const imageArb = fc.record({
  image_name: fc.constantFrom('a:1', 'b:1', 'c:2', 'd:3'), app_name: fc.constantFrom(...NAMES),
  user_id: fc.constantFrom(...USERS), source_id: fc.constantFrom('market', 'local'),
  status: fc.constantFrom('not_downloaded', 'fully_downloaded'),
});
const hydratorArb = fc.record({ task_id: fc.constantFrom('h1', 'h2', 'h3'), user_id: fc.constantFrom(...USERS), app_name: fc.constantFrom(...NAMES) });
const uniq = <T>(key: (x: T) => string) => (xs: T[]) => [...new Map(xs.map((x) => [key(x), x])).values()];
const viewArb: fc.Arbitrary<ChartRepoStatus> = fc.record({
  apps: fc.array(appArb, { maxLength: 8 }).map(uniq(appKey)),
  images: fc.array(imageArb, { maxLength: 6 }).map(uniq((i) => `${i.user_id}:${i.source_id}:${i.image_name}`)),
  tasks: fc.record({
    hydrator: fc.record({
      queue_length: fc.nat(5), active_tasks: fc.constant(0), completed_tasks: fc.constant(0), failed_tasks: fc.constant(0), worker_count: fc.constant(0),
      tasks: fc.array(hydratorArb, { maxLength: 3 }).map(uniq((t) => t.task_id)),
      // (the frame's one list: a filtered client gets it narrowed with the frame)
      recent_failed: fc.array(hydratorArb, { maxLength: 2 }).map(uniq((t) => t.task_id)),
    }),
  }),
  system: fc.record({ hostname: fc.constantFrom('cr-1', 'cr-2') }),
  last_update: fc.constantFrom(T0, '2026-12-01T10:05:00.000Z'),
}) as fc.Arbitrary<ChartRepoStatus>;

const byKey = (v: ChartRepoStatus) => ({
  ...v,
  apps: [...(v.apps ?? [])].sort((a, b) => appKey(a).localeCompare(appKey(b))),
  images: [...(v.images ?? [])].sort((a, b) => chartItemKeys.images(a).localeCompare(chartItemKeys.images(b))),
  tasks: { ...v.tasks, hydrator: { ...v.tasks?.hydrator, tasks: [...(v.tasks?.hydrator?.tasks ?? [])].sort((a, b) => a.task_id.localeCompare(b.task_id)) } },
});

/** A store fed `a`, then `b`, as the collector sends them: the change between, and the view (as `f` narrows it) before and after. */
function changesBetween(a: ChartRepoStatus, b: ChartRepoStatus, f: StateFilter = {}) {
  const s = new RuntimeStore(() => new Date(T0));
  const view = () => JSON.parse(s.state(f)).chart_repo as ChartRepoStatus;
  s.apply(pushed('chart_repo', [chartRepoView(a)]));
  s.commit();
  const before = view();
  s.apply(pushed('chart_repo', [chartRepoView(b)], 2));
  const ch = s.commit()?.changes.chart_repo;
  return { ch, before, after: view() };
}

describe('chart_repo on the change stream: items, not the whole block', () => {
  it('applying a change event to the previous view gives the new view (any two views)', () => {
    let changes = 0;
    fc.assert(fc.property(viewArb, viewArb, (a, b) => {
      const { ch, before, after } = changesBetween(a, b);
      if (!ch) {
        expect(after).toEqual(before);
        return;
      }
      const applied = applyChartChange(before, JSON.parse(renderChartChanges(ch, null)!));
      expect(byKey(applied)).toEqual(byKey(after));
      changes++;
    }), { numRuns: 300 });
    expect(changes).toBeGreaterThan(0);
  });

  it('a filtered client: applying its event to its view of the previous version gives its view of the new one, and it is never sent a key it could not see', () => {
    const filterArb: fc.Arbitrary<StateFilter> = fc.oneof(
      fc.record({ user_id: fc.constantFrom(...USERS) }),
      fc.record({ app_name: fc.constantFrom(...NAMES) }),
      fc.record({ user_id: fc.constantFrom(...USERS), source_id: fc.constantFrom('market', 'local') }),
    );
    const keysOf = (v: ChartRepoStatus) => new Set([
      ...(v.apps ?? []).map(chartItemKeys.apps),
      ...(v.images ?? []).map(chartItemKeys.images),
      ...(v.tasks?.hydrator?.tasks ?? []).map(chartItemKeys.hydrator_tasks),
    ]);
    let removals = 0;
    fc.assert(fc.property(viewArb, viewArb, filterArb, (a, b, f) => {
      const { ch, before, after } = changesBetween(a, b, f);
      const text = ch && renderChartChanges(ch, f);
      if (!text) {
        expect(after).toEqual(before);
        return;
      }
      const event = JSON.parse(text) as { removed: Record<string, string[]> };
      const held = keysOf(before);
      for (const keys of Object.values(event.removed)) {
        for (const k of keys) expect(held.has(k), `removal of ${k}, which the client never had`).toBe(true);
        removals += keys.length;
      }
      const applied = applyChartChange(before, event);
      expect(byKey(applied).apps).toEqual(byKey(after).apps);
      expect(byKey(applied).images).toEqual(byKey(after).images);
      expect(byKey(applied).tasks.hydrator.tasks).toEqual(byKey(after).tasks.hydrator.tasks);
      expect(applied.tasks?.hydrator?.recent_failed).toEqual(after.tasks?.hydrator?.recent_failed);
    }), { numRuns: 500 });
    expect(removals).toBeGreaterThan(0);
  });

  it('one app changing state sends that app alone', () => {
    const a: ChartRepoStatus = {
      apps: NAMES.map((n) => ({ app_id: n, app_name: n, user_id: 'alice', source_id: 'market', state: 'completed', last_update: T0 })),
      images: [{ image_name: 'wiki:1', app_name: 'wiki', status: 'fully_downloaded', last_update: T0 }],
      tasks: { hydrator: { queue_length: 0, active_tasks: 0, completed_tasks: 0, failed_tasks: 0, worker_count: 0, tasks: [] } }, last_update: T0,
    };
    const b = structuredClone(a);
    b.apps![1]!.state = 'failed';
    const ch = changesBetween(a, b).ch!;
    expect(ch.frame).toBeUndefined();
    expect(ch.apps.map((c) => c.key)).toEqual(['alice:market:blog']);
    expect(ch.images).toEqual([]);
    const event = JSON.parse(renderChartChanges(ch, null)!);
    expect(event).toEqual({ upserts: { apps: { 'alice:market:blog': b.apps![1] } }, removed: {} });
  });

  it('a filtered client gets the items its filter keeps, images by the user whose answer listed them', () => {
    const a: ChartRepoStatus = { apps: [], images: [], last_update: T0 };
    const b: ChartRepoStatus = {
      apps: [
        { app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: 'processing', last_update: T0 },
        { app_id: 'blog', app_name: 'blog', user_id: 'bob', source_id: 'market', state: 'processing', last_update: T0 },
      ],
      images: [
        { image_name: 'wiki:1', app_name: 'wiki', user_id: 'alice', source_id: 'market', status: 'fully_downloaded', last_update: T0 },
        { image_name: 'blog:1', app_name: 'blog', user_id: 'bob', source_id: 'market', status: 'not_downloaded', last_update: T0 },
      ],
      last_update: T0,
    };
    const event = JSON.parse(renderChartChanges(changesBetween(a, b).ch!, { user_id: 'alice' })!);
    expect(Object.keys(event.upserts.apps)).toEqual(['alice:market:wiki']);
    expect(Object.keys(event.upserts.images)).toEqual(['alice:market:wiki:1']);
    // nothing a client filtered to alice can see: no chart_repo part at all
    const other = structuredClone(b);
    other.apps![1]!.state = 'completed';
    expect(renderChartChanges(changesBetween(b, other).ch!, { user_id: 'alice' })).toBeNull();
  });
});
