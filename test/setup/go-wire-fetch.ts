/**
 * Issue 19: every `/state` a suite fetches is decoded as a Go client decodes it. A 200 JSON answer of
 * `…/runtime/state` (any filter) read through `fetch` is checked with the strict Go-wire schemas
 * (helpers/go-wire.ts) before the test sees it: a snapshot that a Go client would fail on fails the test that
 * fetched it, whatever that test was about. (Raw-socket reads, test/helpers/raw-http.ts, are checked where
 * they parse a body.)
 */
import { expectGoWire } from '../helpers/go-wire.ts';

const realFetch = globalThis.fetch;
const STATE = /\/runtime\/state$/;

globalThis.fetch = async function goWireCheckedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const res = await realFetch(input, init);
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  if (method === 'GET' && res.status === 200 && STATE.test(url.pathname) && url.searchParams.get('view') !== 'summary'
    && (res.headers.get('content-type') ?? '').includes('json')) {
    expectGoWire(await res.clone().text());
  }
  return res;
};
