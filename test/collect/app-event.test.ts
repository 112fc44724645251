import { describe, expect, it } from 'vitest';
import { decodeAppEvent, MAX_EVENT_BYTES } from '../../src/collect/app-event.ts';
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
      app: { app_id: 'firefox-raw', stage: 'running', health: 'healthy', metadata: { status: { createTime: '2026-11-25T10:00:00.000Z', progress: '100' } } },
    });
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

  it('marks a running app with a down entrance unhealthy', () => {
    const d = decodeAppEvent(enc({ ...base, entranceStatuses: [{ name: 'web', state: 'crashing' }] }));
    expect(d.ok && d.event.app).toMatchObject({ stage: 'running', health: 'unhealthy' });
  });

  const bad: Array<[string, Uint8Array, RegExp]> = [
    ['not JSON', enc('{nope'), /not JSON/],
    ['no user', enc({ ...base, user: undefined }), /user/],
    ['empty name', enc({ ...base, name: '' }), /name/],
    ['bad time', enc({ ...base, createTime: 'yesterday' }), /createTime/],
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
