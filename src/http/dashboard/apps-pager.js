// The apps listing a page at a time (`…/apps`): server-side filters, a cursor per page, conditional re-reads.

import { answerOf, readInit, whyFailed } from './api.js';

/** What a table draws for no page (the read for its filters failed): no rows, nowhere. */
export const NO_PAGE = Object.freeze({ from: 0, to: 0, total: 0, pageNo: 1, hasPrev: false, hasNext: false });

/** An apps table's empty text: why the read failed (null: it did not, nothing matches), never one for the other. */
export const appsEmptyText = (error) => (error ? `The applications could not be read (${error.slice(0, 200)}); trying again.` : 'No applications match.');

/**
 * A listing of `…/apps` one page at a time. `query()` gives the filters (user_id, source_id, app_name, stage, health, stuck;
 * empty values are left out) and `include`; `onPage(page, view)` draws a page (`view`: {from, to, total,
 * pageNo, hasPrev, hasNext}); `onUnchanged()`: a re-read found the page as it is drawn (304). Pages are fetched with If-None-Match, so re-reading an unchanged page on a new
 * version costs a 304. Cursors of the pages before are kept for "previous"; when the version moves between
 * pages, a page is what the store holds after its cursor then (docs/api.md, Paging apps).
 * `onError(message, { drawn })`: a read failed; `drawn`: it was for the page drawn now (same filters and place),
 * else the page drawn belongs to other filters or another place and must not stay under them.
 * Returns { reset() (filters changed: first page), refresh(force) (a new version: this page again; force: without
 * If-None-Match), next(), prev(), failed() (the last read failed: read again with refresh()), error() (why it
 * failed; null: it did not) }.
 */
export function appsPager({ limit = 50, query, onPage, onUnchanged = () => {}, onError = () => {} }) {
  /** cursors[i]: the cursor that gives page i (null: the first) */
  let cursors = [null];
  let at = 0;
  let page = null;
  let last = { url: '', etag: null };
  /** answers to an older request than the latest are dropped */
  let seq = 0;
  /** why the latest read failed (null: it did not) */
  let error = null;

  function urlOf(cursor) {
    const params = new URLSearchParams();
    params.set('limit', String(limit));
    for (const [k, v] of Object.entries(query())) if (v !== '' && v !== undefined && v !== null) params.set(k, String(v));
    if (cursor) params.set('cursor', cursor);
    return new URL(`apps?${params}`, document.baseURI).href;
  }

  /** force: unconditional (the page's data now comes from another store) */
  async function load(force = false) {
    const mine = ++seq;
    const url = urlOf(cursors[at]);
    const tag = url === last.url && !force ? last.etag : null;
    let res;
    try {
      res = await fetch(url, readInit(tag));
    } catch (err) {
      if (mine === seq) { error = whyFailed(err); onError(error, { drawn: url === last.url }); }
      return;
    }
    if (res.status === 304) {
      await res.arrayBuffer().catch(() => {});
      if (mine === seq) { error = null; onUnchanged(); }
      return;
    }
    let body = null;
    try { body = await res.json(); } catch { /* not JSON */ }
    if (mine !== seq) return;
    const answer = answerOf(res, body);
    if (!answer.ok) {
      error = answer.error;
      onError(error, { drawn: url === last.url });
      return;
    }
    error = null;
    const items = Array.isArray(answer.data.items) ? answer.data.items : [];
    if (items.length === 0 && at > 0) {
      // the apps of this page are gone: step back
      cursors = cursors.slice(0, at);
      at -= 1;
      return load();
    }
    last = { url, etag: res.headers.get('etag') };
    page = answer.data;
    const total = typeof page.total === 'number' ? page.total : items.length;
    const hasNext = typeof page.next_cursor === 'string';
    // where the page starts is known exactly on the last page (its apps are the last of `total`, counted at
    // the same version); before it, from the pages before, which the market may have changed since
    const from = items.length === 0 ? 0 : hasNext ? Math.min(at * limit + 1, Math.max(1, total - items.length + 1)) : Math.max(1, total - items.length + 1);
    onPage(page, {
      from, to: from === 0 ? 0 : Math.min(total, from + items.length - 1), total, pageNo: at + 1,
      hasPrev: at > 0, hasNext,
    });
  }

  return {
    reset() { cursors = [null]; at = 0; return load(); },
    refresh: (force = false) => load(force),
    next() {
      if (!page || typeof page.next_cursor !== 'string') return Promise.resolve();
      cursors = [...cursors.slice(0, at + 1), page.next_cursor];
      at += 1;
      return load();
    },
    prev() {
      if (at === 0) return Promise.resolve();
      at -= 1;
      return load();
    },
    failed: () => error !== null,
    error: () => error,
  };
}
