import { describe, expect, it } from 'vitest';
import type { AppFlowState } from '../../src/model/index.ts';
import type { Row } from '../../src/store/entity-table.ts';
import { awaitsMarket, heldIsNewer, isFutureTime, isStaleEvent, MAX_CLOCK_SKEW_MS, recentlyPushed } from '../../src/store/event-order.ts';
import { app } from '../helpers/store-fixtures.ts';

/** the ordering functions' now: every time below is read against it */
const NOW = '2026-12-06T10:00:00.000Z';
const NOW_MS = Date.parse(NOW);
const at = (s: number) => new Date(NOW_MS + s * 1000).toISOString();

/** an app whose state reflects the app-service event at `createTime` (none: a row without event_create_time) */
const appAt = (createTime?: string): AppFlowState =>
  app('zzevil', 'market.olares', 'ev-progneg', { metadata: { status: createTime === undefined ? {} : { createTime } } });
const rowAt = (createTime: string | undefined, owner: Row<AppFlowState>['owner'] = 'nats'): Row<AppFlowState> =>
  ({ value: appAt(createTime), member: '', owner });

describe('isFutureTime: a time beyond now plus the skew allowance is not trusted', () => {
  it.each([
    ['in the past', at(-3600), false],
    ['now', NOW, false],
    ['just within the skew allowance', at(MAX_CLOCK_SKEW_MS / 1000), false],
    ['just beyond it', new Date(NOW_MS + MAX_CLOCK_SKEW_MS + 1).toISOString(), true],
    ['2099', '2099-01-01T00:00:00.000Z', true],
    ['9999-12-31', '9999-12-31T00:00:00.000Z', true],
  ])('%s -> %s', (_what, time, future) => {
    expect(isFutureTime(Date.parse(time), NOW_MS)).toBe(future);
  });

  it('the allowance is a minute: clock skew, not a licence to order by made-up times', () => {
    expect(MAX_CLOCK_SKEW_MS).toBe(60_000);
  });
});

describe('heldIsNewer: whether a poll is kept from taking an app back behind a pushed event', () => {
  it.each([
    ['held later than the row: the market has not written it yet', at(-10), at(-20), true],
    ['the row as late as what is held', at(-10), at(-10), false],
    ['the row later than what is held: the database wins', at(-20), at(-10), false],
    ['held within the skew allowance, later than the row', at(30), at(-10), true],
    ['held 2099 (an event from the future): the database wins', '2099-01-01T00:00:00.000Z', at(0), false],
    ['held 9999-12-31: the database wins', '9999-12-31T00:00:00.000Z', at(-3600), false],
    ['held 2099, the row 2099 too: the database wins', '2099-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z', false],
    ['held current, the row from the future: the database wins', at(-10), '2099-01-01T00:00:00.000Z', false],
    ['nothing held', undefined, at(-10), false],
    ['held without an event time', 'none', at(-10), false],
    ['a row without an event time', at(-10), undefined, false],
  ] as [string, string | undefined | 'none', string | undefined, boolean][])('%s', (_what, heldAt, polledAt, newer) => {
    const held = heldAt === undefined ? undefined : appAt(heldAt === 'none' ? undefined : heldAt);
    expect(heldIsNewer(held, appAt(polledAt), NOW_MS)).toBe(newer);
  });
});

describe('awaitsMarket: how long a pushed event holds its app against rows that do not show it yet', () => {
  it.each([
    ['arrived just now', NOW_MS, true],
    ['arrived 29 s ago', NOW_MS - 29_000, true],
    ['arrived 30 s ago: the market had its time to write it, the database wins', NOW_MS - 30_000, false],
    ['arrived an hour ago', NOW_MS - 3_600_000, false],
    ['not seen arriving (a store that did not receive it)', undefined, false],
  ] as [string, number | undefined, boolean][])('%s -> %s', (_what, arrived, holds) => {
    expect(awaitsMarket(arrived, NOW_MS)).toBe(holds);
  });
});

describe('isStaleEvent: whether an event is older than the state held', () => {
  it.each([
    ['older than what is held', at(-10), at(-20), true],
    ['newer than what is held', at(-20), at(-10), false],
    ['as old as what is held', at(-10), at(-10), false],
    ['held from 2099: no event is older than a time no clock reached', '2099-01-01T00:00:00.000Z', at(0), false],
    ['held from 9999: no event is older than a time no clock reached', '9999-12-31T00:00:00.000Z', at(-60), false],
    ['an event from 2099 after a current state', at(-10), '2099-01-01T00:00:00.000Z', false],
    ['nothing held', undefined, at(-10), false],
  ] as [string, string | undefined, string, boolean][])('%s', (_what, heldAt, evAt, stale) => {
    const held = heldAt === undefined ? undefined : appAt(heldAt);
    expect(isStaleEvent(held, { key: 'zzevil:market.olares:ev-progneg', at: evAt, app: appAt(evAt) }, NOW_MS)).toBe(stale);
  });
});

describe('recentlyPushed: whether a listing that lacks an app pushed by another source keeps it for now', () => {
  it.each([
    ['pushed 10 s ago', rowAt(at(-10)), true],
    ['pushed 29 s ago', rowAt(at(-29)), true],
    ['pushed 30 s ago: the grace is over', rowAt(at(-30)), false],
    ['pushed within the skew allowance ahead', rowAt(at(59)), true],
    ['from 2099: no grace', rowAt('2099-01-01T00:00:00.000Z'), false],
    ['from 9999-12-31: no grace', rowAt('9999-12-31T00:00:00.000Z'), false],
    ['without an event time', rowAt(undefined), false],
    ['the listing\'s own app', rowAt(at(-10), 'app_flow'), false],
    ['nothing held', undefined, false],
  ] as [string, Row<AppFlowState> | undefined, boolean][])('%s', (_what, row, recent) => {
    expect(recentlyPushed(row, 'app_flow', NOW_MS)).toBe(recent);
  });
});
