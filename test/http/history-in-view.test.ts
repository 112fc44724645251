/**
 * An app in view always has a history: past the timelines' total bound (more apps than it holds entries for),
 * …/history still answers every one of them with at least its latest entry, never "no history of this app".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMELINE_LIMITS } from '../../src/store/timeline.ts';
import { app, startHarness } from './store-harness.ts';
import { API } from '../reliability/helpers.ts';

/** more apps than the total bound (with no task histories, the apps may use the tasks' share too) */
const APPS = TIMELINE_LIMITS.total + 1_000;

describe('history of apps in view past the total bound', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  beforeAll(async () => {
    h = await startHarness(['app_flow']);
  });
  afterAll(() => h?.close());

  const listApps = async (stage: 'running' | 'upgrading') => {
    const items = Array.from({ length: APPS }, (_, i) => app('alice', 'market', `app-${i}`, stage === 'running' ? {} : { stage, health: 'unknown' }));
    h.pass('app_flow', [{ op: 'replace', domain: 'app_states', items }]);
    await h.settled(true);
  };
  const history = async (i: number) => {
    const r = await h.send(`${API}/apps/alice/market/app-${i}/history`);
    return { status: r.status, stages: r.status === 200 ? (JSON.parse(r.body) as { data: { entries: Array<{ stage: string }> } }).data.entries.map((e) => e.stage) : [] };
  };

  it('every app answers its history, the quietest with its latest entry at least', async () => {
    await listApps('running');
    // the first listed are the least recently changed: the ones a total bound would take
    for (const i of [0, 1, APPS - 1]) expect(await history(i)).toEqual({ status: 200, stages: ['running'] });
    await listApps('upgrading');
    // every app moved: past the bound the quietest lost their older entry, not their history
    expect(await history(0)).toEqual({ status: 200, stages: ['upgrading'] });
    expect(await history(APPS - 1)).toEqual({ status: 200, stages: ['running', 'upgrading'] });
  });
});
