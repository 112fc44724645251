// /dashboard-app — the processing flow of each app:
//   Syncer → Market Hydration → SourceChartStep → RenderedChartStep → CustomParamsUpdateStep → ImageAnalysisStep → DatabaseUpdateStep
// Every upstream string goes through `el`/`fill` (text nodes only); see dom.js.
import { getResult } from './api.js';
import { timeMs } from './clock.js';
import { $, el, fill } from './dom.js';
import { NO_PAGE, appsEmptyText, appsPager } from './apps-pager.js';
import { debounce, fillDatalist } from './filters.js';
import { byStr, fmtNum, fmtProgress, fmtTime } from './format.js';
import { startLive } from './live-state.js';
import { renderCards, renderHeader } from './page-top.js';
import { isStuck, lastChange, stuckBadge } from './stuck.js';
import { table, toggleButton } from './table.js';
import { list, lookup, num, obj, setOwn, str, values } from './values.js';
import { badge, kv, processingTime, timeCell } from './widgets.js';

export const HYDRATION_STEPS = ['SourceChartStep', 'RenderedChartStep', 'CustomParamsUpdateStep', 'ImageAnalysisStep', 'DatabaseUpdateStep'];
/** compact chip labels; the full step name is the chip's tooltip and is listed in the page legend */
const SHORT = {
  Syncer: 'Sync', 'Market Hydration': 'Hydration', SourceChartStep: 'Source', RenderedChartStep: 'Render',
  CustomParamsUpdateStep: 'Params', ImageAnalysisStep: 'Images', DatabaseUpdateStep: 'DB',
};
const SYMBOL = { completed: '✓', running: '▶', failed: '✗', pending: '○', unknown: '·' };
const TRANSITIONAL = new Set(['fetching', 'hydrating', 'installing', 'upgrading', 'uninstalling']);
/** stages that cannot be reached without a hydrated chart */
const PAST_HYDRATION = new Set(['installing', 'running', 'upgrading', 'uninstalling', 'stopped']);

const keyOf = (user, source, app) => `${str(user)}:${str(source)}:${str(app)}`;

/**
 * Position (0-based) of a step among the five: by name first (the name is what identifies the step);
 * by a numeric index only when the name is not one we know (the demo and the Chart Repo count from 0).
 */
const normStep = (n) => str(n).toLowerCase().replace(/[^a-z]/g, '').replace(/step$/, '');
const STEP_KEYS = HYDRATION_STEPS.map(normStep);
/** position by step name, remembered: thousands of apps share a handful of names (bounded, names are untrusted) */
const posByName = new Map();

function stepPos(name, index) {
  // the Chart Repo's own step names may lack the "Step" suffix (e.g. "CustomParamsUpdate")
  const key = str(name);
  let byName = posByName.get(key);
  if (byName === undefined) {
    byName = STEP_KEYS.indexOf(normStep(key));
    if (posByName.size < 1000) posByName.set(key, byName);
  }
  if (byName >= 0) return byName;
  if (typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < HYDRATION_STEPS.length) return index;
  return -1;
}

/** Steps before `pos` completed, the step at `pos` `current`, the rest pending. */
function stepsAt(pos, current) {
  return HYDRATION_STEPS.map((_, i) => (pos < 0 ? (current === 'failed' ? 'unknown' : 'pending') : i < pos ? 'completed' : i === pos ? current : 'pending'));
}

/** every chip of a flow, in order */
const FLOW_STEPS = ['Syncer', 'Market Hydration', ...HYDRATION_STEPS];
/** the five steps all in one status: shared, never mutated */
const ALL = Object.fromEntries(['completed', 'pending', 'unknown'].map((st) => [st, Object.freeze(HYDRATION_STEPS.map(() => st))]));

const HYDRATOR_STATUS = {
  pending: 'pending', queued: 'pending', waiting: 'pending',
  running: 'running', processing: 'running', in_progress: 'running',
  completed: 'completed', success: 'completed', succeeded: 'completed', done: 'completed',
  failed: 'failed', error: 'failed', cancelled: 'failed', canceled: 'failed',
};

/**
 * The flow of one app: from the Chart Repo app's state and current step, or its hydrator task
 * when there is no app entry; a failed app marks the steps before the current one completed and the current
 * one failed. Without either, an app whose stage lies past hydration shows the steps as inferred-completed.
 */
export function flowOf(row) {
  const { app, cr, task } = row;
  const syncer = app ? (app.stage === 'fetching' ? 'running' : 'completed') : 'completed';
  let hydration = 'unknown';
  let steps = ALL.unknown;
  let current = '';
  let inferred = false;
  if (cr) {
    const step = obj(cr.current_step);
    const pos = stepPos(step.name ?? obj(cr.error).step, step.index);
    const label = step.name ? `${str(step.name)}${typeof step.index === 'number' && typeof step.total === 'number' ? ` ${step.index + 1}/${step.total}` : ''}` : '';
    switch (cr.state) {
      case 'completed': hydration = 'completed'; steps = ALL.completed; current = 'done'; break;
      case 'pending': hydration = 'pending'; steps = ALL.pending; current = 'queued'; break;
      case 'processing':
        hydration = 'running';
        steps = stepsAt(pos, step.status === 'failed' ? 'failed' : 'running');
        current = label || 'processing';
        break;
      case 'failed': {
        const failedPos = pos >= 0 ? pos : stepPos(obj(cr.error).step);
        hydration = 'failed';
        steps = stepsAt(failedPos, 'failed');
        current = label || (obj(cr.error).step ? str(cr.error.step) : 'failed');
        break;
      }
      default: break;
    }
  } else if (task) {
    const status = lookup(HYDRATOR_STATUS, str(task.status).toLowerCase()) ?? 'unknown';
    const pos = stepPos(task.step_name);
    hydration = status;
    if (status === 'completed') { steps = ALL.completed; current = 'done'; }
    else if (status === 'pending') { steps = ALL.pending; current = 'queued'; }
    else if (status === 'running' || status === 'failed') {
      steps = stepsAt(pos, status);
      current = str(task.step_name) || status;
    }
  } else if (app) {
    if (PAST_HYDRATION.has(app.stage)) {
      hydration = 'completed';
      steps = ALL.completed;
      inferred = true;
    } else if (app.stage === 'hydrating') {
      hydration = 'running';
    } else if (app.stage === 'fetching') {
      hydration = 'pending';
      steps = ALL.pending;
    }
  }
  const all = [syncer, hydration, ...steps];
  const overall = all.includes('failed') || app?.stage === 'failed' ? 'failed'
    : all.includes('running') || (app && TRANSITIONAL.has(app.stage)) ? 'running'
      : all.includes('pending') ? 'pending'
        : all.every((s) => s === 'completed') ? 'completed' : 'unknown';
  // past hydration the app's own stage says what is going on (downloading, installFailed …), not "done"
  const failedAfter = app?.stage === 'failed' && hydration !== 'failed';
  const pastHydration = app && hydration === 'completed' && app.stage !== 'running' && str(app.stage_detail);
  return {
    /** the status of each of FLOW_STEPS, in order (names joined only for the rows drawn) */
    statuses: all,
    current: failedAfter ? str(app.stage_detail) || 'failed after hydration'
      : pastHydration || current || (app ? str(app.stage_detail) : ''),
    overall,
    inferred,
  };
}

function lastUpdate(row) {
  const times = [row.app?.last_update, obj(row.cr?.timestamps).last_updated_at, obj(row.cr?.current_step).updated_at, row.task?.updated_at];
  let best = '';
  let bestMs = -Infinity;
  for (const t of times) {
    const ms = timeMs(t);
    if (Number.isFinite(ms) && ms > bestMs) { bestMs = ms; best = t; }
  }
  return best;
}

/** One row per app: the union of the runtime app states, the Chart Repo apps and the hydrator tasks. */
export function buildRows(d) {
  const rows = new Map();
  const row = (user, source, name) => {
    const k = keyOf(user, source, name);
    let r = rows.get(k);
    if (!r) { r = { key: k, user_id: str(user), source_id: str(source), app_name: str(name), app: null, cr: null, task: null }; rows.set(k, r); }
    return r;
  };
  for (const a of values(d.app_states)) row(a.user_id, a.source_id, a.app_name).app = a;
  const cr = obj(d.chart_repo);
  for (const c of list(cr.apps)) {
    if (!c || typeof c !== 'object') continue;
    row(c.user_id, c.source_id, c.app_name).cr = c;
  }
  const hyd = obj(obj(cr.tasks).hydrator);
  for (const t of [...list(hyd.recent_failed), ...list(hyd.tasks)]) {
    if (!t || typeof t !== 'object' || !t.app_name) continue;
    const r = row(t.user_id, t.source_id, t.app_name);
    if (!r.task || str(t.updated_at) >= str(r.task.updated_at)) r.task = t;
  }
  const out = [];
  for (const r of rows.values()) {
    r.flow = flowOf(r);
    r.updated = lastUpdate(r);
    r.stuck = isStuck(r.app);
    out.push(r);
  }
  // in key order (user:source:app), as the pages come: a row keeps its place while its status moves (the
  // Status column sorts by status on a click; failed rows stand out by colour)
  out.sort((a, b) => byStr(a.key, b.key));
  return out;
}

function flowCell(r) {
  return el('ol', { className: 'flow', attrs: { 'aria-label': `flow: ${r.flow.overall}` } },
    FLOW_STEPS.map((name, i) => {
      const status = r.flow.statuses[i];
      const inferred = r.flow.inferred && name !== 'Syncer';
      return el('li', {
        className: `step st-${status}${inferred ? ' inferred' : ''}`,
        title: `${name}: ${status}${inferred ? ' (inferred from the app stage)' : ''}`,
        data: { step: name, status },
      }, el('span', { className: 'sym' }, lookup(SYMBOL, status) ?? '·'), el('span', { className: 'step-name' }, lookup(SHORT, name) ?? name));
    }));
}

/**
 * Timelines fetched for open details, per app key and what the page's data was read at (live-state.js `key`: the
 * store's epoch and the content's ETag, never a version number), re-fetched when that moves.
 */
const timelines = new Map();
let shownKey = '';
/** a timeline read failed (not a 404: an app with none): it is read again at the next pass, never kept */
let timelineFailed = false;

/**
 * The app's timeline (what the sidecar saw happen to it), as text lines; fetched when its details open.
 * `onHistory` gets the history (or null) once it is there.
 */
function timelineOf(r, onHistory) {
  const box = el('div', { className: 'timeline', data: { key: r.key } }, el('span', { className: 'muted' }, 'loading timeline…'));
  const known = timelines.get(r.key);
  const fill1 = (h) => {
    onHistory(h);
    if (!h) { fill(box, el('span', { className: 'muted' }, 'no timeline for this app')); return; }
    const lines = list(h.entries).map((e) => el('li', null,
      el('span', { className: 'nowrap' }, fmtTime(str(e.at))), ' ', el('strong', null, str(e.stage)),
      e.health ? ` · ${str(e.health)}` : '', e.progress ? ` · progress ${fmtProgress(e.progress)}` : '',
      e.detail ? [' — ', el('span', { className: 'detail-text' }, str(e.detail))] : '',
      e.op ? ` · new operation ${str(e.op)}` : '',
      el('span', { className: 'muted small' }, ` (${str(e.evidence)})`)));
    // since: from when the entries are complete (the store's start, or the oldest entry it kept)
    fill(box, el('div', { className: 'muted small' }, `every change since ${fmtTime(str(h.since))}`), el('ol', { className: 'timeline-list' }, lines));
  };
  if (!r.app) { fill1(null); return box; }
  // the timeline fetched for an earlier version stays shown until the new one is there (no flicker)
  if (known) {
    fill1(known.history);
    if (known.at === shownKey) return box;
  }
  const path = ['apps', r.user_id, r.source_id, r.app_name, 'history'].map(encodeURIComponent).join('/');
  const at = shownKey;
  void getResult(path).then((res) => {
    if (!res.ok && res.status !== 404) {
      timelineFailed = true;
      // a timeline shown before stays; else the box says why there is none yet (never "no timeline")
      if (!known) fill(box, el('span', { className: 'muted' }, `the timeline could not be read (${res.error}); trying again`));
      return;
    }
    const h = res.ok ? res.data : null;
    timelines.set(r.key, { at, history: h });
    fill1(h);
  });
  return box;
}

/** "web → wiki.alice.example (running)" per entrance, as text: every part is an upstream string */
function entrancesText(entrances) {
  return list(entrances).map((e) => {
    const x = obj(e);
    return `${str(x.title || x.name)}${x.url ? ` → ${str(x.url)}` : ''}${x.state ? ` (${str(x.state)})` : ''}`;
  }).join('; ');
}

function details(r) {
  const c = r.cr ?? {};
  const t = r.task ?? {};
  const err = obj(c.error);
  const st = obj(obj(r.app?.metadata).status);
  // the server's verdict, then the last change its timeline shows (once fetched)
  const stuck = r.stuck ? el('span', { className: 'stuck-line' }, str(r.app.stuck_reason ?? r.app.reason ?? 'yes')) : '';
  // (called again when a newer timeline replaces the one shown)
  const showLastChange = (h) => {
    if (!stuck) return;
    stuck.querySelector('.last-change')?.remove();
    const change = lastChange(obj(h).entries);
    if (change) stuck.append(el('span', { className: 'last-change' }, ' — last change ', change));
  };
  return el('div', { className: 'task-detail' },
    err.message || t.last_error ? el('pre', { className: 'error-text' }, str(err.message || t.last_error)) : null,
    kv([
      ['Title', str(st.title)],
      ['Catalog id', str(st.appid ?? c.app_id ?? t.app_id)],
      ['Icon', str(st.icon)],
      ['Entrances', entrancesText(st.entranceStatuses)],
      ['Shared entrances', entrancesText(st.sharedEntrances)],
      ['Stage', r.app ? str(r.app.stage) : 'not installed (Chart Repo only)'],
      ['Stage detail', str(r.app?.stage_detail)],
      ['Stuck', stuck],
      ['Chart Repo state', str(c.state)],
      ['Failed step', str(err.step)],
      ['Retries', c.current_step ? fmtNum(num(c.current_step.retry_count)) : t.retry_count !== undefined ? fmtNum(num(t.retry_count)) : ''],
      ['Step started', c.current_step?.started_at ? fmtTime(c.current_step.started_at) : ''],
      ['Processing', c.processing ? el('span', null, `${str(c.processing.task_id)} · `, processingTime(c)) : ''],
      ['Hydrator task', t.task_id ? `${str(t.task_id)} (${str(t.status)})` : ''],
    ]),
    el('h4', null, 'Timeline'),
    timelineOf(r, showLastChange));
}

const flowTable = table([
  {
    label: 'Application',
    cell: (r) => [el('span', { className: 'name' }, r.app_name), stuckBadge(r.app),
      r.app?.version ? el('div', { className: 'muted small' }, `v ${str(r.app.version)}`) : null],
    sort: (r) => r.app_name,
  },
  { label: 'User', cell: (r) => r.user_id, sort: (r) => r.user_id },
  { label: 'Source', cell: (r) => r.source_id, sort: (r) => r.source_id },
  { label: 'Stage', cell: (r) => (r.app ? badge(r.app.stage) : el('span', { className: 'muted' }, '—')), sort: (r) => str(r.app?.stage) },
  { label: 'Flow', cell: flowCell, className: 'flow-cell' },
  { label: 'Current step', cell: (r) => el('span', { className: 'detail-text' }, r.flow.current || '—'), className: 'current-step' },
  {
    label: 'Status',
    cell: (r, ctx) => [badge(r.flow.overall, r.flow.overall === 'running' ? 'busy' : undefined), ' ', toggleButton(ctx, 'details')],
    sort: (r) => r.flow.overall, className: 'nowrap',
  },
  { label: 'Last update', cell: (r) => timeCell(r.updated, true), sort: (r) => r.updated, className: 'nowrap' },
], {
  empty: () => appsEmptyText(pager.error()),
  pageSize: 50,
  key: (r) => r.key,
  pinned: (r) => r.stuck,
  expand: details,
  rowClass: (r) => (r.stuck ? 'stuck' : r.flow.overall === 'failed' ? 'row-bad' : undefined),
  pager: { prev: () => pager.prev(), next: () => pager.next() },
});
$('flow-table').append(flowTable.root);

/** the page of rows drawn, and what the page's data was read at then */
let drawn = null;

/**
 * The apps a page at a time (…/apps?include=chart_repo), filtered by the server: each page brings the Chart
 * Repo apps and hydrator tasks of its apps, which is all a row's flow needs.
 */
const pager = appsPager({
  limit: flowTable.pageSize,
  query: () => ({
    app_name: $('f-app').value.trim(), user_id: $('f-user').value.trim(), source_id: $('f-source').value.trim(),
    stuck: $('f-status').value, include: 'chart_repo',
  }),
  onPage: (page, view) => {
    drawn = null;
    const cr = obj(page.chart_repo);
    const appStates = {};
    for (const a of list(page.items)) if (a && typeof a === 'object') setOwn(appStates, keyOf(a.user_id, a.source_id, a.app_name), a);
    const rows = buildRows({ app_states: appStates, chart_repo: { apps: list(cr.apps), tasks: { hydrator: { tasks: list(cr.hydrator_tasks) } } } });
    flowTable.setPage(rows, view);
    drawn = { rows, view, at: shownKey };
  },
  // the page is unchanged but the data moved on: drawn again, open timelines are read for what is shown now
  onUnchanged: () => {
    if (!drawn || drawn.at === shownKey) return;
    drawn.at = shownKey;
    flowTable.setPage(drawn.rows, drawn.view);
  },
  onError: (msg, { drawn: same }) => {
    $('status').textContent = `apps unavailable: ${msg.slice(0, 200)}`;
    // the rows drawn are of other filters or another page: they must not stay under these
    if (!same) { drawn = null; flowTable.setPage([], NO_PAGE); }
  },
});

function renderTable(resetPage = false, force = false) {
  return resetPage ? pager.reset() : pager.refresh(force);
}

/** Counts of the whole market from the overview: its apps, the Chart Repo's apps per state, stuck apps. */
function renderSummary(d) {
  const byState = obj(obj(d.chart_repo_counts).apps);
  const summary = obj(d.summary);
  const counts = {
    total: num(summary.total_apps), running: num(byState.processing), pending: num(byState.pending),
    failed: num(byState.failed), completed: num(byState.completed), stuck: num(summary.stuck_apps),
  };
  // the hydration cards count the Chart Repo's apps (an app it renders may not be installed yet): say so
  const labels = [['total', 'Apps'], ['running', 'Chart Repo hydrating'], ['pending', 'Chart Repo pending'], ['failed', 'Chart Repo failed'], ['completed', 'Chart Repo hydrated'], ['stuck', 'Stuck']];
  renderCards(labels.map(([key, label]) => ({
    key, label, value: counts[key],
    tone: counts[key] <= 0 ? '' : key === 'failed' || key === 'stuck' ? 'bad' : key === 'running' ? 'busy' : '',
  })));
}

function onData(d, { isNew, key = '', reread = false }) {
  shownKey = key;
  renderHeader(d);
  // a read of the apps page that failed is made again (on a quiet market no new version would), and so are the
  // open timelines' when one failed (drawn again, open details read theirs)
  if (!isNew) {
    if (pager.failed()) return renderTable();
    if (timelineFailed && drawn) { timelineFailed = false; flowTable.setPage(drawn.rows, drawn.view); }
    return undefined;
  }
  // users and sources to suggest: the cache's (user, source) pairs (never the apps list)
  const byUser = obj(obj(obj(obj(d.components).cache).metrics).by_user);
  fillDatalist($('users-list'), Object.keys(byUser));
  fillDatalist($('sources-list'), Object.values(byUser).flatMap((x) => Object.keys(obj(x))));
  renderSummary(d);
  // from another store the page is read again unconditionally, so open timelines are read from that store
  return renderTable(false, reread);
}

for (const id of ['f-app', 'f-user', 'f-source']) $(id).addEventListener('input', debounce(() => renderTable(true), 250));
$('f-status').addEventListener('change', () => renderTable(true));

startLive(onData);
