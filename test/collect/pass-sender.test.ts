import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppliedMessage, PassMessage } from '../../src/protocol.ts';
import { MAX_PENDING_PUSHES, PassSender } from '../../src/collect/pass-sender.ts';
import { outcome as runOutcome } from '../helpers/store-fixtures.ts';

const outcome = runOutcome({ finished_at: '2026-12-01T10:00:00.000Z' });
const channels: MessageChannel[] = [];

/** A store on the other end of a port: records each pass and acknowledges it (with `answer`'s extras, if any). */
function store(answer: (m: PassMessage) => Partial<AppliedMessage> | null = () => ({})) {
  const ch = new MessageChannel();
  channels.push(ch);
  const got: PassMessage[] = [];
  ch.port2.on('message', (m: PassMessage) => {
    got.push(m);
    const extra = answer(m);
    if (extra) ch.port2.postMessage({ type: 'applied', seq: m.seq, ...extra });
  });
  return { port: ch.port1, got };
}

afterEach(() => { for (const c of channels.splice(0)) { c.port1.close(); c.port2.close(); } });

describe('PassSender', () => {
  it('a pass awaiting its acknowledgement fails at once when the store\'s end closes (its thread died), not at its timeout', async () => {
    // a store that receives the pass and dies before it acknowledges
    const ch = new MessageChannel();
    channels.push(ch);
    const received = new Promise<void>((resolve) => ch.port2.once('message', () => resolve()));
    const sender = new PassSender(ch.port1, 'app_flow', 60_000);
    const sent = sender.send([], outcome, undefined, true);
    await received;
    const outcomeOf = sent.then(() => 'applied', (err: Error) => err.message);
    ch.port2.close();
    // vitest's own test timeout (5 s) is far below the 60 s deadline: only the close can end it
    expect(await outcomeOf).toMatch(/store thread gone/);
    // the next store gets a full listing
    expect(sender.needsFull).toBe(true);
    // and a later pass on the dead port fails too, instead of waiting
    await expect(sender.send([], outcome)).rejects.toThrow(/store port replaced/);
  });

  it('asks for a full listing until this store acknowledged one, and again after a pass it did not apply', async () => {
    let answer: Partial<AppliedMessage> | null = {};
    const s = store(() => answer);
    const sender = new PassSender(s.port, 'app_flow', 200);
    expect(sender.needsFull).toBe(true);
    // a pass that is not a full listing does not count
    await sender.send([], outcome);
    expect(sender.needsFull).toBe(true);
    await sender.send([], outcome, undefined, true);
    expect(sender.needsFull).toBe(false);
    await sender.send([], outcome);
    expect(sender.needsFull).toBe(false);
    // dropped as malformed: the store lacks what it said
    answer = { dropped: true };
    await sender.send([], outcome);
    expect(sender.needsFull).toBe(true);
    answer = {};
    await sender.send([], outcome, undefined, true);
    expect(sender.needsFull).toBe(false);
    // not acknowledged in time: whether it was applied is unknown
    answer = null;
    await expect(sender.send([], outcome, 50)).rejects.toThrow(/did not apply/);
    expect(sender.needsFull).toBe(true);
    sender.close();
    // a new store starts with nothing from this collector
    expect(new PassSender(store().port, 'app_flow').needsFull).toBe(true);
  });

  it('sends parts ahead in messages of their own, before the pass, its outcome and whether it was read in bulk', async () => {
    const s = store();
    const sender = new PassSender(s.port, 'chart_repo');
    const ahead = (user: string) => ({ op: 'chart_repo_parts' as const, pairs: [{ user, source: 'm', content: user, part: { apps: [], images: [] } }] });
    await sender.ahead(ahead('a'));
    await sender.ahead(ahead('b'));
    await sender.send([{ op: 'chart_repo_pairs', frame: { last_update: outcome.finished_at }, shared_content: '', pairs: [] }], outcome, undefined, true, true);
    expect(s.got.map((m) => [m.steps.map((x) => x.op), m.outcome === undefined, m.bulk === true])).toEqual([
      [['chart_repo_parts'], true, false], [['chart_repo_parts'], true, false], [['chart_repo_pairs'], false, true],
    ]);
    expect(sender.needsFull).toBe(false);
  });

  it('asks for a full listing again when a part sent ahead was dropped or not acknowledged', async () => {
    let answer: Partial<AppliedMessage> | null = { dropped: true };
    const s = store((m) => (m.steps[0]?.op === 'chart_repo_parts' ? answer : {}));
    const sender = new PassSender(s.port, 'chart_repo');
    await sender.ahead({ op: 'chart_repo_parts', pairs: [] });
    await sender.send([], outcome, undefined, true);
    expect(sender.needsFull).toBe(true);
    await sender.send([], outcome, undefined, true);
    expect(sender.needsFull).toBe(false);
    answer = null;
    await expect(sender.ahead({ op: 'chart_repo_parts', pairs: [] }, 50)).rejects.toThrow(/did not apply/);
    expect(sender.needsFull).toBe(true);
  });

  it('passes on the keys the store asked for, once', async () => {
    const s = store((m) => (m.seq === 1 ? { reread: ['u:s:a', 'u:s:b'] } : {}));
    const sender = new PassSender(s.port, 'app_flow');
    await sender.send([], outcome, undefined, true);
    expect(sender.takeReread().sort()).toEqual(['u:s:a', 'u:s:b']);
    expect(sender.takeReread()).toEqual([]);
  });

  it('a run\'s pass queued behind pushed steps the store has not acknowledged still fails at the run\'s time, not the push\'s', async () => {
    // a store that acknowledges nothing (busy) and a push whose wait is far longer than the run's
    const busy = store(() => null);
    const sender = new PassSender(busy.port, 'nats', 600_000);
    sender.push([{ op: 'upsert', domain: 'app_states', items: [] }]);
    const sent = sender.send([], outcome, 200).then(() => 'applied', (err: Error) => err.message);
    // vitest's own test timeout is far below the push's 600 s: only the run's own 200 ms can end it
    expect(await sent).toMatch(/did not apply the pass within/);
  });

  it('names the wait of a pass the store did not apply in whole milliseconds (the text shows in …/sources)', async () => {
    // a run's wait is what is left of its deadline, a fraction of a millisecond included
    const busy = store(() => null);
    const sender = new PassSender(busy.port, 'app_flow');
    const sent = await sender.send([], outcome, 150.4529900000005).then(() => 'applied', (err: Error) => err.message);
    expect(sent).toBe('store did not apply the pass within 150 ms');
  });

  it('counts pushed steps the store never applied, and keeps no more of them waiting than its bound', async () => {
    // not acknowledged in time: counted
    const busy = store(() => null);
    const late = new PassSender(busy.port, 'nats', 100);
    late.push([{ op: 'upsert', domain: 'app_states', items: [] }, { op: 'upsert', domain: 'app_states', items: [] }]);
    await expect.poll(() => late.pushesLost).toBe(2);

    // a store that does not answer while events keep coming: the oldest waiting steps go, counted
    const stuck = store(() => null);
    const sender = new PassSender(stuck.port, 'nats', 600_000);
    sender.push([{ op: 'upsert', domain: 'app_states', items: [] }]);
    await expect.poll(() => stuck.got.length).toBe(1);
    for (let i = 0; i < MAX_PENDING_PUSHES + 5; i++) sender.push([{ op: 'upsert', domain: 'app_states', items: [] }]);
    expect(sender.pushesLost).toBe(5);
  });
});
