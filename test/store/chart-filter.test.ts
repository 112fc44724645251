import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { mergeAnswers, originsOf } from '../../src/collect/chart-repo-merge.ts';
import type { ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { filterChartRepo } from '../../src/store/filter.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { pass } from '../helpers/store-fixtures.ts';

const NOW = '2026-12-01T10:00:00.000Z';

/** Three users whose answers all name the same app: today's images carry no user, only an app name. */
function answer(user: string, source: string): { user: string; source: string; answer: ChartRepoAnswer } {
  const r = normalizeAnswer({ success: true, data: {
    apps: [{ app_id: 'wiki', app_name: 'wiki', user_id: user, source_id: source, state: 'completed' }],
    images: [{ image_name: `wiki-${user}-${source}:1`, app_name: 'wiki', status: 'fully_downloaded' }],
    tasks: { hydrator: { queue_length: 1, tasks: [{ task_id: `t-${user}-${source}` }], recent_failed: [{ task_id: `f-${user}-${source}` }] } },
  } }, NOW);
  if (!r.ok) throw new Error(r.error);
  return { user, source, answer: r.answer };
}

const answers = [answer('alice', 'market'), answer('bob', 'market'), answer('carol', 'market'), answer('alice', 'local')];
const merged = mergeAnswers(answers.map((a) => a.answer), NOW);
const origins = originsOf(answers);

describe('chart_repo narrowed by user and source: by the answer each item came from', () => {
  it('a user keeps exactly the images and hydrator tasks of that user\'s answers, not a third of all images', () => {
    const alice = filterChartRepo(merged, { user_id: 'alice' }, origins);
    expect(alice.images?.map((i) => i.image_name)).toEqual(['wiki-alice-market:1', 'wiki-alice-local:1']);
    // hydrator tasks here carry no user_id: the answer says whose they are
    expect(alice.tasks?.hydrator?.tasks?.map((t) => t.task_id)).toEqual(['t-alice-market', 't-alice-local']);
    expect(alice.tasks?.hydrator?.recent_failed?.map((t) => t.task_id)).toEqual(['f-alice-market', 'f-alice-local']);
    expect(alice.apps?.map((a) => `${a.user_id}/${a.source_id}`)).toEqual(['alice/market', 'alice/local']);
    // the counters stay whole
    expect(alice.tasks?.hydrator?.queue_length).toBe(4);
  });

  it('user and source together keep one answer; an app name narrows within it', () => {
    expect(filterChartRepo(merged, { user_id: 'alice', source_id: 'local' }, origins).images?.map((i) => i.image_name))
      .toEqual(['wiki-alice-local:1']);
    expect(filterChartRepo(merged, { source_id: 'market', app_name: 'wiki' }, origins).images).toHaveLength(3);
    expect(filterChartRepo(merged, { user_id: 'nobody' }, origins)).not.toHaveProperty('images');
  });

  it('without origins (or ones that do not fit the lists) it falls back to the items\' own fields', () => {
    expect(filterChartRepo(merged, { user_id: 'alice' }).images).toHaveLength(4);
    expect(filterChartRepo(merged, { user_id: 'alice' }, origins.slice(1)).images).toHaveLength(4);
  });

  it('the store keeps origins beside the view: none of them reach the wire, and ?user_id= uses them', () => {
    const store = new RuntimeStore(() => new Date(NOW));
    store.apply(pass('chart_repo', [{ op: 'chart_repo', value: merged, origins }], { finished_at: NOW }));
    store.commit();
    expect(store.state({})).not.toContain('"origins"');
    const chart = JSON.parse(store.state({ user_id: 'bob' })).chart_repo;
    expect(chart.images.map((i: { image_name: string }) => i.image_name)).toEqual(['wiki-bob-market:1']);
  });
});
