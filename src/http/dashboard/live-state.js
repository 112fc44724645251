// Keeps a page's data live: the change stream (Last-Event-ID, `change` events applied to the local snapshot),
// else conditional polling of `state` (If-None-Match).

import { applyChartChange } from './chart-change.js';
import { now, setClockOffset } from './clock.js';
import { $ } from './dom.js';
import { fmtDuration, fmtTime } from './format.js';
import { setFreshness } from './freshness.js';
import { authHeaders, showTokenForm, storedToken } from './token.js';
import { list, obj, setOwn, str } from './values.js';
import { parseVersionId, tagContent } from './version-tags.js';

const DOMAINS = ['app_states', 'tasks', 'components'];
const MODE_LABELS = { stream: 'live stream', connecting: 'connecting to the stream…', off: 'paused' };

/**
 * Keeps the page's data live (issue 6). With EventSource and no API token, it opens `events` (relative to
 * the page): one `snapshot` event replaces the local snapshot, each `change` event is applied to it
 * (upserts/removals per domain, chart_repo, sources, summary, version, timestamp), and the page re-renders
 * at most once per `renderEveryMs` (bursts are coalesced). When the stream cannot open (EventSource cannot
 * send an Authorization header, so an API that needs a token answers 401), closes, errors repeatedly or
 * sends no snapshot in time, it falls back to fetching `state` every `intervalMs` with If-None-Match (an
 * unchanged state costs a 304 and no render), and tries the stream again later.
 *
 * Header controls: #refresh (fetch state once), #auto (checkbox, on by default: off closes the stream /
 * stops polling), #status (text), #mode (which mode is live), #token-form.
 * onData(data, { isNew }) is called for every new version, and with isNew=false when only ages move.
 * Exposes counters on window.__runtimeDashboard for tests.
 */
export function startLive(onData, opts = {}) {
  const {
    intervalMs = 5000, stream = true, renderEveryMs = 1000, snapshotTimeoutMs = 10_000, streamRetryMs = 30_000,
  } = opts;
  const stateUrl = new URL('state', document.baseURI).href;
  const sourcesUrl = new URL('sources', document.baseURI).href;
  const eventsUrl = new URL('events', document.baseURI).href;
  const status = $('status');
  const modeEl = document.getElementById('mode');
  const auto = $('auto');
  const refreshBtn = $('refresh');
  const stats = {
    fetches: 0, notModified: 0, renders: 0, errors: 0, firstRenderMs: null, lastRenderMs: null, version: null,
    mode: 'off', snapshots: 0, changes: 0, streamOpens: 0, fallbacks: 0, fallbackReason: null, freshness: 0,
  };
  window.__runtimeDashboard = stats;
  const canStream = () => stream && typeof window.EventSource === 'function' && !storedToken();

  let mode = 'off';
  /** the local snapshot; `epoch` names the store run its version belongs to */
  let lastData = null;
  let epoch = null;
  /** the content digest of the local snapshot's version (what its ETag names), when known */
  let content = null;
  /** copy-on-write: the page keeps the object it rendered, so changes go to copies made once per render */
  let ownTop = false;
  const ownDomains = new Set();
  let etag = null;
  let inflight = null;
  let pollTimer = null;
  let es = null;
  let streamErrors = 0;
  let snapshotTimer = null;
  let retryTimer = null;
  let renderTimer = null;
  let pendingT0 = null;
  let lastRenderAt = -Infinity;
  let lastPollOk = false;
  /** server clock from change timestamps: the best lower bound of the offset over the last minute */
  let streamClock = { offset: -Infinity, at: 0 };

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

  /** t0: when parsing began, so the first-render time covers parse + derive + DOM + layout */
  function rerender(isNew, t0 = performance.now()) {
    if (!lastData) return;
    ownTop = false;
    ownDomains.clear();
    lastRenderAt = performance.now();
    try {
      onData(lastData, { isNew });
    } catch (err) {
      stats.errors++;
      setStatus(`render error: ${err instanceof Error ? err.message : String(err)}`, 'bad');
      return;
    }
    void document.body.offsetHeight; // include layout in the measurement
    const ms = performance.now() - t0;
    if (isNew) {
      stats.renders++;
      stats.lastRenderMs = ms;
      stats.version = lastData.version ?? null;
      if (stats.firstRenderMs === null) stats.firstRenderMs = ms;
    }
  }

  /** Renders the stream's news: the first one at once, then at most once per renderEveryMs. */
  function scheduleRender() {
    if (renderTimer !== null) return;
    const wait = stats.renders === 0 ? 0 : Math.max(50, renderEveryMs - (performance.now() - lastRenderAt));
    renderTimer = setTimeout(() => {
      renderTimer = null;
      const t0 = pendingT0 ?? performance.now();
      pendingT0 = null;
      rerender(true, t0);
      if (mode === 'stream') setStatus(`updated ${clock()}`);
    }, wait);
  }

  function cancelRender() {
    clearTimeout(renderTimer);
    renderTimer = null;
  }

  // ---- the change stream ----

  function openStream() {
    closeStream();
    streamErrors = 0;
    stats.streamOpens++;
    setMode('connecting');
    const source = new EventSource(eventsUrl);
    es = source;
    let live = false;
    snapshotTimer = setTimeout(() => { if (es === source && !live) fallBack('no snapshot arrived'); }, snapshotTimeoutMs);
    source.addEventListener('open', () => {
      if (es !== source) return;
      if (live) { streamErrors = 0; setMode('stream'); setStatus(`reconnected ${clock()}`); }
    });
    source.addEventListener('snapshot', (ev) => {
      if (es !== source) return;
      const t0 = performance.now();
      let d;
      try { d = JSON.parse(ev.data); } catch { d = null; }
      if (!d || typeof d !== 'object') { stats.errors++; return; }
      live = true;
      clearTimeout(snapshotTimer);
      streamErrors = 0;
      stats.snapshots++;
      lastData = d;
      const id = parseVersionId(ev.lastEventId);
      epoch = id?.epoch ?? null;
      content = id?.content ?? null;
      ownTop = true;
      DOMAINS.forEach((x) => ownDomains.add(x)); // freshly parsed: ours until rendered
      pendingT0 = t0;
      setMode('stream');
      scheduleRender();
    });
    source.addEventListener('change', (ev) => {
      if (es !== source || !lastData) return;
      let ch;
      try { ch = JSON.parse(ev.data); } catch { ch = null; }
      if (!ch || typeof ch !== 'object') { stats.errors++; return; }
      streamErrors = 0;
      const id = parseVersionId(ev.lastEventId);
      if (id && epoch !== null && id.epoch !== epoch) {
        // the store restarted: its versions start again, so start again from a snapshot
        openStream();
        return;
      }
      if (applyChange(ch)) {
        content = id?.content ?? null;
        stats.changes++;
        scheduleRender();
      }
    });
    source.addEventListener('freshness', (ev) => {
      if (es !== source) return;
      try { setFreshness(JSON.parse(ev.data)); } catch { stats.errors++; return; }
      stats.freshness++;
      if (lastData && renderTimer === null) rerender(false);
    });
    source.addEventListener('error', () => {
      if (es !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // refused (401 without a token, 503, not an event stream): the browser will not retry it
        fallBack(live ? 'the stream was closed' : 'the stream could not be opened');
        return;
      }
      streamErrors++;
      if (streamErrors >= 3) { fallBack('the stream keeps failing'); return; }
      setStatus('stream interrupted; reconnecting…', 'warn');
    });
  }

  /** Applies one `change` event to the local snapshot; false when it is not news. */
  function applyChange(ch) {
    const v = ch.version;
    if (typeof v === 'number' && typeof lastData.version === 'number' && v <= lastData.version) return false;
    if (!ownTop) { lastData = { ...lastData }; ownTop = true; }
    const upserts = obj(ch.upserts);
    const removed = obj(ch.removed);
    for (const d of DOMAINS) {
      const up = obj(upserts[d]);
      const gone = list(removed[d]);
      const keys = Object.keys(up);
      if (keys.length === 0 && gone.length === 0) continue;
      if (!ownDomains.has(d)) { lastData[d] = { ...obj(lastData[d]) }; ownDomains.add(d); }
      const map = lastData[d];
      for (const k of gone) delete map[str(k)];
      for (const k of keys) setOwn(map, k, up[k]);
    }
    if ('chart_repo' in ch) lastData.chart_repo = applyChartChange(lastData.chart_repo, ch.chart_repo);
    if ('sources' in ch) lastData.sources = ch.sources;
    if ('summary' in ch) lastData.summary = ch.summary;
    if (v !== undefined) lastData.version = v;
    if (typeof ch.timestamp === 'string') {
      lastData.timestamp = ch.timestamp;
      // a change leaves the server as it is made, so its time is a lower bound of the server's clock
      const t = Date.parse(ch.timestamp);
      if (Number.isFinite(t)) {
        const offset = t - Date.now();
        if (offset > streamClock.offset || Date.now() - streamClock.at > 60_000) {
          streamClock = { offset, at: Date.now() };
          setClockOffset(offset);
        }
      }
    }
    return true;
  }

  function closeStream() {
    clearTimeout(snapshotTimer);
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

  /** If-None-Match: the last ETag, or (stream mode) the tags the stream's version has under each encoding. */
  function conditionalTags() {
    if (mode !== 'polling' && lastData && content !== null) {
      return [`W/"${content}"`, `W/"${content}-br"`, `W/"${content}-gzip"`, ...(etag ? [etag] : [])].join(', ');
    }
    return etag;
  }

  /** Sources' freshness (small, unversioned): fetched beside each poll, so ages move while `state` answers 304. */
  async function refreshFreshness() {
    try {
      const res = await fetch(sourcesUrl, { cache: 'no-store', headers: { Accept: 'application/json', ...authHeaders() } });
      const body = await res.json();
      if (res.ok && body?.success === true) { setFreshness(body.data); stats.freshness++; }
    } catch { /* the state fetch reports connection problems */ }
  }

  /** Fetches `state` once (conditional). */
  async function refresh() {
    if (inflight) return inflight;
    inflight = (async () => {
      stats.fetches++;
      const tags = conditionalTags();
      let res;
      try {
        res = await fetch(stateUrl, {
          cache: 'no-store',
          headers: { Accept: 'application/json', ...(tags ? { 'If-None-Match': tags } : {}), ...authHeaders() },
        });
      } catch (err) {
        stats.errors++;
        lastPollOk = false;
        setStatus(`cannot reach the sidecar (${err instanceof Error ? err.message : String(err)}); retrying`, 'bad');
        return;
      }
      const date = Date.parse(res.headers.get('date') ?? '');
      if (Number.isFinite(date)) setClockOffset(date - Date.now());
      if (res.status === 304) {
        await res.arrayBuffer().catch(() => {}); // finish the (empty) body so the request completes
        // only freshness may have moved: fetch it (after an answer the token was good for, so no doomed request)
        await refreshFreshness();
        stats.notModified++;
        lastPollOk = true;
        setStatus(`up to date · checked ${clock()}`);
        rerender(false);
        return;
      }
      if (res.status === 401 || res.status === 403) {
        await res.arrayBuffer().catch(() => {});
        stats.errors++;
        lastPollOk = false;
        showTokenForm(() => { etag = null; void refresh(); });
        setStatus('this API needs a token', 'bad');
        return;
      }
      let text = '';
      try { text = await res.text(); } catch { /* connection lost mid-body */ }
      const t0 = performance.now();
      let body = null;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      if (!res.ok || !body || body.success !== true || !body.data) {
        stats.errors++;
        lastPollOk = false;
        const msg = body && typeof body.message === 'string' ? body.message : `HTTP ${res.status}`;
        setStatus(`state unavailable: ${msg.slice(0, 200)}`, res.status === 503 ? 'warn' : 'bad');
        return;
      }
      lastPollOk = true;
      await refreshFreshness();
      etag = res.headers.get('etag');
      const got = tagContent(etag);
      const d = body.data;
      if (mode !== 'polling' && lastData && (got !== null && got === content || typeof lastData.version === 'number'
        && typeof d.version === 'number' && d.version <= lastData.version)) {
        // the stream is already there (or further)
        stats.notModified++;
        setStatus(`up to date · checked ${clock()}`);
        rerender(false);
        return;
      }
      lastData = d;
      content = got;
      cancelRender(); // this version includes whatever the stream had pending
      pendingT0 = null;
      rerender(true, t0);
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
    cancelRender();
    clearTimeout(pollTimer);
    clearTimeout(retryTimer);
    setMode('off');
  }

  // ages and staleness move on even when no version arrives
  setInterval(() => {
    if (mode === 'stream' && lastData && renderTimer === null && performance.now() - lastRenderAt > intervalMs - 500) {
      rerender(false);
    }
  }, intervalMs);

  auto.checked = true;
  auto.addEventListener('change', () => { if (auto.checked) start(); else stop(); });
  refreshBtn.addEventListener('click', () => {
    void refresh().then(() => { if (mode === 'polling') schedulePoll(); });
  });
  start();
  return { refresh, rerender: () => rerender(false) };
}

/** Conditional polling only (no change stream). */
export function startPolling(onData, opts = {}) {
  return startLive(onData, { ...opts, stream: false });
}
