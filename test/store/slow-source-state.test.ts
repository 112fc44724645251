/**
 * Issue 20 in the store: a source whose passes take longer than its interval says so in `sources.<name>.warning`
 * of the /state body and in market_runtime_source_slow; the warning clears when passes fit again, and the
 * version moves when the verdict flips, not with each slow pass.
 */
import { describe, expect, it } from 'vitest';
import type { PassMessage, StoreStep } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';
import { storeMetricsText } from '../../src/http/store-metrics.ts';
import { parseProm, value } from '../helpers/prom.ts';
import { pass as passOf, task } from '../helpers/store-fixtures.ts';

const INTERVAL_MS = 5000;
const TASKS: StoreStep[] = [{ op: 'replace', domain: 'tasks', items: [task('t1', 'a', undefined)] }];

let seq = 0;
/** the same listing each pass: only the pace differs */
function pass(duration_ms: number, interval_ms: number, warning: string | null = null): PassMessage {
  seq += 1;
  return passOf('tasks', TASKS, { error: warning, duration_ms, counters: { interval_ms } }, seq);
}

function read(actor: StoreActor): { version: number; warning: string | undefined } {
  const answer = actor.queryApi.body();
  const data = JSON.parse(Buffer.from(answer.body).toString('utf8')).data;
  return { version: data.version, warning: data.sources.tasks.warning };
}

async function slowMetric(actor: StoreActor): Promise<number | undefined> {
  return value(parseProm(await storeMetricsText(actor.queryApi.metrics())), 'market_runtime_source_slow', { source: 'tasks' });
}

describe('a source slower than its interval, in /state and /metrics', () => {
  it('gets a warning after passes in a row are slow, keeps one version through more slow passes, and clears', async () => {
    const actor = new StoreActor();
    actor.expectSources(['tasks'], INTERVAL_MS);
    actor.receive(pass(100, INTERVAL_MS));
    const quick = read(actor);
    expect(quick.warning).toBeUndefined();
    expect(await slowMetric(actor)).toBe(0);

    // passes of 7 s, then the pacing stretches the interval to 28 s
    for (const interval of [INTERVAL_MS, 28_000, 28_000]) actor.receive(pass(7000, interval));
    const slow = read(actor);
    expect(slow.warning).toBe('passes take longer than the 5 s collection interval: up to 40 s apart');
    expect(slow.version).toBeGreaterThan(quick.version);
    expect(await slowMetric(actor)).toBe(1);

    // more slow passes whose times wander: no new version
    for (const [took, interval] of [[6500, 28_000], [7200, 26_000], [6900, 28_000]]) actor.receive(pass(took, interval));
    expect(read(actor)).toEqual(slow);

    // quick again: two passes are not enough, the third clears it
    for (const interval of [28_000, INTERVAL_MS]) actor.receive(pass(100, interval));
    expect(read(actor)).toEqual(slow);
    actor.receive(pass(100, INTERVAL_MS));
    const cleared = read(actor);
    expect(cleared.warning).toBeUndefined();
    expect(cleared.version).toBe(slow.version + 1);
    expect(await slowMetric(actor)).toBe(0);
  });

  it('joins the collector\'s own warning', () => {
    const actor = new StoreActor();
    actor.expectSources(['tasks'], INTERVAL_MS);
    for (let i = 0; i < 3; i++) actor.receive(pass(7000, INTERVAL_MS, '1/4 requests failed'));
    expect(read(actor).warning).toBe('1/4 requests failed; passes take longer than the 5 s collection interval: up to 10 s apart');
    expect(actor.store.freshness().tasks?.warning).toBe(read(actor).warning);
  });

  it('a source asking for an interval longer than COLLECT_MAX_INTERVAL_MS is slow past that bound (the pacing runs it no sparser)', async () => {
    const actor = new StoreActor();
    actor.expectSources(['tasks'], INTERVAL_MS, undefined, undefined, 30_000);
    // asks for 143 s (a Chart Repo's request-rate bound), runs at most 30 s apart, and its passes take 40 s
    for (let i = 0; i < 3; i++) {
      seq += 1;
      actor.receive(passOf('tasks', TASKS, { duration_ms: 40_000, counters: { interval_ms: 30_000, min_interval_ms: 143_000 } }, seq));
    }
    expect(read(actor).warning).toBe('passes take longer than the 30 s collection interval: up to 40 s apart');
    expect(await slowMetric(actor)).toBe(1);
  });
});
