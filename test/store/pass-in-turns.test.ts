/**
 * A Chart Repo pass is worked out in turns before it is applied (RuntimeStore.prepare): queries that arrive
 * meanwhile are answered from the last version, never from a pass half applied, and the pass then shows whole.
 */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import type { AppliedMessage } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';
import { chartRepoPairs, pass, T0, type PairAnswer } from '../helpers/store-fixtures.ts';

/** every user's answer: one app in `state` */
function answers(users: number, state: string): PairAnswer[] {
  return Array.from({ length: users }, (_, i) => {
    const user = `u${i}`;
    const r = normalizeAnswer({ success: true, data: {
      apps: [{ app_id: 'wiki', app_name: 'wiki', user_id: user, source_id: 'market', state }],
      images: [{ image_name: `wiki-${user}:1`, app_name: 'wiki', status: 'fully_downloaded' }],
    } }, T0, { user, source: 'market' });
    if (!r.ok) throw new Error(r.error);
    return { user, source: 'market', answer: r.answer };
  });
}

/** the states of the Chart Repo apps the store's whole body holds, and its version */
function read(actor: StoreActor): { version: number; states: string[] } {
  const answer = actor.queryApi.body() as { version: number; body: ArrayBuffer };
  const body = JSON.parse(Buffer.from(answer.body).toString()) as { data: { chart_repo?: { apps?: { state: string }[] } } };
  return { version: answer.version, states: [...new Set((body.data.chart_repo?.apps ?? []).map((a) => a.state))] };
}

describe('a Chart Repo pass worked out in turns', () => {
  it('answers readers meanwhile from the version before it, then shows the pass whole', async () => {
    const USERS = 3000;
    const actor = new StoreActor();
    actor.expectSources(['chart_repo']);
    actor.receive(pass('chart_repo', [chartRepoPairs(answers(USERS, 'completed'))], {}, 1));
    const before = read(actor);
    expect(before.states).toEqual(['completed']);

    const { port1, port2 } = new MessageChannel();
    actor.attachDeltaPort(port1);
    const got: { ack?: AppliedMessage } = {};
    port2.on('message', (m: AppliedMessage) => { got.ack = m; });
    port2.postMessage(pass('chart_repo', [chartRepoPairs(answers(USERS, 'downloading'))], {}, 2));

    const during: { version: number; states: string[] }[] = [];
    while (got.ack === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      if (got.ack === undefined) during.push(read(actor));
    }
    port2.close();
    // readers were answered while the pass was worked out (it takes many slices), each from the version before it
    expect(during.length).toBeGreaterThan(1);
    for (const d of during) expect(d).toEqual(before);
    expect(got.ack.dropped).toBeUndefined();
    const after = read(actor);
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.states).toEqual(['downloading']);
  });

  it('a pass whose working out another write overtook is worked out again when applied', async () => {
    const actor = new StoreActor();
    actor.expectSources(['chart_repo']);
    actor.receive(pass('chart_repo', [chartRepoPairs(answers(3, 'completed'))], {}, 1));
    const next = pass('chart_repo', [chartRepoPairs(answers(3, 'downloading'))], {}, 3);
    // worked out in turns against the view holding 'completed', up to its last turn ...
    const turns = (work: Generator) => { let n = 0; while (!work.next().done) n += 1; return n; };
    const last = turns(actor.store.prepare(next)!);
    const work = actor.store.prepare(next)!;
    for (let i = 0; i < last; i++) work.next();
    // ... which another write changes between two turns (a copy restored from a dead store, say)
    actor.receive(pass('chart_repo', [chartRepoPairs(answers(5, 'failed'))], {}, 2));
    actor.store.commit();
    for (let r = work.next(); !r.done; r = work.next());
    actor.receive(next);
    const changes = actor.store.commit()!.changes.chart_repo!;
    // the version says what changed from the view it replaced (five users' failed apps), not from the one it was worked out against
    expect(changes.apps.filter((c) => c.json === undefined).map((c) => c.key).sort()).toEqual(['u3:market:wiki', 'u4:market:wiki']);
    expect(changes.apps.filter((c) => c.json !== undefined).map((c) => JSON.parse(c.json!).state)).toEqual(['downloading', 'downloading', 'downloading']);
    expect(read(actor).states).toEqual(['downloading']);
  });
});
