import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAppEvent } from '../../src/collect/app-event.ts';
import { createCollector } from '../../src/collect/collectors/nats.ts';
import type { Collector } from '../../src/collect/collector.ts';
import type { AppEvent, StoreStep } from '../../src/protocol.ts';
import { MAX_CLOCK_SKEW_MS } from '../../src/store/event-order.ts';
import { freePort, TestNatsServer } from '../helpers/nats.ts';
import { describeWith } from '../helpers/services.ts';
import { eventually } from '../helpers/sidecar.ts';

const RECEIVED = Date.parse('2026-12-06T10:00:00.000Z');
const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
/** the audit's message */
const repro = (createTime: string) => ({
  name: 'ev-progneg', user: 'zzevil', marketSource: 'market.olares', state: 'running', createTime, message: 'FROZEN BY EVENT',
});

describe('decodeAppEvent: a createTime beyond the message\'s arrival (plus skew) is taken as its arrival', () => {
  it.each([
    ['an hour before arrival', '2026-12-06T09:00:00Z', '2026-12-06T09:00:00.000Z', false],
    ['at arrival', '2026-12-06T10:00:00Z', '2026-12-06T10:00:00.000Z', false],
    ['within the skew allowance', '2026-12-06T10:01:00Z', '2026-12-06T10:01:00.000Z', false],
    ['just beyond it', '2026-12-06T10:01:00.001Z', '2026-12-06T10:00:00.000Z', true],
    ['2099', '2099-01-01T00:00:00Z', '2026-12-06T10:00:00.000Z', true],
    ['9999-12-31, in another zone', '9999-12-31T12:00:00+01:00', '2026-12-06T10:00:00.000Z', true],
  ])('%s', (_what, createTime, at, future) => {
    const d = decodeAppEvent(enc(repro(createTime)), undefined, RECEIVED);
    if (!d.ok) throw new Error(d.reason);
    // every time the app shows, and the one that orders it, is the trusted one
    expect(d.event.at).toBe(at);
    expect(d.event.app!.metadata).toMatchObject({ status: { createTime: at, updateTime: at.replace('.000Z', 'Z'), message: 'FROZEN BY EVENT' } });
    expect(d.event.app!.last_update).toBe(at);
    expect(d.futureTime).toBe(future ? createTime : undefined);
  });

  it('the allowance is the store\'s (src/store/event-order.ts)', () => {
    const edge = new Date(RECEIVED + MAX_CLOCK_SKEW_MS).toISOString();
    const d = decodeAppEvent(enc(repro(edge)), undefined, RECEIVED);
    expect(d.ok && d.futureTime).toBeUndefined();
  });

  it('an event that says the app is gone is kept too, at its arrival', () => {
    const d = decodeAppEvent(enc({ ...repro('2099-01-01T00:00:00Z'), state: 'uninstalled' }), undefined, RECEIVED);
    expect(d).toMatchObject({ ok: true, futureTime: '2099-01-01T00:00:00Z', event: { at: '2026-12-06T10:00:00.000Z', app: null } });
  });
});

describeWith('nats-server', 'the NATS collector counts the events whose time it could not trust', () => {
  let nats: TestNatsServer;
  let collector: Collector;
  let pub: NatsConnection;
  const events: AppEvent[] = [];
  const ctx = { signal: new AbortController().signal, now: () => new Date(), full: false };

  beforeAll(async () => {
    nats = new TestNatsServer(await freePort());
    await nats.start();
    collector = await createCollector({ natsUrl: nats.url, natsSubject: 'os.application.*' }, {
      push: (steps: StoreStep[]) => { for (const s of steps) if (s.op === 'app_events') events.push(...s.events); },
    });
    await collector.collect(ctx);
    pub = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await pub?.close();
    await collector?.close?.();
    await nats?.stop();
  });

  it('counters.future_times: the 2099 event is pushed at its arrival, counted, and not dropped', async () => {
    const before = Date.now();
    pub.publish('os.application.state', JSON.stringify(repro('2099-01-01T00:00:00Z')));
    pub.publish('os.application.state', JSON.stringify(repro(new Date(before).toISOString())));
    await pub.flush();
    await eventually(async () => expect(events).toHaveLength(2));
    expect(Date.parse(events[0]!.at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(events[0]!.at)).toBeLessThanOrEqual(Date.now());
    const r = await collector.collect(ctx);
    expect(r.counters).toMatchObject({ events: 2, dropped: 0, future_times: 1 });
    expect(r.warning).toBeUndefined();
  });
});
