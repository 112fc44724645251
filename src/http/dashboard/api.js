// One-off GETs of the runtime API, relative to the page, with the stored token; and how long any read waits.

import { fmtDuration } from './format.js';
import { authHeaders } from './token.js';

/**
 * How long a read (head and body) waits for the sidecar before it counts as no answer. Without a bound, a
 * sidecar that stops answering without closing anything (frozen, or a connection left half-open behind a proxy
 * or a Service) holds a read forever, and the page waits on it forever: it never says so and never reads again.
 */
let readTimeoutMs = 30_000;

/** Sets the bound (live-state.js, from the page's options). */
export function setReadTimeout(ms) {
  if (Number.isFinite(ms) && ms > 0) readTimeoutMs = ms;
}

/** A signal for one read: it aborts the read past the bound. */
const readSignal = () => AbortSignal.timeout(readTimeoutMs);

/** Why a read failed, as text: "no answer in 30 s" for one past the bound. */
export function whyFailed(err) {
  if (err && typeof err === 'object' && err.name === 'TimeoutError') return `no answer in ${fmtDuration(readTimeoutMs).replace(/(\d)s$/, '$1 s')}`;
  return err instanceof Error ? err.message : String(err);
}

/** What a read sends: JSON asked for, the stored token, the bound; conditional on `etag` when one is given. */
export function readInit(etag = null) {
  return { cache: 'no-store', headers: { Accept: 'application/json', ...(etag ? { 'If-None-Match': etag } : {}), ...authHeaders() }, signal: readSignal() };
}

/**
 * An answer's envelope (`body`: its parsed JSON, null when it was none): `{ ok: true, data }`, or `{ ok: false,
 * error }` with why it holds no data (its message, else the HTTP status), as text of at most 200 characters.
 */
export function answerOf(res, body) {
  if (res.ok && body?.success === true && body.data !== undefined && body.data !== null) return { ok: true, data: body.data };
  return { ok: false, error: body && typeof body.message === 'string' ? body.message.slice(0, 200) : `HTTP ${res.status}` };
}

/**
 * GET of a JSON answer relative to the page (with the token when one is stored): `{ ok: true, data }`, or
 * `{ ok: false, status, error }` (status 0: no answer) with why it failed as text (a refusal's message, the HTTP
 * status, no answer in time), so a failed read is never taken for an empty one.
 */
export async function getResult(path) {
  try {
    const res = await fetch(new URL(path, document.baseURI).href, readInit());
    let body = null;
    try { body = await res.json(); } catch (err) { if (err && err.name === 'TimeoutError') throw err; }
    const answer = answerOf(res, body);
    return answer.ok ? answer : { ...answer, status: res.status };
  } catch (err) {
    return { ok: false, status: 0, error: whyFailed(err) };
  }
}
