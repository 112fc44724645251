// One-off GETs of the runtime API, relative to the page, with the stored token.

import { authHeaders } from './token.js';

/** GET of a JSON answer relative to the page (with the token when one is stored); the envelope's data, or null. */
export async function getData(path) {
  try {
    const res = await fetch(new URL(path, document.baseURI).href, { headers: { Accept: 'application/json', ...authHeaders() } });
    const body = await res.json();
    return res.ok && body?.success === true ? body.data : null;
  } catch {
    return null;
  }
}
