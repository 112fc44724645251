import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChartRepoStatus } from '../../src/model/index.ts';
import type { AppliedMessage, PassMessage, PassOutcome } from '../../src/protocol.ts';
import { PassSender } from '../../src/collect/pass-sender.ts';

const outcome: PassOutcome = { ok: true, error: null, duration_ms: 1, finished_at: '2026-12-01T10:00:00.000Z' };
const view = (state: string): ChartRepoStatus => ({ apps: [{ app_id: 'a', app_name: 'a', user_id: 'u', source_id: 's', state, last_update: 'x' }], last_update: 'x' });
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
  it('sends an unchanged Chart Repo view (the same object) to a store once; a changed one, and a new store, get it', async () => {
    const s1 = store();
    const sender = new PassSender(s1.port, 'chart_repo');
    const v1 = view('processing');
    await sender.send([{ op: 'chart_repo', value: v1 }], outcome);
    await sender.send([{ op: 'chart_repo', value: v1 }], outcome);
    const v2 = view('completed');
    await sender.send([{ op: 'chart_repo', value: v2 }], outcome);
    expect(s1.got.map((m) => m.steps.length)).toEqual([1, 0, 1]);
    // the outcome still travels: freshness moves with every pass
    expect(s1.got.every((m) => m.outcome !== undefined)).toBe(true);
    sender.close();
    const s2 = store();
    const next = new PassSender(s2.port, 'chart_repo');
    await next.send([{ op: 'chart_repo', value: v2 }], outcome);
    expect(s2.got.map((m) => m.steps.length)).toEqual([1]);
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

  it('passes on the keys the store asked for, once', async () => {
    const s = store((m) => (m.seq === 1 ? { reread: ['u:s:a', 'u:s:b'] } : {}));
    const sender = new PassSender(s.port, 'app_flow');
    await sender.send([], outcome, undefined, true);
    expect(sender.takeReread().sort()).toEqual(['u:s:a', 'u:s:b']);
    expect(sender.takeReread()).toEqual([]);
  });
});
