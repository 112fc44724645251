/**
 * A `changes` step (what changed since the source's last listing, and what left) must leave the store exactly
 * as the `replace` of the whole listing would (the unchanged apps as `keep`): the same apps, the same reread
 * requests, NATS-pushed apps reconciled alike. Checked over random runs of listings and pushed events.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppFlowState, AppStage } from '../../src/model/index.ts';
import type { PassMessage, StoreStep } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';
import { app as storeApp, pass as passOf } from '../helpers/store-fixtures.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const at = (s: number) => new Date(NOW.getTime() - 3_600_000 + s * 1000).toISOString();

function app(name: string, stage: AppStage, t: number): AppFlowState {
  // createTime: when app-service emitted the state (what orders events against polls, and spares a recent push)
  return storeApp('alice', 'market', name, {
    stage, health: 'unknown', last_update: at(t), stage_since: at(t), metadata: { status: { createTime: at(t) } },
  });
}
const keyOf = (name: string) => `alice:market:${name}`;
const pass = (seq: number, source: PassMessage['source'], steps: StoreStep[]): PassMessage =>
  passOf(source, steps, { finished_at: NOW.toISOString() }, seq);

const names = ['a', 'b', 'c', 'd', 'e', 'f'];
const stage = fc.constantFrom<AppStage>('running', 'stopped', 'installing');
/** one round: the database's listing (name -> stage), and maybe a NATS event before the pass */
const round = fc.record({
  listing: fc.dictionary(fc.constantFrom(...names), stage, { maxKeys: names.length }),
  // a recent event is one a listing that lacks its app must not undo yet (the market may not have written it)
  event: fc.option(fc.record({ name: fc.constantFrom(...names), stage: fc.option(stage, { nil: null }), recent: fc.boolean() }), { nil: undefined }),
});

describe('a changes step is the replace of the listing it changes', () => {
  it('over random listings and NATS events, both stores hold the same and ask for the same keys again', () => {
    fc.assert(fc.property(fc.array(round, { minLength: 1, maxLength: 14 }), (rounds) => {
      const viaReplace = new StoreActor({ clock: () => NOW });
      const viaChanges = new StoreActor({ clock: () => NOW });
      /** what the collector believes each store holds, as a collector would: name -> stage sent */
      let sent = new Map<string, AppStage>();
      let seq = 0;
      rounds.forEach((r, i) => {
        if (r.event) {
          const t = r.event.recent ? 3600 - 1 : 10 * i + 5;
          const ev = { key: keyOf(r.event.name), at: at(t), app: r.event.stage === null ? null : app(r.event.name, r.event.stage, t) };
          for (const s of [viaReplace, viaChanges]) s.receive(pass(++seq, 'nats', [{ op: 'app_events', events: [ev] }]));
        }
        const listing = new Map(Object.entries(r.listing));
        const changed = [...listing].filter(([n, st]) => sent.get(n) !== st).map(([n, st]) => app(n, st, 10 * i));
        const kept = [...listing.keys()].filter((n) => sent.get(n) === listing.get(n)).map(keyOf);
        const removed = [...sent.keys()].filter((n) => !listing.has(n)).map(keyOf);
        const first = i === 0;
        const a = viaReplace.receive(pass(++seq, 'app_flow', [{ op: 'replace', domain: 'app_states', items: changed, keep: kept, reconciles: ['nats'] }]));
        const b = viaChanges.receive(pass(++seq, 'app_flow', [first
          ? { op: 'replace', domain: 'app_states', items: changed, keep: kept, reconciles: ['nats'] }
          : { op: 'changes', domain: 'app_states', items: changed, removed, reconciles: ['nats'] }]));
        expect(b.dropped).toBeUndefined();
        expect((b.reread ?? []).sort()).toEqual((a.reread ?? []).sort());
        expect(JSON.parse(viaChanges.store.state({})).app_states).toEqual(JSON.parse(viaReplace.store.state({})).app_states);
        // a key the store asked for is sent again next time (or named as removed, its row gone by then)
        sent = new Map(listing);
        for (const k of a.reread ?? []) sent.set(k.split(':')[2]!, 'unknown');
      });
    }), { numRuns: 400 });
  });

  it('a store with no listing from the source drops a changes step, so the collector lists everything', () => {
    const store = new StoreActor({ clock: () => NOW });
    const applied = store.receive(pass(1, 'app_flow', [{ op: 'changes', domain: 'app_states', items: [app('a', 'running', 0)], removed: [] }]));
    expect(applied.dropped).toBe(true);
    expect(JSON.parse(store.store.state({})).app_states).toEqual({});
    store.store.commit();
    expect(JSON.parse(store.store.state({})).sources.app_flow.last_error).toMatch(/without a listing/);
  });

  it('an app both removed and sent by one changes step (its row deleted and written again under a new id) stays', () => {
    const store = new StoreActor({ clock: () => NOW });
    store.receive(pass(1, 'app_flow', [{ op: 'replace', domain: 'app_states', items: [app('a', 'running', 0), app('b', 'running', 0)], reconciles: ['nats'] }]));
    // the collector: row 7 (alice:market:a) is gone, row 9 (alice:market:a again) is new
    const applied = store.receive(pass(2, 'app_flow', [
      { op: 'changes', domain: 'app_states', items: [app('a', 'stopped', 10)], removed: [keyOf('a')], reconciles: ['nats'] },
    ]));
    expect(applied.dropped).toBeUndefined();
    const apps = JSON.parse(store.store.state({})).app_states;
    expect(Object.keys(apps).sort()).toEqual([keyOf('a'), keyOf('b')]);
    expect(apps[keyOf('a')].stage).toBe('stopped');
    // and the next pass, which changes nothing, keeps it
    store.receive(pass(3, 'app_flow', [{ op: 'changes', domain: 'app_states', items: [], removed: [], reconciles: ['nats'] }]));
    expect(Object.keys(JSON.parse(store.store.state({})).app_states).sort()).toEqual([keyOf('a'), keyOf('b')]);
  });
});
