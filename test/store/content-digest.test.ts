/**
 * ETags name content (issue 17): two stores that hold the same content — a restarted store, another
 * replica — get the same digest, whatever order the rows came in and whenever each store saw them; any
 * change a reader can see gives another digest.
 */
import { describe, expect, it } from 'vitest';
import { ContentDigest } from '../../src/content-digest.ts';
import type { ComponentStatus, TaskState } from '../../src/model/index.ts';
import type { PassMessage, StoreStep } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { app, chartRepoView, pass as passAt, T0, task } from '../helpers/store-fixtures.ts';

const T1 = '2026-11-25T10:00:07.000Z';

const comp = (name: string, seen: string, over: Partial<ComponentStatus> = {}): ComponentStatus => (
  { name, healthy: true, status: 'running', last_check: seen, ...over });
const chart = (state: string, seen: string): StoreStep => chartRepoView({
  apps: [{ app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market', state, last_update: seen }],
  images: [], last_update: seen,
});

const pass = (source: PassMessage['source'], steps: StoreStep[], at: string, error: string | null = null): PassMessage =>
  passAt(source, steps, { ok: error === null, error, finished_at: at });

/** A store fed one market, as a replica would see it: at its own times, in its own order. */
function replica(seen: string, order: 'forward' | 'backward', over: { stage?: string; chartState?: string; error?: string } = {}) {
  const s = new RuntimeStore(() => new Date(seen));
  const seenApp = (name: string) => app('alice', 'market', name, { last_update: seen });
  const apps = [{ ...seenApp('wiki'), ...(over.stage ? { stage: over.stage as never } : {}) }, seenApp('blog'), seenApp('chat')];
  const tasks = [task('t1', 'wiki', 'alice', { status: 'running' }), task('t2', 'wiki', 'alice', { status: 'pending' })];
  const passes = [
    pass('app_flow', [{ op: 'replace', domain: 'app_states', items: order === 'forward' ? apps : [...apps].reverse() }], seen),
    pass('tasks', [{ op: 'replace', domain: 'tasks', items: order === 'forward' ? tasks : [...tasks].reverse() }], seen),
    pass('components', [{ op: 'replace', domain: 'components', items: [comp('syncer', seen), comp('cache', seen)] }], seen, over.error ?? null),
    pass('chart_repo', [chart(over.chartState ?? 'completed', seen)], seen),
  ];
  for (const p of order === 'forward' ? passes : [...passes].reverse()) s.apply(p);
  return s.commit()!;
}

describe('the content digest of a version', () => {
  it('is the same on two stores holding the same content, seen at other times and in another order', () => {
    const a = replica(T0, 'forward');
    const b = replica(T1, 'backward');
    expect(a.body).not.toBe(b.body); // the times each store saw things at differ…
    expect(b.content).toBe(a.content); // …what they say does not
    expect(a.content).toMatch(/^[\w-]{22}$/);
  });

  it('lists every map in key order, as Go writes a map, whatever order the rows came in', () => {
    const keysOf = (body: string) => {
      const parsed = JSON.parse(body) as { data?: Record<string, object> } & Record<string, object>;
      const d = parsed.data ?? parsed;
      return ['app_states', 'tasks', 'components'].map((k) => Object.keys(d[k] ?? {}));
    };
    for (const body of [replica(T0, 'forward').body, replica(T1, 'backward').body]) {
      for (const keys of keysOf(body)) {
        expect(keys.length).toBeGreaterThan(1);
        expect(keys).toEqual([...keys].sort());
      }
    }
  });

  it.each([
    ['an app stage', { stage: 'installing' }],
    ['a Chart Repo item state', { chartState: 'failed' }],
    ['a source error', { error: 'connection refused' }],
  ])('differs when %s differs', (_what, over) => {
    expect(replica(T0, 'forward', over).content).not.toBe(replica(T0, 'forward').content);
  });

  it('moves with each change and comes back with the content (A, B, A)', () => {
    const s = new RuntimeStore(() => new Date(T0));
    const put = (status: TaskState['status']) => {
      s.apply(pass('tasks', [{ op: 'replace', domain: 'tasks', items: [task('t1', 'wiki', 'alice', { status })] }], T0));
      return s.commit()!.content;
    };
    const a = put('running');
    const b = put('completed');
    expect(b).not.toBe(a);
    expect(put('running')).toBe(a);
  });
});

describe('ContentDigest', () => {
  it('depends on the rows, not on the order they were set in, and forgets deleted rows', () => {
    const one = new ContentDigest();
    const two = new ContentDigest();
    for (let i = 0; i < 1000; i++) one.set(`k${i}`, `v${i}`);
    for (let i = 999; i >= 0; i--) two.set(`k${i}`, `v${i}`);
    expect(two.digest()).toBe(one.digest());
    two.set('extra', 'x');
    expect(two.digest()).not.toBe(one.digest());
    two.delete('extra');
    expect(two.digest()).toBe(one.digest());
    // a key and its content are not interchangeable
    const three = new ContentDigest();
    three.set('k0', 'v1');
    const four = new ContentDigest();
    four.set('k0v', '1');
    expect(three.digest()).not.toBe(four.digest());
  });
});
