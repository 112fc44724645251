import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chartItemKeys, type ChartRepoStatus } from '../../src/model/index.ts';
import { renderChartChanges } from '../../src/http/stream.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { filterChartRepo } from '../../src/store/filter.ts';
import type { StateFilter } from '../../src/protocol.ts';
import { pushed } from '../helpers/store-fixtures.ts';

// the dashboards' own module applies the stream's chart_repo changes to the page's copy
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
const imageArb = fc.record({
  image_name: fc.constantFrom('a:1', 'b:1', 'c:2', 'd:3'), app_name: fc.constantFrom(...NAMES),
  status: fc.constantFrom('not_downloaded', 'fully_downloaded'),
});
const hydratorArb = fc.record({ task_id: fc.constantFrom('h1', 'h2', 'h3'), user_id: fc.constantFrom(...USERS), app_name: fc.constantFrom(...NAMES) });
const uniq = <T>(key: (x: T) => string) => (xs: T[]) => [...new Map(xs.map((x) => [key(x), x])).values()];
const viewArb: fc.Arbitrary<ChartRepoStatus> = fc.record({
  apps: fc.array(appArb, { maxLength: 8 }).map(uniq((a) => `${a.user_id}:${a.source_id}:${a.app_name}`)),
  images: fc.array(imageArb, { maxLength: 4 }).map(uniq((i) => i.image_name)),
  tasks: fc.record({
    hydrator: fc.record({ queue_length: fc.nat(5), tasks: fc.array(hydratorArb, { maxLength: 3 }).map(uniq((t) => t.task_id)) }),
  }),
  system: fc.record({ hostname: fc.constantFrom('cr-1', 'cr-2') }),
  last_update: fc.constantFrom(T0, '2026-12-01T10:05:00.000Z'),
}) as fc.Arbitrary<ChartRepoStatus>;

const byKey = (v: ChartRepoStatus) => ({
  ...v,
  apps: [...(v.apps ?? [])].sort((a, b) => `${a.user_id}:${a.source_id}:${a.app_name}`.localeCompare(`${b.user_id}:${b.source_id}:${b.app_name}`)),
  images: [...(v.images ?? [])].sort((a, b) => a.image_name.localeCompare(b.image_name)),
  tasks: { ...v.tasks, hydrator: { ...v.tasks?.hydrator, tasks: [...(v.tasks?.hydrator?.tasks ?? [])].sort((a, b) => a.task_id.localeCompare(b.task_id)) } },
});

function changesBetween(a: ChartRepoStatus, b: ChartRepoStatus) {
  const s = new RuntimeStore(() => new Date(T0));
  s.apply(pushed('chart_repo', [{ op: 'chart_repo', value: a }]));
  s.commit();
  s.apply(pushed('chart_repo', [{ op: 'chart_repo', value: b }], 2));
  return s.commit()?.changes.chart_repo;
}

describe('chart_repo on the change stream: items, not the whole block', () => {
  it('applying a change event to the previous view gives the new view (any two views)', () => {
    let changes = 0;
    fc.assert(fc.property(viewArb, viewArb, (a, b) => {
      const ch = changesBetween(a, b);
      if (!ch) {
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
        return;
      }
      const applied = applyChartChange(structuredClone(a), JSON.parse(renderChartChanges(ch, null)!));
      expect(byKey(applied)).toEqual(byKey(b));
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
      const before = filterChartRepo(a, f);
      const after = filterChartRepo(b, f);
      const ch = changesBetween(a, b);
      const text = ch && renderChartChanges(ch, f);
      if (!text) {
        expect(byKey(after).apps).toEqual(byKey(before).apps);
        expect(byKey(after).images).toEqual(byKey(before).images);
        return;
      }
      const event = JSON.parse(text) as { removed: Record<string, string[]> };
      const held = keysOf(before);
      for (const keys of Object.values(event.removed)) {
        for (const k of keys) expect(held.has(k), `removal of ${k}, which the client never had`).toBe(true);
        removals += keys.length;
      }
      const applied = applyChartChange(structuredClone(before), event);
      expect(byKey(applied).apps).toEqual(byKey(after).apps);
      expect(byKey(applied).images).toEqual(byKey(after).images);
      expect(byKey(applied).tasks.hydrator.tasks).toEqual(byKey(after).tasks.hydrator.tasks);
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
    const ch = changesBetween(a, b)!;
    expect(ch.frame).toBeUndefined();
    expect(ch.apps.map((c) => c.key)).toEqual(['alice:market:blog']);
    expect(ch.images).toEqual([]);
    const event = JSON.parse(renderChartChanges(ch, null)!);
    expect(event).toEqual({ upserts: { apps: { 'alice:market:blog': b.apps![1] } }, removed: {} });
  });

  it('a filtered client gets the items its filter keeps, images by the users of their app', () => {
    const a: ChartRepoStatus = { apps: [], images: [], last_update: T0 };
    const b: ChartRepoStatus = {
      apps: [
        { app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: 'processing', last_update: T0 },
        { app_id: 'blog', app_name: 'blog', user_id: 'bob', source_id: 'market', state: 'processing', last_update: T0 },
      ],
      images: [
        { image_name: 'wiki:1', app_name: 'wiki', status: 'fully_downloaded', last_update: T0 },
        { image_name: 'blog:1', app_name: 'blog', status: 'not_downloaded', last_update: T0 },
      ],
      last_update: T0,
    };
    const event = JSON.parse(renderChartChanges(changesBetween(a, b)!, { user_id: 'alice' })!);
    expect(Object.keys(event.upserts.apps)).toEqual(['alice:market:wiki']);
    // (a view held whole: its images name no user, their key says so)
    expect(Object.keys(event.upserts.images)).toEqual(['::wiki:1']);
    // nothing a client filtered to dave can see: no chart_repo part at all
    const other = structuredClone(b);
    other.apps![1]!.state = 'completed';
    expect(renderChartChanges(changesBetween(b, other)!, { user_id: 'alice' })).toBeNull();
  });
});
