import type { AppFlowState, SourceName } from '../model/index.ts';
import type { AppEvent } from '../protocol.ts';
import type { Row } from './entity-table.ts';

/**
 * Ordering pushed app events (NATS) against polls and each other, by the app-service event time an app's
 * state reflects: an older event never overwrites a newer state, and a poll neither takes an app back behind
 * a newer event nor removes an app pushed moments ago that the market's record may not show yet.
 *
 * A time beyond now (plus clock skew) is no evidence of order: an app-service clock gone wrong, or one event
 * saying 2099, would otherwise be "newer" than every poll and event to come and pin its app forever. Such a
 * time never makes held data win: the database's row, or the next event, does.
 */

/**
 * How long an app known only from a pushed event survives polls that do not list it yet, and how long a pushed
 * event holds its app, from its arrival, against polled rows that do not show it yet (awaitsMarket).
 */
const RECONCILE_GRACE_MS = 30_000;

/**
 * How far ahead of our clock another's time (app-service's createTime, the database's now()) is still taken as
 * it says: clocks of one cluster drift by seconds under NTP; a minute leaves room for that and no more.
 */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** The time lies beyond now plus the skew allowance: it cannot be trusted to order anything. */
export function isFutureTime(atMs: number, nowMs: number): boolean {
  return atMs > nowMs + MAX_CLOCK_SKEW_MS;
}

/** The app-service event time an app's state reflects (metadata.status.createTime), if known. */
function eventTimeOf(a: AppFlowState): string | undefined {
  const status = (a.metadata as { status?: { createTime?: unknown } } | undefined)?.status;
  return typeof status?.createTime === 'string' ? status.createTime : undefined;
}

/** The app's event time, unless it lies beyond now (plus skew): then it orders nothing, as if unknown. */
function trustedEventTimeOf(a: AppFlowState, nowMs: number): string | undefined {
  const at = eventTimeOf(a);
  return at !== undefined && !isFutureTime(Date.parse(at), nowMs) ? at : undefined;
}

/** The timeline's evidence for a pushed event. */
export function eventEvidence(ev: AppEvent): string {
  return ev.id ? `event ${ev.id}` : `event at ${ev.at}`;
}

/**
 * The held state reflects a later event than the polled one: the market may not have written it yet. A held
 * time beyond now (plus skew) is not later than anything: the poll wins. (`nowMs`: the store's clock.) How long
 * that holds: awaitsMarket.
 */
export function heldIsNewer(held: AppFlowState | undefined, polled: AppFlowState, nowMs: number): boolean {
  const heldAt = held && trustedEventTimeOf(held, nowMs);
  const polledAt = eventTimeOf(polled);
  return heldAt !== undefined && polledAt !== undefined && heldAt > polledAt;
}

/**
 * Whether a pushed event that reached the store at `arrivedMs` still holds its app against polled rows that show an
 * older event time (heldIsNewer): for RECONCILE_GRACE_MS from its arrival, as long as an app known only from an
 * event survives listings that lack it. A row the market has not brought up to that event by then never will (it
 * wrote the app again without that event's time, or never took the event): held for good, the event pinned its app
 * against every later poll until the next event — on a live market, apps shown unhealthy (an entrance down in the
 * event) or still installing (the override of a task long finished) for minutes while their rows said otherwise.
 * Unknown (`undefined`: a store that did not see it arrive): it holds nothing.
 */
export function awaitsMarket(arrivedMs: number | undefined, nowMs: number): boolean {
  return arrivedMs !== undefined && nowMs - arrivedMs < RECONCILE_GRACE_MS;
}

/**
 * The event is older than the state held for its app: it is ignored. A held time beyond now (plus skew) makes
 * no event stale, or every later event would be ignored.
 */
export function isStaleEvent(held: AppFlowState | undefined, ev: AppEvent, nowMs: number): boolean {
  const heldAt = held && trustedEventTimeOf(held, nowMs);
  return heldAt !== undefined && ev.at < heldAt;
}

/**
 * An app another source pushed moments ago, which the market's own record may not show yet. One whose time lies
 * beyond now (plus skew) was not pushed "moments ago" by any clock we trust: the listing removes it.
 */
export function recentlyPushed(row: Row<AppFlowState> | undefined, reconciling: SourceName, nowMs: number): boolean {
  if (!row || row.owner === reconciling) return false;
  const at = trustedEventTimeOf(row.value, nowMs);
  return at !== undefined && nowMs - Date.parse(at) < RECONCILE_GRACE_MS;
}
