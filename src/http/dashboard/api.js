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

/** A signal for one read (`fetch(url, { signal: readSignal() })`): it aborts the read past the bound. */
export const readSignal = () => AbortSignal.timeout(readTimeoutMs);

/** Why a read failed, as text: "no answer in 30 s" for one past the bound. */
export function whyFailed(err) {
  if (err && typeof err === 'object' && err.name === 'TimeoutError') return `no answer in ${fmtDuration(readTimeoutMs).replace(/(\d)s$/, '$1 s')}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * GET of a JSON answer relative to the page (with the token when one is stored): `{ ok: true, data }`, or
 * `{ ok: false, status, error }` (status 0: no answer) with why it failed as text (a refusal's message, the HTTP
 * status, no answer in time), so a failed read is never taken for an empty one.
 */
export async function getResult(path) {
  try {
    const res = await fetch(new URL(path, document.baseURI).href, { headers: { Accept: 'application/json', ...authHeaders() }, signal: readSignal() });
    let body = null;
    try { body = await res.json(); } catch (err) { if (err && err.name === 'TimeoutError') throw err; }
    if (res.ok && body?.success === true) return { ok: true, data: body.data };
    return { ok: false, status: res.status, error: body && typeof body.message === 'string' ? body.message.slice(0, 200) : `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, status: 0, error: whyFailed(err) };
  }
}
