// Keeps a page's data live: the change stream's summary view (one small event per version) tells when to re-read
// `overview` (If-None-Match); else conditional polling of `overview`. The whole state is never read.

import { startAgeTicker } from './ages.js';
import { answerOf, readInit, setReadTimeout, whyFailed } from './api.js';
import { now, setClockOffset } from './clock.js';
import { $ } from './dom.js';
import { fmtDuration, fmtTime } from './format.js';
import { FetchEventSource } from './fetch-event-source.js';
import { setFreshness } from './freshness.js';
import { noteContact, noteNoContact } from './offline-banner.js';
import { collectIntervalMs } from './sources-banner.js';
import { authHeaders, showTokenForm, storedToken } from './token.js';
import { dataKey, etagHolds, parseEventId } from './version-tag.js';

const MODE_LABELS = { stream: 'live stream', connecting: 'connecting to the stream…', off: 'paused' };

/**
 * Keeps the page's data live (issues 6 and 20). It opens `events?view=summary` (relative to the page; with
 * an API token, read with fetch, as EventSource cannot send the header): its events carry a version and the
 * summary, never the state,
 * and each new version makes the page re-read `overview` (the snapshot without the apps lists) with
 * If-None-Match, at most once per `renderEveryMs` (bursts are coalesced). The page reads its page of apps
 * itself (`…/apps`), in onData. When the stream cannot open (an API that needs a token the page does not have
 * yet answers 401), closes, errors repeatedly or sends no first event in time, it
 * falls back to fetching `overview` every `intervalMs` with If-None-Match (an unchanged version costs a 304
 * and no render), and tries the stream again later.
 *
 * Header controls: #refresh (fetch once), #auto (checkbox, on by default: off closes the stream /
 * stops polling), #status (text), #mode (which mode is live), #token-form.
 * onData(data, { isNew, key, reread }) is called for every new version, and with isNew=false when only ages
 * move; it may return a promise (the page's apps being fetched): the render counts once it settles. `key` names
 * what the data was read at (the store's epoch and the content's ETag: keep anything read for a version by it,
 * never by the version number, which a restarted store or another replica counts apart); `reread`: the
 * stream now comes from another store (a restart, another replica), so re-read everything, unconditionally.
 * Whether the page is current is judged by content: a stream event whose id names the content shown
 * (`<epoch>-<version>.<content>`, the content the ETag names) is no news, any other is; a new epoch re-reads.
 * While the sidecar does not answer (the stream down and reads failing) a warning says since when (offline-banner.js).
 * A stream silent for `streamSilenceMs` is replaced by a new connection and checked with a read; every read gives up
 * after `readTimeoutMs` (api.js): a sidecar that stops answering without closing anything is found out, not waited on.
 * Exposes counters on window.__runtimeDashboard for tests; a test may set numeric options before the page
 * loads in window.__runtimeDashboardOptions (e.g. a short clockWindowMs).
 */
export function startLive(onData, opts = {}) {
  const {
    intervalMs = 5000, renderEveryMs = 1000, snapshotTimeoutMs = 10_000, streamRetryMs = 30_000, clockWindowMs = 60_000,
    // a live sidecar sends `freshness` at every pass (its heartbeats are comments, which EventSource hides): a
    // market collected once an hour must not look dead after a minute
    streamSilenceMs = Math.max(60_000, 3 * collectIntervalMs()), readTimeoutMs = 30_000,
  } = { ...opts, ...testOptions() };
  setReadTimeout(readTimeoutMs);
  const overviewUrl = new URL('overview', document.baseURI).href;
  const sourcesUrl = new URL('sources', document.baseURI).href;
  const eventsUrl = new URL('events?view=summary', document.baseURI).href;
  const status = $('status');
  const modeEl = document.getElementById('mode');
  const auto = $('auto');
  const refreshBtn = $('refresh');
  const stats = {
    fetches: 0, notModified: 0, renders: 0, errors: 0, firstRenderMs: null, firstRenderAt: null, lastRenderMs: null,
    version: null, epoch: null, etag: null, mode: 'off', snapshots: 0, changes: 0, streamOpens: 0, fallbacks: 0, fallbackReason: null, freshness: 0,
    silences: 0,
  };
  window.__runtimeDashboard = stats;
  const canStream = () => (storedToken() ? typeof window.TextDecoderStream === 'function' : typeof window.EventSource === 'function');

  let mode = 'off';
  /** the overview the page shows */
  let lastData = null;
  let etag = null;
  let inflight = null;
  let pollTimer = null;
  let es = null;
  let streamErrors = 0;
  let snapshotTimer = null;
  let retryTimer = null;
  let fetchTimer = null;
  /** the latest version the stream named ({epoch, version, content}, or null: an id of another shape) and a count of its events */
  let news = null;
  let newsSeq = 0;
  /** the store the stream comes from, and the one the data shown was read while the stream came from */
  let streamEpoch = null;
  let shownEpoch = null;
  /** the stream moved to another store: the next read is unconditional and the page re-reads everything */
  let reread = false;
  /** the stream is open (what it sends is contact with the sidecar) */
  let streamUp = false;
  /** when the stream last sent anything (performance.now()): a live sidecar sends freshness every pass */
  let streamHeardAt = -Infinity;
  let lastRenderAt = -Infinity;
  let lastPollOk = false;
  /**
   * The server's clock (offset = server - local) from what tells the time now: the `Date` header of each answer
   * and the timestamp of each `change` event (minted as it is sent). Never from a snapshot's or a body's
   * `timestamp`: that is the time of the last content change, minutes or hours old on a quiet market.
   */
  let serverClock = { offset: -Infinity, at: -Infinity };

  const setStatus = (text, tone = 'ok') => {
    status.textContent = text;
    status.dataset.tone = tone;
  };
  const clock = () => fmtTime(new Date(now()).toISOString());

  function setMode(m) {
    mode = m;
    stats.mode = m;
    if (!modeEl) return;
    modeEl.textContent = MODE_LABELS[m] ?? `polling every ${fmtDuration(intervalMs)}`.replace(/(\d)s$/, '$1 s');
    modeEl.dataset.mode = m;
    modeEl.title = m === 'polling' && stats.fallbackReason ? `the change stream is unavailable (${stats.fallbackReason})` : '';
  }

  // ---- rendering ----

  /** t0: when parsing began, so the render time covers parse + the page's own fetch + DOM + layout */
  function rerender(isNew, t0 = performance.now(), again = false) {
    if (!lastData) return Promise.resolve();
    lastRenderAt = performance.now();
    const failed = (err) => {
      stats.errors++;
      setStatus(`render error: ${err instanceof Error ? err.message : String(err)}`, 'bad');
    };
    const done = () => {
      void document.body.offsetHeight; // include layout in the measurement
      const ms = performance.now() - t0;
      if (!isNew) return;
      stats.renders++;
      stats.lastRenderMs = ms;
      stats.version = lastData.version ?? null;
      if (stats.firstRenderMs === null) { stats.firstRenderMs = ms; stats.firstRenderAt = performance.now(); }
    };
    let r;
    try { r = onData(lastData, { isNew, key: dataKey(shownEpoch, etag), reread: again }); } catch (err) { failed(err); return Promise.resolve(); }
    return Promise.resolve(r).then(done, failed);
  }

  // ---- the change stream ----

  function openStream() {
    closeStream();
    streamErrors = 0;
    stats.streamOpens++;
    setMode('connecting');
    const token = storedToken();
    const source = token ? new FetchEventSource(eventsUrl, authHeaders()) : new EventSource(eventsUrl);
    es = source;
    streamHeardAt = performance.now();
    let live = false;
    snapshotTimer = setTimeout(() => { if (es === source && !live) fallBack('no snapshot arrived'); }, snapshotTimeoutMs);
    source.addEventListener('open', () => {
      if (es !== source) return;
      streamHeardAt = performance.now();
      streamUp = true;
      noteContact();
      if (live) { streamErrors = 0; setMode('stream'); setStatus(`reconnected ${clock()}`); }
    });
    // the summary view: each event names a version; the page re-reads what it shows (conditionally)
    const onVersion = (ev) => {
      if (es !== source) return;
      let d;
      try { d = JSON.parse(ev.data); } catch { d = null; }
      streamHeardAt = performance.now();
      if (!d || typeof d !== 'object') { stats.errors++; return; }
      if (ev.type === 'snapshot') {
        live = true;
        clearTimeout(snapshotTimer);
        stats.snapshots++;
        setMode('stream');
      } else {
        stats.changes++;
      }
      streamErrors = 0;
      streamUp = true;
      noteContact();
      // a change event is minted as it is sent: its time is the server's now (a snapshot's is the last change's)
      if (ev.type === 'change') noteServerAtLeast(typeof d.timestamp === 'string' ? Date.parse(d.timestamp) : Number.NaN);
      noteNews(parseEventId(ev.lastEventId));
      scheduleFetch();
    };
    source.addEventListener('snapshot', onVersion);
    source.addEventListener('change', onVersion);
    source.addEventListener('freshness', (ev) => {
      if (es !== source) return;
      streamHeardAt = performance.now();
      try { setFreshness(JSON.parse(ev.data)); } catch { stats.errors++; return; }
      stats.freshness++;
      noteContact();
      if (lastData && fetchTimer === null) rerender(false);
    });
    source.addEventListener('error', () => {
      if (es !== source) return;
      // the stream ran until now: the sidecar answered until now. Whether it still does, a read tells
      if (streamUp) noteContact();
      streamUp = false;
      if (source.readyState === 2) { // CLOSED (EventSource.CLOSED; FetchEventSource alike)
        // refused (401 without a token, 503, not an event stream): the browser will not retry it
        fallBack(live ? 'the stream was closed' : 'the stream could not be opened');
        return;
      }
      streamErrors++;
      if (streamErrors >= 3) { fallBack('the stream keeps failing'); return; }
      setStatus('stream interrupted; reconnecting…', 'warn');
      void refresh();
    });
  }

  /** A stream event's id: its content is what the page must show; another epoch is another store. */
  function noteNews(id) {
    newsSeq++;
    news = id;
    if (!id) return;
    if (streamEpoch !== null && id.epoch !== streamEpoch) reread = true;
    streamEpoch = id.epoch;
  }

  /** Whether the stream named something the page does not show: never judged by version numbers. */
  function behind() {
    return !lastData || reread || !news || !etagHolds(etag, news.content);
  }

  /** Re-reads the page's data for the stream's news: the first at once, then at most once per renderEveryMs. */
  function scheduleFetch() {
    if (fetchTimer !== null) return;
    const wait = stats.renders === 0 ? 0 : Math.max(50, renderEveryMs - (performance.now() - lastRenderAt));
    fetchTimer = setTimeout(() => {
      fetchTimer = null;
      if (!behind()) return;
      const seq = newsSeq;
      void refresh().then(() => {
        // news that arrived during the fetch and is not in what came back
        if (newsSeq !== seq && behind()) scheduleFetch();
      });
    }, wait);
  }

  function setServerClock(offset) {
    serverClock = { offset, at: Date.now() };
    setClockOffset(offset);
  }

  /** The server's clock was at least `serverMs` now (a change event's time): it only ever moves the clock on. */
  function noteServerAtLeast(serverMs) {
    if (!Number.isFinite(serverMs)) return;
    const offset = serverMs - Date.now();
    if (offset > serverClock.offset) setServerClock(offset);
  }

  /**
   * An answer's `Date` header (whole seconds), the request sent at local `sentAt`: the server's clock read
   * between `date` and `date` + 1 s while the request was out, so the offset lies in [lo, hi]. A lower bound
   * above the estimate moves it on; an estimate older than clockWindowMs that the answer rules out (the local
   * clock jumped) gives way to it. Within the bounds nothing moves: whole seconds would make ages jitter.
   */
  function noteDateHeader(date, sentAt) {
    if (!Number.isFinite(date)) return;
    const lo = date - Date.now();
    const hi = date + 999 - sentAt;
    if (lo > serverClock.offset) setServerClock(lo);
    else if (serverClock.offset > hi && Date.now() - serverClock.at > clockWindowMs) setServerClock(hi);
  }

  function closeStream() {
    clearTimeout(snapshotTimer);
    streamUp = false;
    if (es) { es.close(); es = null; }
  }

  function fallBack(reason) {
    closeStream();
    stats.fallbacks++;
    stats.fallbackReason = reason;
    startPollingMode();
    scheduleStreamRetry();
  }

  function scheduleStreamRetry() {
    clearTimeout(retryTimer);
    if (!canStream()) return;
    retryTimer = setTimeout(() => {
      if (!auto.checked || mode !== 'polling') return;
      // only when the API answers without a token: a stream that needs one can never open
      if (lastPollOk && canStream()) openStream(); else scheduleStreamRetry();
    }, streamRetryMs);
  }

  // ---- conditional polling ----

  function startPollingMode() {
    clearTimeout(pollTimer);
    setMode('polling');
    void refresh().then(schedulePoll);
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!auto.checked || mode !== 'polling') return;
    pollTimer = setTimeout(async () => {
      await refresh();
      schedulePoll();
    }, intervalMs);
  }

  /** Sources' freshness (small, unversioned): fetched beside each poll, so ages move while `overview` answers 304. */
  async function refreshFreshness() {
    try {
      const res = await fetch(sourcesUrl, readInit());
      const answer = answerOf(res, await res.json());
      if (answer.ok) { setFreshness(answer.data); stats.freshness++; }
    } catch { /* the state fetch reports connection problems */ }
  }

  /** A read that got no answer (no connection, cut mid-body, or none in time): said, and retried by the caller. */
  function unreachable(err) {
    stats.errors++;
    lastPollOk = false;
    const why = whyFailed(err);
    setStatus(`cannot reach the sidecar (${why}); retrying`, 'bad');
    if (!streamUp) noteNoContact(`it does not answer: ${why}`);
  }

  /** Fetches `overview` once (conditional). */
  async function refresh() {
    if (inflight) return inflight;
    inflight = (async () => {
      stats.fetches++;
      // read for the stream's store as it is now; another store: unconditional, and everything re-read
      const epoch = streamEpoch;
      const again = reread;
      const tag = again ? null : etag;
      let res;
      const sentAt = Date.now();
      try {
        res = await fetch(overviewUrl, readInit(tag));
      } catch (err) {
        unreachable(err);
        return;
      }
      noteDateHeader(Date.parse(res.headers.get('date') ?? ''), sentAt);
      if (res.status === 304) {
        noteContact();
        await res.arrayBuffer().catch(() => {}); // finish the (empty) body so the request completes
        // only freshness may have moved: fetch it (after an answer the token was good for, so no doomed request)
        await refreshFreshness();
        stats.notModified++;
        lastPollOk = true;
        setStatus(`up to date · checked ${clock()}`);
        await rerender(false);
        return;
      }
      if (res.status === 401 || res.status === 403) {
        noteContact();
        await res.arrayBuffer().catch(() => {});
        stats.errors++;
        lastPollOk = false;
        const sent = storedToken();
        showTokenForm(() => {
          etag = null;
          // with the token, the stream can open: at once when the token is good
          void refresh().then(() => { if (auto.checked && mode === 'polling' && lastPollOk && canStream()) openStream(); });
        }, sent ? 'that token was refused: enter the right one' : '');
        setStatus(sent ? 'the token was refused' : 'this API needs a token', 'bad');
        return;
      }
      let text = '';
      try {
        text = await res.text();
      } catch (err) {
        // the connection was lost mid-body, or the body did not come in time: no answer
        unreachable(err);
        return;
      }
      const t0 = performance.now();
      let body = null;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      const answer = answerOf(res, body);
      if (!answer.ok) {
        stats.errors++;
        lastPollOk = false;
        setStatus(`data unavailable: ${answer.error}`, res.status === 503 ? 'warn' : 'bad');
        if (res.status >= 500 && !streamUp) noteNoContact(`data unavailable: ${answer.error}`);
        return;
      }
      lastPollOk = true;
      noteContact();
      await refreshFreshness();
      etag = res.headers.get('etag');
      lastData = answer.data;
      shownEpoch = epoch;
      if (streamEpoch === epoch) reread = false;
      stats.epoch = epoch;
      stats.etag = etag;
      await rerender(true, t0, again);
      setStatus(`updated ${clock()}`);
    })().finally(() => { inflight = null; });
    return inflight;
  }

  // ---- wiring ----

  function start() {
    clearTimeout(retryTimer);
    if (canStream()) openStream(); else startPollingMode();
  }

  function stop() {
    closeStream();
    clearTimeout(fetchTimer);
    fetchTimer = null;
    clearTimeout(pollTimer);
    clearTimeout(retryTimer);
    setMode('off');
  }

  // ages and staleness move on even when no version arrives
  setInterval(() => {
    if (mode === 'stream' && lastData && fetchTimer === null && performance.now() - lastRenderAt > intervalMs - 500) {
      rerender(false);
    }
  }, intervalMs);

  // a stream that sends nothing for streamSilenceMs (a live sidecar sends freshness at every pass) may be dead
  // without being closed (a frozen sidecar, a connection left half-open behind a proxy or a Service): a browser
  // would wait on it forever, the page saying "live stream" over data that no longer moves. It is replaced by a
  // new connection (a live sidecar answers it with a snapshot at once), and a read tells whether the sidecar
  // answers at all (if not, the offline warning says so)
  setInterval(() => {
    if (mode !== 'stream' || !es || performance.now() - streamHeardAt < streamSilenceMs) return;
    stats.silences++;
    openStream();
    void refresh();
  }, Math.max(250, Math.min(5000, streamSilenceMs / 4)));

  // and the ages shown tick every second in between, without a render
  startAgeTicker();

  auto.checked = true;
  auto.addEventListener('change', () => { if (auto.checked) start(); else stop(); });
  refreshBtn.addEventListener('click', () => {
    void refresh().then(() => { if (mode === 'polling') schedulePoll(); });
  });
  start();
  return { refresh, rerender: () => rerender(false) };
}


/** Numeric startLive options a test set before the page loaded (window.__runtimeDashboardOptions); none in use. */
function testOptions() {
  const o = window.__runtimeDashboardOptions;
  if (!o || typeof o !== 'object') return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v > 0));
}
