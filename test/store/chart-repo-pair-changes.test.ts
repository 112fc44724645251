/**
 * A changed Chart Repo pair crosses as changes to the part the store holds (issue 20: cost follows change): its
 * unchanged items as their places in the held part, so a pass that moved one app of a user's tens renders,
 * sends and holds that one app.
 */
import { describe, expect, it } from 'vitest';
import type { ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { renderPairChanges, renderPairPart } from '../../src/collect/chart-repo-part.ts';
import type { ChartRepoPairSlot, StoreStep } from '../../src/protocol.ts';
import { ChartRepoView } from '../../src/store/chart-repo-view.ts';
import { passProblem } from '../../src/store/pass-check.ts';
import { renderHeld } from '../helpers/chart-repo-held.ts';
import { pushed } from '../helpers/store-fixtures.ts';

const T = '2026-12-01T10:00:00Z';
const T2 = '2026-12-01T10:00:30Z';
type Answer = Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>;

/** alice's answer: an app and its image per name, a hydrator task */
const answerOf = (...apps: string[]): Answer => ({
  apps: apps.map((a) => ({ app_id: a, app_name: a, user_id: 'alice', source_id: 'market', state: 'completed', last_update: T })),
  images: apps.map((a) => ({ image_name: `${a}:1`, app_name: a, status: 'fully_downloaded', last_update: T })) as ChartRepoAnswer['images'],
  hydrator: { queue_length: 0, active_tasks: 1, completed_tasks: 2, failed_tasks: 0, worker_count: 1, tasks: [{ task_id: 't1', user_id: 'alice', app_name: apps[0] }] } as ChartRepoAnswer['hydrator'],
});
/** the answer after `name` failed, every other item the earlier answer's own object (keepAnswerTimes) */
const failed = (before: Answer, name: string): Answer => ({
  ...before,
  apps: before.apps.map((a) => (a.app_name === name ? { ...a, state: 'failed', last_update: T2 } : a)),
});
const step = (...pairs: ChartRepoPairSlot[]): Extract<StoreStep, { op: 'chart_repo_pairs' }> => ({
  op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: 's', pairs,
});
/** as a message gives it to the store thread */
const crossed = <T>(x: T): T => structuredClone(x);
const bob = { user: 'bob', source: 'market', content: 'b1', part: renderPairPart({ apps: [], images: [] }) };

/** a view holding alice's `a1` (and bob), its changes taken */
function holding(a1: Answer): ChartRepoView {
  const view = new ChartRepoView();
  view.setPairs(step({ user: 'alice', source: 'market', content: 'a1', part: crossed(renderPairPart(a1)) }, crossed(bob)));
  view.takeChanges();
  return view;
}

describe('a pair sent as changes to the part held', () => {
  const a1 = answerOf('wiki', 'blog', 'chat');
  const a2 = failed(a1, 'blog');

  it('renders only what moved, the rest as places in the part held', () => {
    const part = renderPairChanges(a2, a1);
    expect(part.apps.map((a) => (typeof a === 'number' ? a : JSON.parse(a.json).app_name))).toEqual([0, 'blog', 2]);
    expect(part.images).toEqual([0, 1, 2]);
    expect(part.hydrator!.tasks).toEqual([0]);
    // a task that moved goes rendered
    const moved = renderPairChanges({ ...a2, hydrator: { ...a2.hydrator!, tasks: [{ ...a2.hydrator!.tasks![0]!, status: 'running' }] } }, a1);
    expect(moved.hydrator!.tasks.map((t) => typeof t === 'number' ? t : JSON.parse(t.json).status)).toEqual(['running']);
  });

  it.each([['in the pass', false], ['ahead of the pass', true]])('is held as if sent whole (%s), and the stream carries only what moved', (_how, ahead) => {
    const view = holding(a1);
    const slot = { user: 'alice', source: 'market', content: 'a2', base: 'a1', part: crossed(renderPairChanges(a2, a1)) };
    if (ahead) view.stage([slot]);
    const r = view.setPairs(step(ahead ? { user: 'alice', source: 'market', content: 'a2' } : slot, { ...bob, part: undefined }));
    expect(r).toEqual({ changed: true, reread: [] });
    const whole = holding(a1);
    whole.setPairs(step({ user: 'alice', source: 'market', content: 'a2', part: crossed(renderPairPart(a2)) }, { ...bob, part: undefined }));
    expect(renderHeld(view.held!)).toBe(renderHeld(whole.held!));
    for (const f of [{ user_id: 'alice' }, { app_name: 'blog' }, { app_name: 'wiki' }]) expect(renderHeld(view.held!, f)).toBe(renderHeld(whole.held!, f));
    const changes = view.takeChanges()!;
    expect(changes.apps.map((c) => [c.key, JSON.parse(c.json!).state])).toEqual([['alice:market:blog', 'failed']]);
    expect(changes.images).toEqual([]);
    // and the next change builds on this one
    const a3 = failed(a2, 'chat');
    view.setPairs(step({ user: 'alice', source: 'market', content: 'a3', base: 'a2', part: crossed(renderPairChanges(a3, a2)) }, { ...bob, part: undefined }));
    expect((JSON.parse(renderHeld(view.held!)) as { apps: { state: string }[] }).apps.map((a) => a.state)).toEqual(['completed', 'failed', 'failed']);
    expect(view.takeChanges()!.apps.map((c) => c.key)).toEqual(['alice:market:chat']);
  });

  it.each([
    ['the store holds other content', { base: 'a0', part: renderPairChanges(a2, a1) }],
    ['a place past the list held', { base: 'a1', part: { ...renderPairChanges(a2, a1), apps: [0, 1, 7] } }],
    ['places with no base', { part: renderPairChanges(a2, a1) }],
  ])('cannot be taken when %s: the pair is asked for again and what is held stays', (_what, sent) => {
    const view = holding(a1);
    const before = renderHeld(view.held!);
    const slot = { user: 'alice', source: 'market', content: 'a2', ...crossed(sent) };
    expect(view.setPairs(step(slot, { ...bob, part: undefined })).reread).toEqual(['alice\u0000market']);
    expect(renderHeld(view.held!)).toBe(before);
    expect(view.takeChanges()).toBeUndefined();
    // sent ahead: dropped the same way
    view.stage([slot]);
    expect(view.setPairs(step({ user: 'alice', source: 'market', content: 'a2' }, { ...bob, part: undefined })).reread).toEqual(['alice\u0000market']);
  });

  it('is a malformed pass when it has places but no base, or a place that is not one', () => {
    const pass = (slot: object) => pushed('chart_repo', [{ op: 'chart_repo_pairs', frame: { last_update: T }, shared_content: '', pairs: [slot] } as never]);
    const part = renderPairChanges(a2, a1);
    expect(passProblem(pass({ user: 'alice', source: 'market', content: 'a2', base: 'a1', part }))).toBeNull();
    expect(passProblem(pass({ user: 'alice', source: 'market', content: 'a2', part }))).toMatch(/chart_repo_pairs/);
    expect(passProblem(pass({ user: 'alice', source: 'market', content: 'a2', base: 'a1', part: { ...part, apps: [-1] } }))).toMatch(/chart_repo_pairs/);
    expect(passProblem(pass({ user: 'alice', source: 'market', content: 'a2', base: 7, part }))).toMatch(/chart_repo_pairs/);
  });
});
