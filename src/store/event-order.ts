import type { AppFlowState, SourceName } from '../model/index.ts';
import type { AppEvent } from '../protocol.ts';
import type { Row } from './entity-table.ts';

/**
 * Ordering pushed app events (NATS) against polls and each other, by the app-service event time an app's
 * state reflects: an older event never overwrites a newer state, and a poll neither takes an app back behind
 * a newer event nor removes an app pushed moments ago that the market's record may not show yet.
 */

/** How long an app known only from a pushed event survives polls that do not list it yet. */
const RECONCILE_GRACE_MS = 30_000;

/** The app-service event time an app's state reflects (metadata.status.createTime), if known. */
function eventTimeOf(a: AppFlowState): string | undefined {
  const status = (a.metadata as { status?: { createTime?: unknown } } | undefined)?.status;
  return typeof status?.createTime === 'string' ? status.createTime : undefined;
}

/** The timeline's evidence for a pushed event. */
export function eventEvidence(ev: AppEvent): string {
  return ev.id ? `event ${ev.id}` : `event at ${ev.at}`;
}

/** The held state reflects a later event than the polled one: the market may not have written it yet. */
export function heldIsNewer(held: AppFlowState | undefined, polled: AppFlowState): boolean {
  const heldAt = held && eventTimeOf(held);
  const polledAt = eventTimeOf(polled);
  return heldAt !== undefined && polledAt !== undefined && heldAt > polledAt;
}

/** The event is older than the state held for its app: it is ignored. */
export function isStaleEvent(held: AppFlowState | undefined, ev: AppEvent): boolean {
  const heldAt = held && eventTimeOf(held);
  return heldAt !== undefined && ev.at < heldAt;
}

/** An app another source pushed moments ago, which the market's own record may not show yet. */
export function recentlyPushed(row: Row<AppFlowState> | undefined, reconciling: SourceName, nowMs: number): boolean {
  if (!row || row.owner === reconciling) return false;
  const at = eventTimeOf(row.value);
  return at !== undefined && nowMs - Date.parse(at) < RECONCILE_GRACE_MS;
}
