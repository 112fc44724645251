/**
 * A full app_flow pass sends its apps ahead in messages of their own (items_ahead), so no thread holds the whole
 * pass in one message: readers see none of them until the pass's replace step, which applies them whole; a pass
 * that does not get every one of them is dropped, and a run that ended without its pass leaves nothing behind.
 */
import { describe, expect, it } from 'vitest';
import type { AppFlowState } from '../../src/model/index.ts';
import type { PassMessage, StoreStep } from '../../src/protocol.ts';
import { StoreActor } from '../../src/store/actor.ts';
import { app, pass, pushed } from '../helpers/store-fixtures.ts';

const apps = (...names: string[]) => names.map((n) => app('alice', 'market', n));
/** a message sent ahead of a pass: no outcome */
const ahead = (seq: number, items: AppFlowState[], first = false): PassMessage =>
  pushed('app_flow', [{ op: 'items_ahead', domain: 'app_states', items, ...(first ? { first } : {}) }], seq);
const replace = (items: AppFlowState[], sentAhead?: number): StoreStep => ({
  op: 'replace', domain: 'app_states', items, reconciles: ['nats'], ...(sentAhead === undefined ? {} : { ahead: sentAhead }),
});
function held(actor: StoreActor): string[] {
  actor.store.commit();
  return Object.values(JSON.parse(actor.store.state({})).app_states as Record<string, AppFlowState>).map((a) => a.app_name).sort();
}

describe('items sent ahead of a replace step', () => {
  it('are unseen until the pass, which applies them with its own items and removes what neither lists', () => {
    const actor = new StoreActor();
    actor.receive(pass('app_flow', [replace(apps('old', 'wiki'))], {}, 1));
    expect(held(actor)).toEqual(['old', 'wiki']);
    expect(actor.receive(ahead(2, apps('blog', 'chat'), true)).dropped).toBeUndefined();
    expect(actor.receive(ahead(3, apps('maps'))).dropped).toBeUndefined();
    expect(held(actor)).toEqual(['old', 'wiki']);
    expect(actor.receive(pass('app_flow', [replace(apps('wiki'), 3)], {}, 4)).dropped).toBeUndefined();
    expect(held(actor)).toEqual(['blog', 'chat', 'maps', 'wiki']);
  });

  it('a pass that counts other than the store holds is dropped whole, and the next one starts clean', () => {
    const actor = new StoreActor();
    actor.receive(pass('app_flow', [replace(apps('wiki'))], {}, 1));
    actor.receive(ahead(2, apps('blog'), true));
    // one message ahead was lost (or dropped as malformed): the pass says 2, the store holds 1
    expect(actor.receive(pass('app_flow', [replace([], 2)], {}, 3)).dropped).toBe(true);
    expect(held(actor)).toEqual(['wiki']);
    // what was held is gone with the dropped pass: a replace that sent nothing ahead applies as is
    expect(actor.receive(pass('app_flow', [replace(apps('chat'))], {}, 4)).dropped).toBeUndefined();
    expect(held(actor)).toEqual(['chat']);
  });

  it('a run that failed after sending some ahead leaves nothing behind for the next pass', () => {
    const actor = new StoreActor();
    actor.receive(pass('app_flow', [replace(apps('wiki'))], {}, 1));
    actor.receive(ahead(2, apps('stale'), true));
    // the run failed: its outcome comes alone
    actor.receive(pass('app_flow', [], { ok: false, error: 'postgres read aborted: deadline passed' }, 3));
    actor.receive(ahead(4, apps('blog')));
    expect(actor.receive(pass('app_flow', [replace(apps('wiki'), 1)], {}, 5)).dropped).toBeUndefined();
    expect(held(actor)).toEqual(['blog', 'wiki']);
  });

  it('the first items of a pass start over: what a run whose thread died sent is dropped', () => {
    const actor = new StoreActor();
    actor.receive(ahead(1, apps('stale'), true));
    // the collector thread was replaced mid-run; the new one's full pass
    actor.receive(ahead(2, apps('blog'), true));
    actor.receive(ahead(3, apps('chat')));
    expect(actor.receive(pass('app_flow', [replace([], 2)], {}, 4)).dropped).toBeUndefined();
    expect(held(actor)).toEqual(['blog', 'chat']);
  });

  it.each([
    ['items not a list', { op: 'items_ahead', domain: 'app_states', items: {} }],
    ['an unknown domain', { op: 'items_ahead', domain: 'users', items: [] }],
    ['first not a boolean', { op: 'items_ahead', domain: 'app_states', items: [], first: 'yes' }],
    ['a replace whose ahead is not a count', { op: 'replace', domain: 'app_states', items: [], ahead: -1 }],
  ])('a malformed step is dropped and clears what was sent ahead: %s', (_what, step) => {
    const actor = new StoreActor();
    actor.receive(ahead(1, apps('blog'), true));
    expect(actor.receive(pushed('app_flow', [step as StoreStep], 2)).dropped).toBe(true);
    expect(actor.receive(pass('app_flow', [replace(apps('wiki'), 1)], {}, 3)).dropped).toBe(true);
  });
});
