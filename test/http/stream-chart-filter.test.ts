/**
 * A filtered change-stream client and the Chart Repo: it hears of a version when its own Chart Repo items move,
 * or what every narrowed view shows of the whole (the hydrator's summed counters), not when only another user's
 * items moved — that moves nothing of its view but the frame's last_update, and its filtered /state keeps its ETag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wikiAnswer } from '../helpers/chart-repo-arbitraries.ts';
import { chartRepoPairs, type PairAnswer } from '../helpers/store-fixtures.ts';
import { openStream } from '../helpers/sse.ts';
import { API } from '../reliability/helpers.ts';
import { startHarness } from './store-harness.ts';

interface Change { version: number; upserts: Record<string, unknown>; chart_repo?: { upserts: Record<string, Record<string, unknown>> } }

describe('a ?user_id= stream and other users\' Chart Repo items', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  let minute = 0;
  /** one Chart Repo pass, its frame dated as the collector dates it: when the view last changed */
  const chartPass = async (...answers: PairAnswer[]) => {
    minute += 1;
    h.pass('chart_repo', [chartRepoPairs(answers, { last_update: `2026-12-01T10:${String(minute).padStart(2, '0')}:00.000Z` })]);
    await h.settled(true);
  };
  beforeAll(async () => {
    h = await startHarness(['chart_repo']);
    await chartPass(wikiAnswer('alice', 'completed'), wikiAnswer('frank', 'completed'));
  });
  afterAll(() => h?.close());

  it('hears nothing while only frank\'s items move; hears its own items and the summed counters', async () => {
    const alice = await openStream(`http://127.0.0.1:${h.port}${API}/events?user_id=alice`);
    const all = await openStream(`http://127.0.0.1:${h.port}${API}/events`);
    for (const s of [alice, all]) await s.next((e) => e.event === 'snapshot');
    const tag = (await h.send(`${API}/state?user_id=alice`)).headers.etag;

    await chartPass(wikiAnswer('alice', 'completed'), wikiAnswer('frank', 'processing'));
    await chartPass(wikiAnswer('alice', 'completed'), wikiAnswer('frank', 'failed'));
    const quiet = h.store.store.version;
    // the unfiltered client hears of both (frank's app moved), alice's filtered /state reads the same
    await all.next((e) => e.event === 'change' && (JSON.parse(e.data) as Change).version === quiet);
    expect((await h.send(`${API}/state?user_id=alice`, 'GET', { 'If-None-Match': tag! })).status).toBe(304);

    await chartPass(wikiAnswer('alice', 'processing'), wikiAnswer('frank', 'failed'));
    const own = h.store.store.version;
    const change = JSON.parse((await alice.next((e) => e.event === 'change')).data) as Change;
    // the first event alice gets is the version her own app moved in: none for frank's two
    expect(change.version).toBe(own);
    expect(Object.keys(change.chart_repo!.upserts.apps!)).toEqual([expect.stringContaining('alice')]);

    // the hydrator's counters are summed over every user: alice's view shows them, so she hears of them
    await chartPass(wikiAnswer('alice', 'processing'), wikiAnswer('frank', 'failed', 7));
    const counters = h.store.store.version;
    const next = JSON.parse((await alice.next((e) => e.event === 'change' && (JSON.parse(e.data) as Change).version > own)).data) as Change;
    expect(next.version).toBe(counters);
    expect(alice.events.filter((e) => e.event === 'change')).toHaveLength(2);
    await alice.close();
    await all.close();
  });
});
