/**
 * The Chart Repo view crosses to the store as its parts (issue 20: cost follows change): the store merges what
 * it holds per (user, source) pair exactly as the collector would have, and says which pairs it was told to
 * keep but does not hold.
 */
import { describe, expect, it } from 'vitest';
import { normalizeAnswer, type ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { mergeAnswers } from '../../src/collect/chart-repo-merge.ts';
import { facetsOf, renderPairPart } from '../../src/collect/chart-repo-part.ts';
import { digestOf } from '../../src/content-digest.ts';
import { chartItemKeys, type ChartRepoApp, type ChartRepoImage, type ChartRepoStatus, type HydratorTask } from '../../src/model/index.ts';
import type { ChartRepoFrame, ChartRepoPairSlot, Facets, StateFilter, StoreStep } from '../../src/protocol.ts';
import type { ChartIndex } from '../../src/store/chart-repo-items.ts';
import { filteredRendering, holdPair, indexPairs, renderPairsInto } from '../../src/store/chart-repo-pairs.ts';
import { renderChartChanges } from '../../src/http/stream.ts';
import { ChartRepoView } from '../../src/store/chart-repo-view.ts';
import { renderHeld } from '../helpers/chart-repo-held.ts';
import { passProblem } from '../../src/store/pass-check.ts';
import { pushed } from '../helpers/store-fixtures.ts';

const { applyChartChange } = await import('../helpers/chart-change.js' as string) as {
  applyChartChange: (current: unknown, ch: unknown) => { images?: unknown[] };
};

const T = '2026-12-01T10:00:00Z';
type Answer = Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>;
/** a pair's answer, as the collector normalized it */
const answerOf = (user: string, ...apps: string[]): Answer => ({
  apps: apps.map((a) => ({ app_id: a, app_name: a, user_id: user, source_id: 'market', state: 'completed', last_update: T })),
  images: apps.map((a) => ({ image_name: `${a}:1`, app_name: a, status: 'fully_downloaded', last_update: T })) as ChartRepoAnswer['images'],
  hydrator: { queue_length: 1, active_tasks: 0, completed_tasks: 2, failed_tasks: 0, worker_count: 1, tasks: [{ task_id: `${user}-t`, user_id: user, app_name: apps[0] }] } as ChartRepoAnswer['hydrator'],
});
/** the same, as the collector sends it (each call a fresh copy, as a message gives the store) */
const part = (user: string, ...apps: string[]) => renderPairPart(answerOf(user, ...apps));
const step = (slots: ChartRepoPairSlot[]): Extract<StoreStep, { op: 'chart_repo_pairs' }> => ({
  op: 'chart_repo_pairs', frame: { last_update: T, system: { hostname: 'cr' } }, shared_content: 's1', pairs: slots,
});
const answer = (p: Answer): ChartRepoAnswer => ({ ...p, dropped: 0, unfamiliar_values: 0, bad_times: 0, bad_durations: 0, clipped_values: 0 });
const appNames = (json: string) => (JSON.parse(json) as { apps?: { app_name: string }[] }).apps?.map((a) => a.app_name);

describe('ChartRepoView.setPairs', () => {
  it('merges the parts as the collector would have, and keeps a part sent once', () => {
    const view = new ChartRepoView();
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1', part: part('alice', 'wiki') }, { user: 'bob', source: 'market', content: 'b1', part: part('bob', 'blog', 'chat') }])))
      .toEqual({ changed: true, reread: [] });
    const shared = { ...answer({ apps: [], images: [] }), system: { hostname: 'cr' } };
    expect(renderHeld(view.held!)).toBe(JSON.stringify(mergeAnswers([shared, answer(answerOf('alice', 'wiki')), answer(answerOf('bob', 'blog', 'chat'))], T)));
    expect(view.held!.content).toBe(digestOf(['alice\u0000market', 'a1', 'bob\u0000market', 'b1', 's1']));
    // the same pairs without their parts: nothing changes
    const before = view.held;
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1' }, { user: 'bob', source: 'market', content: 'b1' }])))
      .toEqual({ changed: false, reread: [] });
    expect(renderHeld(view.held!)).toBe(renderHeld(before!));
    // bob leaves
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1' }])).changed).toBe(true);
    expect(appNames(renderHeld(view.held!))).toEqual(['wiki']);
  });

  it('asks again for a pair it does not hold, or holds with other content, and keeps what it has meanwhile', () => {
    const view = new ChartRepoView();
    view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1', part: part('alice', 'wiki') }]));
    const r = view.setPairs(step([{ user: 'alice', source: 'market', content: 'a2' }, { user: 'bob', source: 'market', content: 'b1' }]));
    expect(r.reread).toEqual(['alice\u0000market', 'bob\u0000market']);
    expect(appNames(renderHeld(view.held!))).toEqual(['wiki']);
    // what the store holds is not what the collector said: the digest says so
    expect(view.held!.content).not.toBe(digestOf(['alice\u0000market', 'a2', 'bob\u0000market', 'b1', 's1']));
  });

  it('a new collector thread sending the same content with its own times mints no version; the held times stand', () => {
    const analyzer = (lastCheck: string) => ({
      is_running: true, health_status: 'healthy', last_check: lastCheck, queue_length: 0, active_workers: 1, cached_images: 3,
      analyzing_count: 0, total_analyzed: 3, successful_analyzed: 3, failed_analyzed: 0, average_analysis_time: 0,
    });
    const pass = (at: string, shared: string, withPart: boolean): Extract<StoreStep, { op: 'chart_repo_pairs' }> => ({
      op: 'chart_repo_pairs', frame: { last_update: at, system: { hostname: 'cr' }, image_analyzer: analyzer(at) }, shared_content: shared,
      pairs: [{ user: 'alice', source: 'market', content: 'a1', ...(withPart ? { part: part('alice', 'wiki') } : {}) }],
    });
    const view = new ChartRepoView();
    view.setPairs(pass(T, 's1', true));
    const before = renderHeld(view.held!);
    view.takeChanges();
    // the thread dies; its successor starts afresh: since now, last checked now, every part sent again
    const later = '2026-12-01T10:05:00Z';
    expect(view.setPairs(pass(later, 's1', true)).changed).toBe(false);
    expect(view.setPairs(pass(later, 's1', false)).changed).toBe(false);
    expect(renderHeld(view.held!)).toBe(before);
    expect(view.takeChanges()).toBeUndefined();
    // what the Chart Repo says of itself changes: a version, with the new times
    expect(view.setPairs(pass(later, 's2', false)).changed).toBe(true);
    expect(JSON.parse(renderHeld(view.held!))).toMatchObject({ last_update: later, tasks: { image_analyzer: { last_check: later } } });
  });
});

describe('parts sent ahead of a pass (chart_repo_parts)', () => {
  it('are unseen until the pass names them by content, then held; what it does not name is dropped', () => {
    const view = new ChartRepoView();
    view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1', part: part('alice', 'wiki') }]));
    const before = renderHeld(view.held!);
    view.stage([{ user: 'alice', source: 'market', content: 'a2', part: part('alice', 'wiki', 'blog') }, { user: 'bob', source: 'market', content: 'b1', part: part('bob', 'chat') }]);
    expect(renderHeld(view.held!)).toBe(before);
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a2' }, { user: 'bob', source: 'market', content: 'b1' }])))
      .toEqual({ changed: true, reread: [] });
    expect(appNames(renderHeld(view.held!))).toEqual(['wiki', 'blog', 'chat']);
    // a part staged for other content is no answer for it, and staged parts last one pass
    view.stage([{ user: 'alice', source: 'market', content: 'a3', part: part('alice', 'notes') }]);
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a4' }, { user: 'bob', source: 'market', content: 'b1' }])).reread)
      .toEqual(['alice\u0000market']);
    view.stage([{ user: 'carol', source: 'market', content: 'c1', part: part('carol', 'maps') }]);
    view.setPairs(step([{ user: 'bob', source: 'market', content: 'b1' }]));
    expect(view.setPairs(step([{ user: 'bob', source: 'market', content: 'b1' }, { user: 'carol', source: 'market', content: 'c1' }])).reread)
      .toEqual(['carol\u0000market']);
  });
});

describe('a chart_repo_pairs step that does not fit', () => {
  it.each([
    ['no frame', { op: 'chart_repo_pairs', shared_content: '', pairs: [] }],
    ['pairs not a list', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: {} }],
    ['a pair without content', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: [{ user: 'a', source: 'm' }] }],
    ['a part without images', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: [{ user: 'a', source: 'm', content: 'x', part: { apps: [] } }] }],
    ['an item not rendered', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: [{ user: 'a', source: 'm', content: 'x', part: { apps: [{ app_name: 'w' }], images: [] } }] }],
    ['parts ahead without their parts', { op: 'chart_repo_parts', pairs: [{ user: 'a', source: 'm', content: 'x' }] }],
    ['a hydrator without its lists', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: [{ user: 'a', source: 'm', content: 'x', part: { apps: [], images: [], hydrator: { counters: {} } } }] }],
  ])('is a malformed pass: %s', (_what, s) => {
    expect(passProblem(pushed('chart_repo', [s as never]))).toMatch(/chart_repo_pa(irs|rts)/);
  });
});

type PairAnswers = { user: string; source: string; answer: ChartRepoAnswer }[];

/** What a filter keeps of the merged view: the answers of the pairs it names, each narrowed to the items of its app; the hydrator's counters of every pair. */
function filteredView(value: ChartRepoStatus, answers: PairAnswers, f: StateFilter): ChartRepoStatus {
  const named = <T extends { app_name?: string }>(xs: T[] | undefined) => xs?.filter((x) => f.app_name === undefined || x.app_name === f.app_name);
  const kept = answers.filter((a) => (f.user_id === undefined || a.user === f.user_id) && (f.source_id === undefined || a.source === f.source_id))
    .map(({ answer: a }) => ({ ...a, apps: named(a.apps)!, images: named(a.images)!,
      ...(a.hydrator ? { hydrator: { ...a.hydrator, tasks: named(a.hydrator.tasks), recent_failed: named(a.hydrator.recent_failed) } } : {}) }));
  const lists = mergeAnswers(kept, value.last_update);
  const hydrator = value.tasks?.hydrator && { ...value.tasks.hydrator, tasks: lists.tasks?.hydrator?.tasks, recent_failed: lists.tasks?.hydrator?.recent_failed };
  return { ...value, apps: lists.apps, images: lists.images, tasks: value.tasks && { ...value.tasks, hydrator } };
}

/**
 * The merged view's items as the stream reads them: by key (the last of equal keys wins), with their JSON and
 * facets; an image has the user and source of the answer that listed it.
 */
function indexOf(answers: PairAnswers) {
  const byKey = <T extends object>(items: [T, Facets][], key: (x: T) => string) =>
    [...new Map(items.map(([x, facets]) => [key(x), [key(x), JSON.stringify(x), facets]])).values()];
  return {
    apps: byKey(answers.flatMap((a) => a.answer.apps.map((x) => [x, facetsOf(x)] as [ChartRepoApp, Facets])), chartItemKeys.apps),
    images: byKey(answers.flatMap(({ user, source, answer: a }) => a.images.map((i) =>
      [i, { ...(i.app_name === undefined ? {} : { app_name: i.app_name }), users: [user], sources: [source] }] as [ChartRepoImage, Facets])), chartItemKeys.images),
    hydrator_tasks: byKey(answers.flatMap((a) => (a.answer.hydrator?.tasks ?? []).map((t) => [t, facetsOf(t)] as [HydratorTask, Facets])), chartItemKeys.hydrator_tasks),
  };
}

describe('the view put together from what each pair rendered', () => {
  const frames: [string, ChartRepoFrame][] = [
    ['only last_update', { last_update: T }],
    ['system and image analyzer', { last_update: T, system: { hostname: 'cr', version: '1' }, image_analyzer: { is_running: true, queue_length: 3 } as ChartRepoFrame['image_analyzer'] }],
  ];
  const noHydrator = (p: Answer): Answer => ({ apps: p.apps, images: p.images });
  const recentOnly = (p: Answer): Answer => ({ ...p, hydrator: { ...p.hydrator!, tasks: undefined, recent_failed: [{ task_id: 'r1', user_id: 'x', app_name: 'y' }] } as ChartRepoAnswer['hydrator'] });
  const pairsCases: [string, [string, Answer][]][] = [
    ['no pairs', []],
    ['one pair', [['alice', answerOf('alice', 'wiki')]]],
    ['pairs with and without items and hydrators', [['alice', answerOf('alice', 'wiki', 'blog')], ['bob', noHydrator(answerOf('bob'))], ['carol', recentOnly(answerOf('carol', 'chat'))]]],
    ['the same image in two pairs', [['alice', answerOf('alice', 'wiki')], ['bob', answerOf('bob', 'wiki')]]],
  ];
  const filters: StateFilter[] = [{ user_id: 'alice' }, { user_id: 'bob', source_id: 'market' }, { source_id: 'other' }, { app_name: 'wiki' }, { app_name: 'y' }, { user_id: 'alice', app_name: 'blog' }];
  /** index items as the stream reads them (held items carry their key and state too) */
  const plain = (index: ChartIndex) => Object.fromEntries(Object.entries(index.lists).map(([list, items]) =>
    [list, [...items].map(([key, it]) => [key, it.json, it.facets])]));
  for (const [fname, frame] of frames) {
    it.each(pairsCases)(`is the merged view's JSON, filtered JSON, overview and index (${fname}): %s`, (_what, cases) => {
      const held = cases.map(([user, a]) => holdPair(user, 'market', 'c', renderPairPart(a)));
      const answers = cases.map(([user, a]) => ({ user, source: 'market', answer: answer(a) }));
      const shared = { ...answer({ apps: [], images: [] }), ...(frame.system ? { system: frame.system } : {}), ...(frame.image_analyzer ? { image_analyzer: frame.image_analyzer } : {}) };
      const value = mergeAnswers([shared, ...answers.map((a) => a.answer)], frame.last_update);
      const render = (what?: Parameters<typeof renderPairsInto>[3]) => {
        const out: string[] = [];
        renderPairsInto(out, frame, held, what);
        return out.join('');
      };
      expect(render()).toBe(JSON.stringify(value));
      for (const f of filters) expect(JSON.parse(render(filteredRendering(f))), JSON.stringify(f)).toEqual(filteredView(value, answers, f));
      const { apps: _apps, images: _images, ...overview } = value;
      expect(render({ without: ['apps', 'images'] })).toBe(JSON.stringify(overview));
      const index = indexPairs(frame, held);
      // its frame: the overview without the hydrator's tasks
      expect(JSON.parse(index.frame)).toEqual({ ...overview, tasks: overview.tasks && { ...overview.tasks, hydrator: overview.tasks.hydrator && { ...overview.tasks.hydrator, tasks: undefined } } });
      expect(plain(index)).toEqual(indexOf(answers));
    });
  }
});

describe('one image in two users\' answers (the Chart Repo lists an image for every user who has it)', () => {
  /** a pair's answer listing nginx in `status`, normalized as the collector does for that pair */
  const partWith = (user: string, status: string) => {
    const r = normalizeAnswer({ success: true, data: { images: [{ image_name: 'nginx:1.25', app_name: 'web', status }] } }, T,
      { user, source: 'market' });
    if (!r.ok) throw new Error(r.error);
    return renderPairPart(r.answer);
  };
  const pass = (view: ChartRepoView, alice: string, bob: string) => view.setPairs(step([
    { user: 'alice', source: 'market', content: `a-${alice}`, part: partWith('alice', alice) },
    { user: 'bob', source: 'market', content: `b-${bob}`, part: partWith('bob', bob) },
  ]));
  const sorted = (images: unknown[] | undefined) => (images ?? []).map((i) => JSON.stringify(i)).sort();

  it.each([['alice', 'failed', 'downloading'], ['bob', 'downloading', 'failed']])(
    'is two items, each with its user: a change to %s\'s copy reaches every client that holds it',
    (_who, alice, bob) => {
      const view = new ChartRepoView();
      pass(view, 'downloading', 'downloading');
      view.takeChanges();
      const filters: (StateFilter | null)[] = [null, { user_id: 'alice' }, { user_id: 'bob' }];
      const before = filters.map((f) => JSON.parse(renderHeld(view.held!, f)));
      expect(before[0].images.map((i: { user_id: string }) => i.user_id)).toEqual(['alice', 'bob']);
      expect(pass(view, alice, bob).changed).toBe(true);
      const changes = view.takeChanges()!;
      filters.forEach((f, n) => {
        const after = JSON.parse(renderHeld(view.held!, f));
        const text = renderChartChanges(changes, f);
        const applied = text ? applyChartChange(before[n], JSON.parse(text)) : before[n];
        expect(sorted(applied.images), JSON.stringify(f)).toEqual(sorted(after.images));
      });
    },
  );

  it('an image, app or hydrator task repeated in one answer is kept once, the repeat counted as dropped', () => {
    const r = normalizeAnswer({ success: true, data: {
      apps: [{ app_name: 'web', user_id: 'alice', source_id: 'market', state: 'completed' },
        { app_name: 'web', user_id: 'alice', source_id: 'market', state: 'failed' }],
      images: [{ image_name: 'nginx:1.25', status: 'fully_downloaded' }, { image_name: 'nginx:1.25', status: 'registry_error' }],
      tasks: { hydrator: { tasks: [{ task_id: 'h1', user_id: 'alice', source_id: 'market' }, { task_id: 'h1', user_id: 'alice', source_id: 'market' }] } },
    } }, T, { user: 'alice', source: 'market' });
    if (!r.ok) throw new Error(r.error);
    expect(r.answer.apps.map((a) => a.state)).toEqual(['completed']);
    expect(r.answer.images.map((i) => [i.status, i.user_id, i.source_id])).toEqual([['fully_downloaded', 'alice', 'market']]);
    expect(r.answer.hydrator?.tasks).toHaveLength(1);
    expect(r.answer.dropped).toBe(3);
  });
});
