import { describe, expect, it } from 'vitest';
import { decodeAppEvent, mergeAppEvent, MAX_EVENT_BYTES } from '../../src/collect/app-event.ts';
import { normalizeAppFlow } from '../../src/collect/app-flow.ts';
import type { AppFlowState } from '../../src/model/index.ts';
import { GoAppFlowState } from '../../src/model/go-wire.ts';
import { goWireIssues } from '../helpers/go-wire.ts';
import type { AppRow } from '../../src/sources/market-rows.ts';
import { UnknownStates } from '../../src/collect/stage-table.ts';

const enc = (x: unknown) => new TextEncoder().encode(typeof x === 'string' ? x : JSON.stringify(x));
const base = {
  eventID: 'e1', createTime: '2026-11-25T10:00:00Z', name: 'firefox', rawAppName: 'firefox-raw', state: 'running',
  user: 'alice', progress: 100, marketSource: 'market.olares', opID: 'op', opType: 'install',
  entranceStatuses: [{ name: 'web', state: 'running' }],
};

describe('decodeAppEvent', () => {
  it('keys the app by user, market source and name, with the event time normalized', () => {
    const d = decodeAppEvent(enc(base));
    expect(d.ok && d.event).toMatchObject({
      key: 'alice:market.olares:firefox', at: '2026-11-25T10:00:00.000Z',
      app: {
        app_id: 'firefox', stage: 'running', health: 'healthy',
        metadata: { status: { rawAppName: 'firefox-raw', createTime: '2026-11-25T10:00:00.000Z', updateTime: '2026-11-25T10:00:00Z', progress: '100' } },
      },
    });
  });

  it('drops an event whose time Go decodes but cannot encode once in UTC (past 9999): it would break every snapshot for Go clients', () => {
    const d = decodeAppEvent(enc({ ...base, createTime: '9999-12-31T23:30:00-01:00' }));
    expect(d).toEqual({ ok: false, reason: 'createTime: createTime is out of range' });
    expect(decodeAppEvent(enc({ ...base, createTime: '9999-12-31T23:30:00+01:00' })).ok).toBe(true);
  });

  const stages: Array<[string, string | null, string?]> = [
    ['downloading', 'fetching'],
    ['installing', 'installing'],
    ['stopped', 'stopped', 'unhealthy'],
    ['installFailed', 'failed', 'unhealthy'],
    ['uninstalled', null],
    ['installingCanceled', null],
    ['somethingNew', 'unknown'],
  ];
  it.each(stages)('state %s -> %s', (state, stage, health) => {
    const d = decodeAppEvent(enc({ ...base, state }), new UnknownStates());
    if (!d.ok) throw new Error(d.reason);
    if (stage === null) expect(d.event.app).toBeNull();
    else expect(d.event.app).toMatchObject({ stage, ...(health ? { health } : {}) });
  });

  it('takes an event whose lists are null, as app-service (Go) marshals a nil slice, as the market\'s decoder does', () => {
    // an app with no entrance statuses yet (pending, uninstalling) or no shared entrances: Go sends null
    const d = decodeAppEvent(enc({ ...base, state: 'uninstalling', entranceStatuses: null, sharedEntrances: null }));
    if (!d.ok) throw new Error(d.reason);
    expect(d.event.app).toMatchObject({ stage: 'uninstalling', metadata: { status: { state: 'uninstalling', entranceStatuses: null } } });
    expect(d.event.app?.metadata?.status).not.toHaveProperty('sharedEntrances');
    expect(goWireIssues(GoAppFlowState, d.event.app)).toEqual([]);
  });

  it('takes an event whose progress is longer than metadata.status keeps, clipping it as a polled row\'s', () => {
    const progress = `45.5 ${'x'.repeat(40)}`;
    const d = decodeAppEvent(enc({ ...base, state: 'downloading', progress }));
    if (!d.ok) throw new Error(d.reason);
    const shown = (d.event.app?.metadata?.status as { progress?: string }).progress;
    expect(shown).toHaveLength(32);
    expect(progress.startsWith(shown!.slice(0, -1))).toBe(true);
  });

  it('takes an event whose message, reason or entrance list is longer than the view keeps, clipping them (a long helm error is no reason to lose the state)', () => {
    const message = `helm install: ${'e'.repeat(20_000)}`;
    const entranceStatuses = Array.from({ length: 300 }, (_, i) => ({ name: `e${i}`, state: 'running' }));
    const d = decodeAppEvent(enc({ ...base, state: 'installFailed', message, reason: message, entranceStatuses }));
    if (!d.ok) throw new Error(d.reason);
    const s = d.event.app?.metadata?.status as { message: string; reason: string };
    expect(d.event.app).toMatchObject({ stage: 'failed' });
    for (const text of [s.message, s.reason]) {
      expect(text).toHaveLength(1024);
      expect(message.startsWith(text.slice(0, -1))).toBe(true);
    }
    expect(goWireIssues(GoAppFlowState, d.event.app)).toEqual([]);
  });

  it('marks a running app with a down entrance unhealthy', () => {
    const d = decodeAppEvent(enc({ ...base, entranceStatuses: [{ name: 'web', state: 'crashing' }] }));
    expect(d.ok && d.event.app).toMatchObject({ stage: 'running', health: 'unhealthy' });
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['not JSON', enc('{nope'), /not JSON/],
    ['no user', enc({ ...base, user: undefined }), /user/],
    ['empty name', enc({ ...base, name: '' }), /name/],
    ['bad time', enc({ ...base, createTime: 'yesterday' }), /createTime/],
    // JavaScript's parser would take it as 2 March; the market's Go decoder rejects the message
    ['30 February', enc({ ...base, createTime: '2026-02-30T10:00:00Z' }), /createTime/],
    ['number as user', enc({ ...base, user: 42 }), /user/],
    ['huge name', enc({ ...base, name: 'x'.repeat(10_000) }), /name/],
    ['oversized message', new Uint8Array(MAX_EVENT_BYTES + 1), /bytes/],
    ['array', enc([1, 2]), /message|Invalid/],
  ];
  it.each(bad)('drops %s with a reason', (_n, data, reason) => {
    const d = decodeAppEvent(data);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(reason);
  });
});

describe('mergeAppEvent: an event on top of the polled row, as the market would show it', () => {
  const manifest = [
    { name: 'web', host: 'firefox', port: 80, title: 'Firefox', url: 'firefox.alice.example', invisible: false },
    { name: 'vnc', port: 5900, invisible: true },
  ];
  const polled = (over: Partial<AppRow> = {}): AppFlowState => normalizeAppFlow([{
    user_id: 'alice', source_id: 'market.olares', app_id: 'cat-ff', app_name: 'firefox', app_raw_name: 'firefox-raw',
    manifest_type: 'app', metadata: { title: { 'en-US': 'Firefox' }, icon: 'https://x/ff.png' }, entrances: manifest,
    app_updated_at: new Date('2026-11-25T09:00:00Z'), state: 'running', installed_version: '1.0', target_version: '',
    is_sys_app: true, reason: '', message: '', progress: '', op_id: 'op0', op_type: 'install',
    event_create_time: new Date('2026-11-25T09:00:00Z'), shared_entrances: [],
    status_entrances: [{ name: 'web', state: 'running' }, { name: 'vnc', state: 'running' }],
    state_updated_at: new Date('2026-11-25T09:00:00Z'), ...over,
  }], []).items[0];
  const event = (over: object) => {
    const d = decodeAppEvent(enc({ ...base, rawAppName: undefined, opID: undefined, opType: undefined, progress: undefined, ...over }));
    if (!d.ok || !d.event.app) throw new Error('no app');
    return d.event.app;
  };
  const status = (a: AppFlowState) => a.metadata!.status as Record<string, unknown>;

  it('takes state, progress, reason, message, title and times from the event; keeps appid, isSysApp, icon, version', () => {
    const held = polled();
    const m = mergeAppEvent(held, event({
      state: 'stopping', progress: '50', reason: 'user asked', message: 'stopping pods', title: 'Firefox ESR',
      createTime: '2026-11-25T10:00:00.4Z', entranceStatuses: [],
    }));
    expect(m).toMatchObject({ app_id: 'firefox', stage: 'stopped', version: '1.0', cfg_type: 'app' });
    expect(status(m)).toMatchObject({
      name: 'firefox', rawAppName: 'firefox-raw', appid: 'cat-ff', isSysApp: true, icon: 'https://x/ff.png',
      owner: 'alice', source: 'market.olares', title: 'Firefox ESR', state: 'stopping', progress: '50',
      reason: 'user asked', message: 'stopping pods', opType: 'install',
      updateTime: '2026-11-25T10:00:00Z', statusTime: '2026-11-25T10:00:00Z', lastTransitionTime: '2026-11-25T10:00:00Z',
      createTime: '2026-11-25T10:00:00.400Z',
    });
    expect(goWireIssues(GoAppFlowState, m)).toEqual([]);
  });

  it('an event without reason, message or progress clears them; without a title keeps the row\'s', () => {
    const held = polled({ reason: 'old', message: 'old', progress: '10' });
    const s = status(mergeAppEvent(held, event({ state: 'running' })));
    for (const k of ['reason', 'message', 'progress']) expect(s).not.toHaveProperty(k);
    expect(s.title).toBe('Firefox');
  });

  it('merges the event\'s entrance statuses by position into the manifest entrances', () => {
    const m = mergeAppEvent(polled(), event({
      entranceStatuses: [{ name: 'vnc', state: 'notReady', reason: 'probe' }, { name: 'web', state: 'running' }, { name: 'extra', state: 'running' }],
    }));
    expect(status(m).entranceStatuses).toEqual([
      { ...manifest[0], state: 'notReady', reason: 'probe' },
      { ...manifest[1], state: 'running' },
    ]);
  });

  it('stage_detail names a down entrance as the merge shows it: the manifest entry at its place', () => {
    const m = mergeAppEvent(polled(), event({
      entranceStatuses: [{ name: 'vnc', state: 'notReady' }, { name: 'web', state: 'running' }],
    }));
    expect(m.health).toBe('unhealthy');
    expect((status(m).entranceStatuses as { name: string; state: string }[])[0]).toMatchObject({ name: 'web', state: 'notReady' });
    expect(m.stage_detail).toBe('running; entrance web is notReady');
    // without manifest entrances the event's list is shown as is, and named so
    const plain = mergeAppEvent(polled({ entrances: [] }), event({ entranceStatuses: [{ name: 'vnc', state: 'notReady' }] }));
    expect(plain.stage_detail).toBe('running; entrance vnc is notReady');
  });

  it('an app polled without manifest entrances takes the event\'s list as is', () => {
    const m = mergeAppEvent(polled({ entrances: [] }), event({ entranceStatuses: [{ name: 'a', state: 'running' }, { name: 'b', state: 'running' }, { name: 'c', state: 'x' }] }));
    expect((status(m).entranceStatuses as unknown[]).length).toBe(3);
  });

  it('with nothing held, the event alone is the app, in Go\'s shape', () => {
    const pushed = event({});
    expect(mergeAppEvent(undefined, pushed)).toBe(pushed);
    expect(goWireIssues(GoAppFlowState, pushed)).toEqual([]);
  });
});
