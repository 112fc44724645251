import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import type { StateFilter } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { wikiAnswer } from '../helpers/chart-repo-arbitraries.ts';
import { chartRepoPairs, pass, type PairAnswer } from '../helpers/store-fixtures.ts';

const NOW = '2026-12-01T10:00:00.000Z';

/** Three users whose answers all name the same app; the hydrator tasks carry no user: the answer says whose they are. */
function answer(user: string, source: string): PairAnswer {
  const r = normalizeAnswer({ success: true, data: {
    apps: [{ app_id: 'wiki', app_name: 'wiki', user_id: user, source_id: source, state: 'completed' }],
    images: [{ image_name: `wiki-${user}-${source}:1`, app_name: 'wiki', status: 'fully_downloaded' }],
    tasks: { hydrator: { queue_length: 1, tasks: [{ task_id: `t-${user}-${source}` }], recent_failed: [{ task_id: `f-${user}-${source}` }] } },
  } }, NOW, { user, source });
  if (!r.ok) throw new Error(r.error);
  return { user, source, answer: r.answer };
}

const store = new RuntimeStore(() => new Date(NOW));
store.apply(pass('chart_repo', [chartRepoPairs([answer('alice', 'market'), answer('bob', 'market'), answer('carol', 'market'), answer('alice', 'local')], { last_update: NOW })], { finished_at: NOW }));
store.commit();
type Chart = { apps?: { user_id: string; source_id: string }[]; images?: { image_name: string }[]; tasks: { hydrator: { queue_length: number; tasks?: { task_id: string }[]; recent_failed?: { task_id: string }[] } } };
const chart = (f: StateFilter): Chart => JSON.parse(store.state(f)).chart_repo;

describe('chart_repo narrowed by user and source: by the answer each item came from', () => {
  it('a user keeps exactly the images and hydrator tasks of that user\'s answers, not a third of all images', () => {
    const alice = chart({ user_id: 'alice' });
    expect(alice.images?.map((i) => i.image_name)).toEqual(['wiki-alice-market:1', 'wiki-alice-local:1']);
    expect(alice.tasks.hydrator.tasks?.map((t) => t.task_id)).toEqual(['t-alice-market', 't-alice-local']);
    expect(alice.tasks.hydrator.recent_failed?.map((t) => t.task_id)).toEqual(['f-alice-market', 'f-alice-local']);
    expect(alice.apps?.map((a) => `${a.user_id}/${a.source_id}`)).toEqual(['alice/market', 'alice/local']);
    // the counters stay whole
    expect(alice.tasks.hydrator.queue_length).toBe(4);
    expect(chart({ user_id: 'bob' }).images?.map((i) => i.image_name)).toEqual(['wiki-bob-market:1']);
  });

  it('user and source together keep one answer; an app name narrows within it', () => {
    expect(chart({ user_id: 'alice', source_id: 'local' }).images?.map((i) => i.image_name)).toEqual(['wiki-alice-local:1']);
    expect(chart({ source_id: 'market', app_name: 'wiki' }).images).toHaveLength(3);
    expect(chart({ user_id: 'nobody' })).not.toHaveProperty('images');
  });
});

describe('a narrowed view names its own content (its ETag)', () => {
  const s = new RuntimeStore(() => new Date(NOW));
  let seq = 0;
  const apply = (...answers: PairAnswer[]) => {
    s.apply(pass('chart_repo', [chartRepoPairs(answers, { last_update: NOW })], { finished_at: NOW }, ++seq));
    s.commit();
  };
  const tag = (f: StateFilter) => s.stateInto([], f);
  const body = (f: StateFilter) => s.state(f).replace(/"version":\d+,/, '');
  const ALICE: StateFilter = { user_id: 'alice' };
  const BOB: StateFilter = { user_id: 'bob' };

  it('stays while only another user\'s Chart Repo items move (the answer reads the same); moves with its own', () => {
    apply(wikiAnswer('alice', 'completed'), wikiAnswer('bob', 'completed'));
    const [alice, bob, all, byApp] = [tag(ALICE), tag(BOB), tag({ task_status: 'running' }), tag({ app_name: 'wiki' })];
    const aliceBody = body(ALICE);
    apply(wikiAnswer('alice', 'completed'), wikiAnswer('bob', 'processing'));
    // what alice is shown did not change: neither does its tag
    expect(body(ALICE)).toBe(aliceBody);
    expect(tag(ALICE)).toBe(alice);
    // what changed for bob, for the whole view and for every wiki does change theirs
    expect(tag(BOB)).not.toBe(bob);
    expect(tag({ task_status: 'running' })).not.toBe(all);
    expect(tag({ app_name: 'wiki' })).not.toBe(byApp);
    apply(wikiAnswer('alice', 'failed'), wikiAnswer('bob', 'processing'));
    expect(tag(ALICE)).not.toBe(alice);
  });

  it('moves when what every narrowed view shows of the whole moves: the hydrator\'s summed counters', () => {
    apply(wikiAnswer('alice', 'completed'), wikiAnswer('bob', 'completed'));
    const alice = tag(ALICE);
    const aliceBody = body(ALICE);
    apply(wikiAnswer('alice', 'completed'), wikiAnswer('bob', 'completed', 5));
    expect(body(ALICE)).not.toBe(aliceBody);
    expect(tag(ALICE)).not.toBe(alice);
  });

  it('two stores holding the same view give one narrowed tag', () => {
    const other = new RuntimeStore(() => new Date(NOW));
    other.apply(pass('chart_repo', [chartRepoPairs([wikiAnswer('alice', 'completed'), wikiAnswer('bob', 'processing')], { last_update: NOW })], { finished_at: NOW }));
    other.commit();
    apply(wikiAnswer('alice', 'completed'), wikiAnswer('bob', 'completed'));
    apply(wikiAnswer('alice', 'completed'), wikiAnswer('bob', 'processing'));
    expect(other.stateInto([], ALICE)).toBe(tag(ALICE));
    expect(other.stateInto([], BOB)).toBe(tag(BOB));
  });
});
