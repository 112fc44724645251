/**
 * The Chart Repo view crosses to the store as its parts (issue 20: cost follows change): the store merges what
 * it holds per (user, source) pair exactly as the collector would have, and says which pairs it was told to
 * keep but does not hold.
 */
import { describe, expect, it } from 'vitest';
import { mergeAnswers, originsOf, type ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { digestOf } from '../../src/content-digest.ts';
import type { ChartRepoFrame, ChartRepoPairPart, ChartRepoPairSlot, StoreStep } from '../../src/protocol.ts';
import { indexChartRepo } from '../../src/store/chart-repo-items.ts';
import { holdPair, indexPairs, renderPairsInto } from '../../src/store/chart-repo-pairs.ts';
import { ChartRepoView, renderHeld } from '../../src/store/chart-repo-view.ts';
import { passProblem } from '../../src/store/pass-check.ts';

const T = '2026-12-01T10:00:00Z';
const part = (user: string, ...apps: string[]): ChartRepoPairPart => ({
  apps: apps.map((a) => ({ app_id: a, app_name: a, user_id: user, source_id: 'market', state: 'completed', last_update: T })),
  images: apps.map((a) => ({ image_name: `${a}:1`, app_name: a, status: 'fully_downloaded', last_update: T })) as ChartRepoPairPart['images'],
  hydrator: { queue_length: 1, active_tasks: 0, completed_tasks: 2, failed_tasks: 0, worker_count: 1, tasks: [{ task_id: `${user}-t`, user_id: user, app_name: apps[0] }] } as ChartRepoPairPart['hydrator'],
});
const step = (slots: ChartRepoPairSlot[]): Extract<StoreStep, { op: 'chart_repo_pairs' }> => ({
  op: 'chart_repo_pairs', frame: { last_update: T, system: { hostname: 'cr' } }, shared_content: 's1', pairs: slots,
});
const answer = (p: ChartRepoPairPart): ChartRepoAnswer => ({ ...p, dropped: 0, unfamiliar_values: 0, bad_times: 0, bad_durations: 0 });

describe('ChartRepoView.setPairs', () => {
  it('merges the parts as the collector would have, and keeps a part sent once', () => {
    const view = new ChartRepoView();
    const alice = part('alice', 'wiki');
    const bob = part('bob', 'blog', 'chat');
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1', part: alice }, { user: 'bob', source: 'market', content: 'b1', part: bob }])))
      .toEqual({ changed: true, reread: [] });
    const shared = { ...answer({ apps: [], images: [] }), system: { hostname: 'cr' } };
    const answers = [{ user: 'alice', source: 'market', answer: answer(alice) }, { user: 'bob', source: 'market', answer: answer(bob) }];
    expect(view.held!.value).toEqual(mergeAnswers([shared, ...answers.map((a) => a.answer)], T));
    expect(view.held!.origins).toEqual(originsOf(answers));
    expect(view.held!.content).toBe(digestOf(['alice\u0000market', 'a1', 'bob\u0000market', 'b1', 's1']));
    // the same pairs without their parts: nothing changes
    const before = view.held;
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1' }, { user: 'bob', source: 'market', content: 'b1' }])))
      .toEqual({ changed: false, reread: [] });
    expect(renderHeld(view.held!)).toBe(renderHeld(before!));
    // bob leaves
    expect(view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1' }])).changed).toBe(true);
    expect(view.held!.value.apps!.map((a) => a.app_name)).toEqual(['wiki']);
  });

  it('asks again for a pair it does not hold, or holds with other content, and keeps what it has meanwhile', () => {
    const view = new ChartRepoView();
    view.setPairs(step([{ user: 'alice', source: 'market', content: 'a1', part: part('alice', 'wiki') }]));
    const r = view.setPairs(step([{ user: 'alice', source: 'market', content: 'a2' }, { user: 'bob', source: 'market', content: 'b1' }]));
    expect(r.reread).toEqual(['alice\u0000market', 'bob\u0000market']);
    expect(view.held!.value.apps!.map((a) => a.app_name)).toEqual(['wiki']);
    // what the store holds is not what the collector said: the digest says so
    expect(view.held!.content).not.toBe(digestOf(['alice\u0000market', 'a2', 'bob\u0000market', 'b1', 's1']));
  });
});

describe('a chart_repo_pairs step that does not fit', () => {
  it.each([
    ['no frame', { op: 'chart_repo_pairs', shared_content: '', pairs: [] }],
    ['pairs not a list', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: {} }],
    ['a pair without content', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: [{ user: 'a', source: 'm' }] }],
    ['a part without images', { op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: [{ user: 'a', source: 'm', content: 'x', part: { apps: [] } }] }],
  ])('is a malformed pass: %s', (_what, s) => {
    expect(passProblem({ type: 'pass', seq: 1, source: 'chart_repo', steps: [s] })).toMatch(/chart_repo_pairs/);
  });
});

describe('the view put together from what each pair rendered', () => {
  const frames: [string, ChartRepoFrame][] = [
    ['only last_update', { last_update: T }],
    ['system and image analyzer', { last_update: T, system: { hostname: 'cr', version: '1' }, image_analyzer: { is_running: true, queue_length: 3 } as ChartRepoFrame['image_analyzer'] }],
  ];
  const noHydrator = (p: ChartRepoPairPart): ChartRepoPairPart => ({ apps: p.apps, images: p.images });
  const recentOnly = (p: ChartRepoPairPart): ChartRepoPairPart => ({ ...p, hydrator: { ...p.hydrator!, tasks: undefined, recent_failed: [{ task_id: 'r1', user_id: 'x', app_name: 'y' }] } as ChartRepoPairPart['hydrator'] });
  const pairsCases: [string, [string, ChartRepoPairPart][]][] = [
    ['no pairs', []],
    ['one pair', [['alice', part('alice', 'wiki')]]],
    ['pairs with and without items and hydrators', [['alice', part('alice', 'wiki', 'blog')], ['bob', noHydrator(part('bob'))], ['carol', recentOnly(part('carol', 'chat'))]]],
    ['the same image in two pairs', [['alice', part('alice', 'wiki')], ['bob', part('bob', 'wiki')]]],
  ];
  for (const [fname, frame] of frames) {
    it.each(pairsCases)(`is the merged view's JSON and index (${fname}): %s`, (_what, cases) => {
      const held = cases.map(([user, p]) => holdPair(user, 'market', 'c', answer(p)));
      const shared = { ...answer({ apps: [], images: [] }), ...(frame.system ? { system: frame.system } : {}), ...(frame.image_analyzer ? { image_analyzer: frame.image_analyzer } : {}) };
      const value = mergeAnswers([shared, ...held.map((h) => h.answer)], frame.last_update);
      const out: string[] = [];
      renderPairsInto(out, frame, held);
      expect(out.join('')).toBe(JSON.stringify(value));
      expect(indexPairs(value, held)).toEqual(indexChartRepo(value, originsOf(held)));
    });
  }
});
