import type { Context } from 'hono';
import { errorBody } from './envelope.ts';

/** The 503 of a question asked before the first version. */
export const NOT_READY = 'runtime state not collected yet';

/** The 503 of a question the store did not answer within 5 s (a query, a version's body), or asked while no store is attached. */
export const STORE_UNAVAILABLE = 'runtime store unavailable';

/** The 503 of a new change-stream client past STREAM_LIMITS.maxClients. */
export const TOO_MANY_STREAM_CLIENTS = 'too many stream clients';
/** new stream clients wait while others' snapshots (64 MiB together) are still being sent */
export const STREAM_SNAPSHOTS_BUSY = 'stream snapshots of other clients are still being sent; retry shortly';

/** The 503 of a query asked while a restarted store rebuilds the state (docs/api.md, "While the store rebuilds"). */
export const REBUILDING = 'runtime store rebuilding after a restart: not every collector has reported to it yet; retry shortly';

/**
 * 503 with Retry-After while a restarted store has not yet got a pass of every collector (its answers
 * would come from part of the state); null when the store may be asked.
 */
export function rebuildingAnswer(c: Context, deps: { rebuilding?(): boolean }): Response | null {
  return deps.rebuilding?.() ? c.json(errorBody(REBUILDING), 503, { 'Retry-After': '1' }) : null;
}

/**
 * The 503 when there is no version to answer from: the store is rebuilding (and no reader had made this
 * thread fetch a body to serve meanwhile), or nothing was collected yet.
 */
export function unavailableAnswer(c: Context, deps: { rebuilding?(): boolean }): Response {
  return rebuildingAnswer(c, deps) ?? c.json(errorBody(NOT_READY), 503, { 'Retry-After': '1' });
}
