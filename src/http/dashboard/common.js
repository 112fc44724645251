// Shared browser code of the runtime dashboards (plain ES module, no dependencies, no build step).
//
// Rules every page follows (issue 5):
// - Every upstream string reaches the DOM through textContent / createTextNode (`el` below turns strings
//   into text nodes). Nothing here ever assigns innerHTML or builds markup from data.
// - No inline script, no inline handler, no style attribute: the pages run under a strict CSP. Dynamic
//   widths go through the CSSOM (element.style.x = ...), which CSP allows.
// - `events` and `state` are fetched relative to the page URL, so the pages work under /api/v2/runtime/ and
//   /app-store/api/v2/runtime/ alike.

/** Creates an element. props: className, title, id, text, attrs{}, data{}, on{event: fn}; children: strings, nodes, arrays, null. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'className') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else if (k === 'title') node.title = String(v);
      else if (k === 'attrs') for (const [a, av] of Object.entries(v)) { if (av !== undefined && av !== null && av !== false) node.setAttribute(a, String(av)); }
      else if (k === 'data') for (const [d, dv] of Object.entries(v)) { if (dv !== undefined && dv !== null) node.dataset[d] = String(dv); }
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k === 'hidden') node.hidden = Boolean(v);
      else if (k === 'value') node.value = String(v);
      else if (k === 'type') node.type = String(v);
      else throw new Error(`el: unknown prop ${k}`);
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else if (c instanceof Node) node.appendChild(c);
    else node.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces a node's children (strings become text). */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ---- values ------------------------------------------------------------------------------------------

export const str = (v) => (v === undefined || v === null ? '' : String(v));
export const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const list = (v) => (Array.isArray(v) ? v : []);
export const obj = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {});
export const values = (v) => Object.values(obj(v)).filter((x) => x !== null && typeof x === 'object');

export function timeMs(iso) {
  if (typeof iso !== 'string' || iso === '') return NaN;
  return Date.parse(iso);
}

/** Server "now": the Date header of the last answer, moved on by the local clock (skew-proof ages). */
let clockOffset = 0;
export function now() {
  return Date.now() + clockOffset;
}

const pad = (n) => String(n).padStart(2, '0');

export function fmtTime(iso) {
  const t = timeMs(iso);
  if (!Number.isFinite(t)) return iso ? str(iso) : '—';
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtDuration(ms) {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "3m 10s ago" from an RFC 3339 string. */
export function fmtAge(iso) {
  const t = timeMs(iso);
  return Number.isFinite(t) ? `${fmtDuration(now() - t)} ago` : '—';
}

/** A time cell: local time, with the age as tooltip; compact = only the clock when the day is today. */
export function timeCell(iso, compact = false) {
  let text = fmtTime(iso);
  if (compact && text.length === 19 && text.slice(0, 10) === fmtTime(new Date(now()).toISOString()).slice(0, 10)) text = text.slice(11);
  return el('span', { className: 'time', title: iso ? `${str(iso)} (${fmtAge(iso)})` : undefined }, text);
}

export function fmtNs(ns) {
  if (typeof ns !== 'number' || !Number.isFinite(ns) || ns <= 0) return '—';
  const ms = ns / 1e6;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return fmtDuration(ms);
}

export function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n < 10 && i > 0 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/**
 * A number with thousands separators (en-US), up to three decimals. Grouped by hand: the first
 * toLocaleString in a page loads ICU's number data: 35–50 ms of a first render here.
 */
export function fmtNum(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e21) return n.toLocaleString('en-US'); // String() would write an exponent
  const [int, frac] = String(Number.isInteger(abs) ? abs : Math.round(abs * 1000) / 1000).split('.');
  return `${n < 0 ? '-' : ''}${int.replace(/\B(?=(\d{3})+$)/g, ',')}${frac ? `.${frac}` : ''}`;
}

/** Code-unit order: for our own keys and ids, and free of ICU (the first localeCompare loads a collator). */
export const byStr = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Compact one-line JSON for metrics, bounded. */
export function shortJson(v, max = 300) {
  let s;
  try { s = typeof v === 'string' ? v : JSON.stringify(v); } catch { s = String(v); }
  if (s === undefined) s = String(v);
  return s.length > max ? s.slice(0, max) + '…' : s;
}

// ---- widgets -----------------------------------------------------------------------------------------

const KNOWN_TONES = {
  good: ['running', 'healthy', 'completed', 'success', 'fully_downloaded', 'ok', 'true', 'active'],
  busy: ['fetching', 'hydrating', 'installing', 'upgrading', 'uninstalling', 'processing', 'partially_downloaded', 'analyzing', 'queued'],
  bad: ['failed', 'unhealthy', 'error', 'registry_error', 'false'],
  warn: ['degraded', 'stale', 'stuck', 'canceled', 'cancelled'],
  idle: ['pending', 'stopped', 'unknown', 'not_downloaded'],
};
const TONE = new Map(Object.entries(KNOWN_TONES).flatMap(([tone, names]) => names.map((n) => [n, tone])));

/** A status badge; the tone class comes from a fixed table, the label is text. */
export function badge(value, tone) {
  const label = str(value) || '—';
  const t = tone ?? TONE.get(label.toLowerCase()) ?? 'idle';
  return el('span', { className: `badge tone-${t}`, data: { value: label } }, label);
}

export function progressBar(pct) {
  const p = typeof pct === 'number' && Number.isFinite(pct) ? Math.max(0, Math.min(100, pct)) : null;
  if (p === null) return el('span', { className: 'muted' }, '—');
  const bar = el('progress', { attrs: { max: 100, value: p }, title: `${p.toFixed(1)}%` });
  return el('span', { className: 'progress' }, bar, el('span', { className: 'pct' }, `${Math.round(p)}%`));
}

/** Key/value list (e.g. counters). */
export function kv(pairs) {
  const dl = el('dl', { className: 'kv' });
  for (const [k, v] of pairs) {
    dl.append(el('dt', null, k), el('dd', null, v instanceof Node ? v : str(v === undefined || v === null || v === '' ? '—' : v)));
  }
  return dl;
}

/**
 * Tabs: buttons with role=tab switching panels (hidden attribute). `onChange(name)` lets the page render
 * only what is visible. Returns { get(), set(name), setCount(name, n) }.
 */
export function tabs(bar, panels, onChange) {
  const buttons = [...bar.querySelectorAll('[data-tab]')];
  let current = buttons.find((b) => b.getAttribute('aria-selected') === 'true')?.dataset.tab ?? buttons[0]?.dataset.tab;
  const set = (name) => {
    current = name;
    for (const b of buttons) b.setAttribute('aria-selected', String(b.dataset.tab === name));
    for (const [key, panel] of Object.entries(panels)) panel.hidden = key !== name;
    onChange?.(name);
  };
  for (const b of buttons) {
    b.setAttribute('role', 'tab');
    b.type = 'button';
    b.addEventListener('click', () => set(b.dataset.tab));
  }
  set(current);
  return {
    get: () => current,
    set,
    setCount(name, n) {
      const b = buttons.find((x) => x.dataset.tab === name);
      if (!b) return;
      let c = b.querySelector('.count');
      if (!c) { c = el('span', { className: 'count' }); b.append(' ', c); }
      c.textContent = fmtNum(n);
    },
  };
}

/**
 * A paginated table: only one page of rows is in the DOM, so 10,000 rows render as fast as 100.
 * columns: [{ label, cell(row) -> Node|string, className?, sort?(row) -> string|number }]
 * opts: { pageSize, empty, rowClass(row), pinned(row) -> bool (kept first), expand(row) -> Node|null, key(row) }
 * Returns { root, setRows(rows), count() }. Page, sort and expanded rows survive setRows (auto-refresh).
 */
export function table(columns, opts = {}) {
  // narrow screens stack each row into a card: fewer per page keeps the page short
  const narrow = window.matchMedia?.('(max-width: 760px)').matches;
  const pageSize = Math.min(opts.pageSize ?? 100, narrow ? 25 : Infinity);
  let rows = [];
  let page = 0;
  let sortCol = -1;
  let sortDir = 1;
  const expanded = new Set();
  const thead = el('thead');
  const headRow = el('tr');
  columns.forEach((col, i) => {
    const th = el('th', { className: col.className, attrs: { scope: 'col' } });
    if (col.sort) {
      const btn = el('button', { className: 'sort', type: 'button', title: 'sort' }, col.label);
      btn.addEventListener('click', () => {
        if (sortCol === i) sortDir = -sortDir; else { sortCol = i; sortDir = 1; }
        for (const b of headRow.querySelectorAll('button.sort')) b.removeAttribute('data-dir');
        btn.dataset.dir = sortDir > 0 ? 'asc' : 'desc';
        page = 0;
        applySort();
        draw();
      });
      th.append(btn);
    } else {
      th.append(col.label);
    }
    headRow.append(th);
  });
  thead.append(headRow);
  const tbody = el('tbody');
  const tableEl = el('table', { className: 'grid' }, thead, tbody);
  const info = el('span', { className: 'pager-info' });
  const prev = el('button', { type: 'button', className: 'pager-prev' }, '‹ Prev');
  const next = el('button', { type: 'button', className: 'pager-next' }, 'Next ›');
  const pager = el('div', { className: 'pager' }, prev, info, next);
  prev.addEventListener('click', () => { if (page > 0) { page--; draw(); } });
  next.addEventListener('click', () => { if ((page + 1) * pageSize < rows.length) { page++; draw(); } });
  const root = el('div', { className: 'table-wrap' }, el('div', { className: 'scroll-x' }, tableEl), pager);

  function applySort() {
    const pinned = opts.pinned;
    const col = columns[sortCol];
    if (!col?.sort && !pinned) return;
    const keyed = rows.map((r, i) => ({ r, i, p: pinned?.(r) ? 0 : 1, k: col?.sort ? col.sort(r) : 0 }));
    keyed.sort((a, b) => a.p - b.p || (a.k < b.k ? -sortDir : a.k > b.k ? sortDir : 0) || a.i - b.i);
    rows = keyed.map((x) => x.r);
  }

  function draw() {
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    if (page >= pages) page = pages - 1;
    const start = page * pageSize;
    const slice = rows.slice(start, start + pageSize);
    const frag = document.createDocumentFragment();
    if (slice.length === 0) {
      frag.append(el('tr', { className: 'empty' }, el('td', { attrs: { colspan: columns.length } }, opts.empty ?? 'Nothing to show.')));
    }
    for (const row of slice) {
      const key = opts.key ? opts.key(row) : null;
      const tr = el('tr', { className: opts.rowClass?.(row) });
      for (const col of columns) {
        let content;
        try { content = col.cell(row, { expanded: key !== null && expanded.has(key), toggle: () => toggle(key) }); } catch { content = '?'; }
        tr.append(el('td', { className: col.className, data: { label: col.label } }, content));
      }
      frag.append(tr);
      if (key !== null && expanded.has(key) && opts.expand) {
        const detail = opts.expand(row);
        if (detail) frag.append(el('tr', { className: 'detail' }, el('td', { attrs: { colspan: columns.length } }, detail)));
      }
    }
    tbody.replaceChildren(frag);
    info.textContent = rows.length === 0 ? '0 rows'
      : `${fmtNum(start + 1)}–${fmtNum(start + slice.length)} of ${fmtNum(rows.length)}${pages > 1 ? ` · page ${page + 1}/${pages}` : ''}`;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  function toggle(key) {
    if (key === null) return;
    if (expanded.has(key)) expanded.delete(key); else expanded.add(key);
    draw();
  }

  return {
    root,
    setRows(next, { resetPage = false } = {}) {
      rows = next.slice();
      if (resetPage) page = 0;
      applySort();
      draw();
    },
    count: () => rows.length,
  };
}

/** A "show"/"hide" button for expandable detail rows. */
export function toggleButton(ctx, label = 'show') {
  const b = el('button', { type: 'button', className: 'link', attrs: { 'aria-expanded': String(ctx.expanded) } }, ctx.expanded ? 'hide' : label);
  b.addEventListener('click', ctx.toggle);
  return b;
}

/** Case-insensitive substring test; an empty needle matches everything. */
export function contains(hay, needle) {
  return needle === '' || str(hay).toLowerCase().includes(needle);
}

const datalistKeys = new WeakMap();

/** Fills a <datalist> with distinct values (bounded). */
export function fillDatalist(node, items, max = 500) {
  const sorted = [...new Set(items.filter((x) => x))].sort().slice(0, max);
  const key = sorted.join('\u0000');
  if (datalistKeys.get(node) === key) return;
  datalistKeys.set(node, key);
  fill(node, sorted.map((v) => el('option', { value: v })));
}

export function fillSelect(node, items, allLabel = 'all') {
  const current = node.value;
  const sorted = [...new Set(items.filter((x) => x))].sort();
  fill(node, el('option', { value: '' }, allLabel), sorted.map((v) => el('option', { value: v }, v)));
  node.value = sorted.includes(current) ? current : '';
}

// ---- sources & freshness -----------------------------------------------------------------------------

export const SOURCE_LABELS = { tasks: 'Tasks', app_flow: 'App flow', components: 'Components', chart_repo: 'Chart Repo', nats: 'NATS events' };

/** The collectors' poll period, from the page's meta tag (the sidecar writes it at startup). */
export function collectIntervalMs() {
  const v = Number(document.querySelector('meta[name="runtime-collect-interval-ms"]')?.getAttribute('content'));
  return Number.isFinite(v) && v > 0 ? v : 5000;
}

/** 'ok' | 'failing' | 'stale' | 'waiting' for one source status. */
export function sourceState(s, intervalMs) {
  if (!s || typeof s !== 'object') return 'waiting';
  if (s.ok === false) return 'failing';
  const last = timeMs(s.last_success);
  if (!Number.isFinite(last)) return s.last_attempt ? 'failing' : 'waiting';
  if (now() - last > 3 * intervalMs) return 'stale';
  return 'ok';
}

/**
 * Each source's freshness (last success, failures, pass time), from the stream's `freshness` events or
 * `sources` fetched beside each poll. The snapshot holds only each source's health: freshness moves with every
 * pass and never mints a version, so it lives apart and the strip's ages tick without re-reading the snapshot.
 */
let liveFreshness = null;

function setFreshness(f) {
  if (f && typeof f === 'object' && f.sources && typeof f.sources === 'object') liveFreshness = f;
}

/** The snapshot's health per source, with the live freshness over it. */
function sourcesOf(data) {
  const out = {};
  const health = obj(data.sources);
  const fresh = obj(liveFreshness?.sources);
  for (const name of new Set([...Object.keys(health), ...Object.keys(fresh)])) {
    setOwn(out, name, { ...obj(health[name]), ...obj(fresh[name]) });
  }
  return out;
}

/** The freshness strip and the warning banner (both pages). */
export function renderSources(strip, banner, data) {
  const interval = collectIntervalMs();
  const sources = sourcesOf(data);
  const problems = [];
  const chips = [];
  for (const [name, s] of Object.entries(sources).sort(([a], [b]) => byStr(a, b))) {
    const state = sourceState(s, interval);
    const label = SOURCE_LABELS[name] ?? name;
    const detail = [
      s?.last_success ? `last success ${fmtAge(s.last_success)}` : 'no success yet',
      num(s?.consecutive_failures) > 0 ? `${s.consecutive_failures} failures in a row` : null,
      typeof s?.duration_ms === 'number' ? `pass ${Math.round(s.duration_ms)} ms` : null,
    ].filter(Boolean).join(' · ');
    chips.push(el('span', { className: `source source-${state}`, data: { source: name, state }, title: detail },
      el('span', { className: 'dot' }), label, ' ', el('span', { className: 'source-age' }, s?.last_success ? fmtAge(s.last_success) : state)));
    if (state === 'ok' && typeof s?.warning === 'string' && s.warning !== '') {
      // a pass that got some data but not all (e.g. some Chart Repo pairs failed): partial, not failing
      chips[chips.length - 1].classList.add('source-partial');
      problems.push(el('li', { data: { source: name } }, el('strong', null, label), ' answered partly: ', el('span', { className: 'error-text' }, s.warning)));
    }
    if (state === 'failing' || state === 'stale') {
      problems.push(el('li', { data: { source: name } },
        el('strong', null, label), state === 'failing' ? ' is failing' : ' is stale',
        ` (${detail})`, s?.last_error ? [': ', el('span', { className: 'error-text' }, str(s.last_error))] : null));
    }
  }
  // the snapshot's own time moves only with content (a quiet market keeps it); the collectors' last reports
  // tell whether they still run
  const lastReport = Math.max(...Object.values(sources).map((s) => timeMs(s?.last_attempt)).filter(Number.isFinite));
  const reportAge = now() - lastReport;
  if (Number.isFinite(reportAge) && reportAge > 3 * interval + 5000) {
    problems.push(el('li', { data: { source: 'snapshot' } }, el('strong', null, 'Collectors'), ` last reported ${fmtDuration(reportAge)} ago: they may have stopped`));
  }
  if (chips.length === 0) chips.push(el('span', { className: 'muted' }, 'no sources reported yet'));
  fill(strip, el('span', { className: 'strip-label' }, 'Sources:'), chips);
  if (problems.length) {
    fill(banner, el('strong', null, '⚠ Some sources need attention: the view may be incomplete or out of date'), el('ul', null, problems));
    banner.hidden = false;
  } else {
    banner.hidden = true;
    banner.replaceChildren();
  }
}

// ---- stuck (issue 8: additive fields, may be absent) -------------------------------------------------

export const isStuck = (x) => x?.stuck === true;

/** How long an app has been where it is: stage_since when the sidecar sends it, else last_update. */
export function stuckAge(x, ...fallbacks) {
  for (const t of [x?.stage_since, ...fallbacks]) {
    const ms = timeMs(t);
    if (Number.isFinite(ms)) return fmtDuration(now() - ms);
  }
  return '';
}

export function stuckBadge(x, ...fallbacks) {
  if (!isStuck(x)) return null;
  const age = stuckAge(x, ...fallbacks);
  const reason = str(x.stuck_reason ?? x.reason ?? '');
  return el('span', { className: 'badge tone-warn stuck-badge', title: reason || undefined }, `stuck${age ? ' ' + age : ''}`);
}

// ---- live data: the change stream, else conditional polling ----------------------------------------------

const TOKEN_KEY = 'market-runtime-token';

function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; /* storage disabled */ }
}

function authHeaders() {
  const token = storedToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

const DOMAINS = ['app_states', 'tasks', 'components'];
const MODE_LABELS = { stream: 'live stream', connecting: 'connecting to the stream…', off: 'paused' };

/** A stream event id `epoch-version.content` -> { epoch, version, content } | null */
function parseVersionId(id) {
  const m = /^(\w+)-(\d+)(?:\.([\w-]+))?$/.exec(str(id).trim());
  return m ? { epoch: m[1], version: Number(m[2]), content: m[3] ?? null } : null;
}

/** The content an ETag names: `W/"<content>"`, `W/"<content>-gzip"` -> `<content>` (digests are 22 characters) */
function tagContent(etag) {
  const m = /^(?:W\/)?"([\w-]{22})/.exec(str(etag).trim());
  return m ? m[1] : null;
}

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

/**
 * chart_repo's lists in a change event, keyed as the sidecar keys them (src/store/chart-repo-items.ts): apps
 * `user_id:source_id:app_name`, images `image_name`, hydrator tasks `task_id`.
 */
const CHART_LISTS = {
  apps: { get: (c) => c.apps, set: (c, v) => { c.apps = v; }, key: (x) => `${x.user_id}:${x.source_id}:${x.app_name}` },
  images: { get: (c) => c.images, set: (c, v) => { c.images = v; }, key: (x) => x.image_name },
  hydrator_tasks: {
    get: (c) => c.tasks?.hydrator?.tasks,
    set: (c, v) => { c.tasks = { ...obj(c.tasks), hydrator: { ...obj(obj(c.tasks).hydrator), tasks: v } }; },
    key: (x) => x.task_id,
  },
};

/** A chart_repo change applied to the page's copy: the frame replaced whole, items upserted and removed by key. */
export function applyChartChange(current, ch) {
  if (!ch || typeof ch !== 'object') return current;
  const before = obj(current);
  let out = { ...before };
  if (ch.frame && typeof ch.frame === 'object') {
    out = { ...ch.frame };
    for (const l of Object.values(CHART_LISTS)) if (l.get(before) !== undefined) l.set(out, l.get(before));
  }
  const upserts = obj(ch.upserts);
  const removed = obj(ch.removed);
  for (const [name, l] of Object.entries(CHART_LISTS)) {
    const up = obj(upserts[name]);
    const gone = list(removed[name]);
    if (Object.keys(up).length === 0 && gone.length === 0) continue;
    const items = new Map(list(l.get(out)).map((x) => [str(l.key(obj(x))), x]));
    for (const k of gone) items.delete(str(k));
    for (const [k, x] of Object.entries(up)) items.set(k, x);
    l.set(out, [...items.values()]);
  }
  return out;
}

/** Sets an own property even for a key like `__proto__` (keys come from upstream data). */
function setOwn(map, key, value) {
  if (key === '__proto__') Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
  else map[key] = value;
}

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
          clockOffset = offset;
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
      if (Number.isFinite(date)) clockOffset = date - Date.now();
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

function showTokenForm(onSaved) {
  const form = document.getElementById('token-form');
  if (!form || !form.hidden) return;
  form.hidden = false;
  const input = form.querySelector('input');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    try { sessionStorage.setItem(TOKEN_KEY, input.value.trim()); } catch { /* storage disabled */ }
    form.hidden = true;
    onSaved();
  }, { once: true });
}
