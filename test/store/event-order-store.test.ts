/**
 * An event whose createTime lies in the future, through the store: a NATS message then poll passes. The
 * ordering functions read the wall clock where the store gives them none, so the test sets it (Date only).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeAppEvent } from '../../src/collect/app-event.ts';
import type { AppFlowState } from '../../src/model/index.ts';
import type { AppEvent } from '../../src/protocol.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { app, goStatusOf, pass, pushed } from '../helpers/store-fixtures.ts';

const NOW = Date.parse('2026-12-06T10:00:00.000Z');
const KEY = 'zzevil:market.olares:ev-progneg';
const iso = (ms: number) => new Date(ms).toISOString();

/** the audit's message, as app-service would publish it on os.application.state */
const message = (over: Record<string, unknown> = {}) => new TextEncoder().encode(JSON.stringify({
  name: 'ev-progneg', user: 'zzevil', marketSource: 'market.olares', state: 'running', createTime: '2099-01-01T00:00:00Z',
  message: 'FROZEN BY EVENT', ...over,
}));

/** `ev` as sent at `at`, had no collector clamped it: the store's ordering must hold on its own */
function asSent(ev: AppEvent, at: string): AppEvent {
  const status = (ev.app!.metadata as { status: object }).status;
  return { ...ev, at, app: { ...ev.app!, metadata: { ...ev.app!.metadata, status: { ...status, createTime: at } } } };
}

/** as the NATS collector hands it to the store */
function decoded(data: Uint8Array): AppEvent {
  const d = decodeAppEvent(data);
  if (!d.ok) throw new Error(d.reason);
  return d.event;
}

/** the market's row of the app, as the app-flow collector lists it: written by app-service at `eventAt` */
function polled(stage: AppFlowState['stage'], eventAt: number, name = 'ev-progneg'): AppFlowState {
  const a = app('zzevil', 'market.olares', name, { stage, health: stage === 'running' ? 'healthy' : 'unhealthy', last_update: iso(eventAt) });
  return { ...a, metadata: { status: goStatusOf(a, { event_create_time: iso(eventAt) }) } };
}

const poll = (items: AppFlowState[]) => pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items }]);
const view = (s: RuntimeStore) => JSON.parse(s.state({})).app_states as Record<string, AppFlowState & { metadata: { status: Record<string, unknown> } }>;

describe('an event from the future never pins its app against the database', () => {
  let now = NOW;
  const tick = (ms: number) => {
    now += ms;
    vi.setSystemTime(now);
  };
  beforeEach(() => {
    now = NOW;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now);
  });
  afterEach(() => vi.useRealTimers());
  const store = () => new RuntimeStore(() => new Date(now));

  it('the audit\'s repro: the row the market writes after a 2099 event wins at the next pass', () => {
    const s = store();
    s.apply(poll([polled('running', NOW - 3_600_000)]));
    tick(1_000);
    s.apply(pushed('nats', [{ op: 'app_events', events: [decoded(message())] }], 2));
    // the event shows until the market writes its row, at the time it arrived
    expect(view(s)[KEY]!.metadata.status).toMatchObject({ state: 'running', message: 'FROZEN BY EVENT', createTime: iso(NOW + 1_000) });
    tick(4_000);
    s.apply(poll([polled('stopped', now)]));
    expect(view(s)[KEY]!.stage).toBe('stopped');
    expect(view(s)[KEY]!.metadata.status.message).toBeUndefined();
  });

  it('an event at 2099 that reached the store as it came: the next poll wins, and later events are not stale behind it', () => {
    const s = store();
    s.apply(poll([polled('running', NOW - 3_600_000)]));
    s.apply(pushed('nats', [{ op: 'app_events', events: [asSent(decoded(message({ createTime: iso(NOW) })), '2099-01-01T00:00:00.000Z')] }], 2));
    expect(view(s)[KEY]!.metadata.status).toMatchObject({ message: 'FROZEN BY EVENT', createTime: '2099-01-01T00:00:00.000Z' });
    tick(5_000);
    s.apply(poll([polled('stopped', now)]));
    expect(view(s)[KEY]!.stage).toBe('stopped');
    // an event behind 2099, from a sane clock, is applied, not ignored as stale
    s.apply(pushed('nats', [{ op: 'app_events', events: [decoded(message({ state: 'stopped', message: 'later', createTime: iso(now + 1_000) }))] }], 4));
    s.recordOutcome('nats', { ok: true, error: null, duration_ms: 0, finished_at: iso(now) });
    expect(view(s)[KEY]!.metadata.status.message).toBe('later');
    expect(s.freshness().nats!.counters?.stale_events).toBeUndefined();
  });

  it('an event at 9999-12-31 for an app the database does not hold is reconciled away after the grace, as any other', () => {
    const s = store();
    s.apply(poll([]));
    s.apply(pushed('nats', [{ op: 'app_events', events: [decoded(message({ createTime: '9999-12-31T00:00:00Z' }))] }], 2));
    expect(view(s)[KEY]).toBeDefined();
    tick(10_000);
    s.apply(poll([]));
    expect(view(s)[KEY]).toBeDefined();
    tick(25_000);
    s.apply(poll([]));
    expect(view(s)[KEY]).toBeUndefined();
  });

  it('an app pushed only at 9999-12-31 that reached the store as it came gets no grace at all', () => {
    const s = store();
    s.apply(pushed('nats', [{ op: 'app_events', events: [asSent(decoded(message({ createTime: iso(NOW) })), '9999-12-31T00:00:00.000Z')] }], 2));
    tick(1_000);
    s.apply(poll([]));
    expect(view(s)[KEY]).toBeUndefined();
  });

  it.each([
    ['as the collector hands it', () => decoded(message())],
    ['as it was sent', () => asSent(decoded(message({ createTime: iso(NOW) })), '2099-01-01T00:00:00.000Z')],
  ])('an app first seen in a 2099 event (%s), then listed and deleted by the market, leaves the view at the next pass', (_what, event) => {
    const s = store();
    s.apply(poll([polled('running', NOW - 3_600_000, 'other')]));
    s.apply(pushed('nats', [{ op: 'app_events', events: [event()] }], 2));
    tick(5_000);
    // the market writes the row the event announced: the database's row wins, and the app is the poll's
    s.apply(poll([polled('stopped', now), polled('running', NOW - 3_600_000, 'other')]));
    expect(view(s)[KEY]!.stage).toBe('stopped');
    tick(5_000);
    s.apply(poll([polled('running', NOW - 3_600_000, 'other')]));
    expect(Object.keys(view(s))).toEqual(['zzevil:market.olares:other']);
  });
});

describe('an app the polls alone keep', () => {
  it('follows the database even where its event time went back (no event is waiting for the market to write)', () => {
    let now = NOW;
    const s = new RuntimeStore(() => new Date(now));
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [polled('installing', NOW - 60_000)] }]));
    now += 5_000;
    // the market rewrote the row with an earlier event time: the database is the record
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [polled('running', NOW - 150 * 60_000)] }], {}, 2));
    expect(view(s)[KEY]!.stage).toBe('running');
  });

  it('still holds an app a newer pushed event moved until the market writes it, pass after pass', () => {
    let now = NOW;
    const s = new RuntimeStore(() => new Date(now));
    s.apply(poll([polled('installing', NOW - 60_000)]));
    s.apply(pushed('nats', [{ op: 'app_events', events: [decoded(message({ createTime: iso(NOW) }))] }], 2));
    for (let i = 0; i < 3; i++) {
      now += 5_000;
      s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [polled('installing', NOW - 60_000)] }], {}, 3 + i));
      expect(view(s)[KEY]!.stage, `pass ${i}`).toBe('running');
    }
    now += 5_000;
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [polled('stopped', NOW + 20_000)] }], {}, 9));
    expect(view(s)[KEY]!.stage).toBe('stopped');
  });

  it('does not hold it for good when the market never writes that event: 30 s after it, the database wins', () => {
    // seen on a live market: an event said an entrance was down; the market wrote the app's row again (healthy)
    // without that event's time, and the app stayed unhealthy in the view, pass after pass, until its next event
    let now = NOW;
    const s = new RuntimeStore(() => new Date(now));
    s.apply(poll([polled('installing', NOW - 60_000)]));
    s.apply(pushed('nats', [{ op: 'app_events', events: [decoded(message({ createTime: iso(NOW) }))] }], 2));
    let n = 3;
    for (; now < NOW + 25_000; n++) {
      now += 5_000;
      s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [polled('installing', NOW - 60_000)] }], {}, n));
      expect(view(s)[KEY]!.stage, `${now - NOW} ms after the event`).toBe('running');
    }
    now = NOW + 30_000;
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [polled('installing', NOW - 60_000)] }], {}, n));
    expect(view(s)[KEY]!.stage).toBe('installing');
  });

  it('an event that arrives late (its createTime minutes old) is held 30 s from its arrival, then the database wins', () => {
    let now = NOW;
    const s = new RuntimeStore(() => new Date(now));
    s.apply(poll([polled('installing', NOW - 600_000)]));
    s.apply(pushed('nats', [{ op: 'app_events', events: [decoded(message({ createTime: iso(NOW - 300_000) }))] }], 2));
    now += 25_000;
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [polled('installing', NOW - 600_000)] }], {}, 3));
    expect(view(s)[KEY]!.stage).toBe('running');
    now += 5_000;
    s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', reconciles: ['nats'], items: [polled('installing', NOW - 600_000)] }], {}, 4));
    expect(view(s)[KEY]!.stage).toBe('installing');
  });
});
