// /dashboard — the whole runtime view: header, source freshness, summary cards, Market panel, Chart Repo panel.
// Every upstream string goes through `el`/`fill` (text nodes only); see dom.js.
import { $, el, fill } from './dom.js';
import { getResult } from './api.js';
import { NO_PAGE, appsEmptyText, appsPager as appsPager0 } from './apps-pager.js';
import { contains, debounce, fillDatalist, fillSelect } from './filters.js';
import { ageOf } from './ages.js';
import { byTime } from './clock.js';
import { byStr, fmtAge, fmtBytes, fmtDuration, fmtNs, fmtNum, fmtTime, shortJson } from './format.js';
import { sourcesOf } from './freshness.js';
import { startLive } from './live-state.js';
import { renderCards, renderHeader } from './page-top.js';
import { isStuck, stuckBadge } from './stuck.js';
import { table, toggleButton } from './table.js';
import { tabs } from './tabs.js';
import { list, lookup, num, obj, str, values } from './values.js';
import { badge, kv, processingTime, progressBar, timeCell } from './widgets.js';

const SUMMARY = [
  ['total_apps', 'Apps'], ['healthy_apps', 'Healthy apps'], ['unhealthy_apps', 'Unhealthy apps'],
  ['total_tasks', 'Tasks'], ['pending_tasks', 'Pending tasks'], ['running_tasks', 'Running tasks'],
  ['completed_tasks', 'Completed tasks'], ['failed_tasks', 'Failed tasks'], ['active_components', 'Active components'],
];
const EXTRA_SUMMARY = [['stuck_apps', 'Stuck apps'], ['stuck_tasks', 'Stuck tasks']];

const lower = (id) => $(id).value.trim().toLowerCase();

let data = null;
/** what `data` was read at (live-state.js: the store's epoch and the content's ETag, never a version number) */
let dataKey = '';
/** per-version derived lists, rebuilt only when a new version arrives */
let derived = null;

// ---- header & summary --------------------------------------------------------------------------------

function renderSummary(d) {
  const s = obj(d.summary);
  const shown = [...SUMMARY, ...EXTRA_SUMMARY.filter(([k]) => typeof s[k] === 'number')];
  renderCards(shown.map(([key, label]) => ({ key, label, value: s[key], tone: toneOf(key, num(s[key])) })));
}

function toneOf(key, n) {
  if (n <= 0) return '';
  return key === 'failed_tasks' || key === 'unhealthy_apps' || key.startsWith('stuck') ? 'bad' : key === 'running_tasks' ? 'busy' : '';
}

// ---- Market: applications ----------------------------------------------------------------------------

const appsTable = table([
  {
    label: 'Application',
    cell: (a) => {
      const title = str(obj(obj(a.metadata).status).title);
      return [el('span', { className: 'name' }, str(a.app_name)), stuckBadge(a),
        title && title !== a.app_name ? el('div', { className: 'muted small' }, title) : null];
    },
    sort: (a) => str(a.app_name),
  },
  { label: 'User', cell: (a) => str(a.user_id), sort: (a) => str(a.user_id) },
  { label: 'Source', cell: (a) => str(a.source_id), sort: (a) => str(a.source_id) },
  { label: 'Stage', cell: (a) => badge(a.stage), sort: (a) => str(a.stage) },
  { label: 'Health', cell: (a) => badge(a.health ?? 'unknown'), sort: (a) => str(a.health) },
  { label: 'Version', cell: (a) => str(a.version) || '—', className: 'nowrap' },
  { label: 'Stage detail', cell: (a) => el('span', { className: 'detail-text' }, str(a.stage_detail)), className: 'wide' },
  { label: 'Last update', cell: (a) => timeCell(a.last_update), sort: (a) => str(a.last_update), className: 'nowrap' },
], {
  empty: () => appsEmptyText(appsPager.error()),
  pageSize: 50,
  pinned: isStuck,
  rowClass: (a) => (isStuck(a) ? 'stuck' : a.stage === 'failed' ? 'row-bad' : undefined),
  pager: { prev: () => appsPager.prev(), next: () => appsPager.next() },
});
$('apps-table').append(appsTable.root);

/** the apps a page at a time from the server (…/apps), filtered there: the whole list never comes to the page */
const appsPager = appsPager0({
  limit: appsTable.pageSize,
  query: () => ({ app_name: $('f-app').value.trim(), user_id: $('f-user').value.trim(), source_id: $('f-source').value.trim(),
    stage: $('f-stage').value, health: $('f-health').value, stuck: $('f-stuck').value }),
  onPage: (page, view) => {
    appsTable.setPage(list(page.items).filter((a) => a && typeof a === 'object'), view);
  },
  onError: (msg, { drawn }) => {
    $('status').textContent = `apps unavailable: ${msg.slice(0, 200)}`;
    // the rows drawn are of other filters or another page: they must not stay under these
    if (!drawn) appsTable.setPage([], NO_PAGE);
  },
});

function renderApps(resetPage = false, force = false) {
  return resetPage ? appsPager.reset() : appsPager.refresh(force);
}

// ---- Market: tasks -----------------------------------------------------------------------------------

const TASK_GROUPS = ['pending', 'running', 'completed', 'failed'];
const taskGroup = (t) => (TASK_GROUPS.includes(t.status) ? t.status : 'other');

const tasksTable = table([
  { label: 'Type', cell: (t) => badge(t.type, 'idle'), sort: (t) => str(t.type) },
  { label: 'App', cell: (t) => [el('span', { className: 'name' }, str(t.app_name)), stuckBadge(t)], sort: (t) => str(t.app_name) },
  { label: 'User', cell: (t) => str(t.user_id) || '—', sort: (t) => str(t.user_id) },
  { label: 'Status', cell: (t) => badge(t.status, t.status === 'running' ? 'busy' : undefined) },
  { label: 'Progress', cell: (t) => progressBar(typeof t.progress === 'number' ? t.progress : t.status === 'completed' ? 100 : undefined) },
  { label: 'Created', cell: (t) => timeCell(t.created_at), sort: (t) => str(t.created_at), className: 'nowrap' },
  { label: 'Started', cell: (t) => timeCell(t.started_at), sort: (t) => str(t.started_at), className: 'nowrap' },
  { label: 'Completed', cell: (t) => timeCell(t.completed_at), sort: (t) => str(t.completed_at), className: 'nowrap' },
  {
    label: 'Error / details',
    cell: (t, ctx) => [t.error_msg ? el('span', { className: 'badge tone-bad' }, 'error') : null, ' ', toggleButton(ctx, t.error_msg ? 'show error' : 'details')],
  },
], {
  empty: 'No tasks here.',
  key: (t) => str(t.task_id),
  pinned: isStuck,
  rowClass: (t) => (isStuck(t) ? 'stuck' : t.status === 'failed' ? 'row-bad' : undefined),
  expand: (t) => el('div', { className: 'task-detail' },
    t.error_msg ? el('pre', { className: 'error-text' }, str(t.error_msg)) : null,
    kv([
      ['Task id', str(t.task_id)], ['Operation id', str(t.op_id)], ['Result', str(t.result)],
      ['Stuck', isStuck(t) ? str(t.stuck_reason ?? 'yes') : ''],
      ['Metadata', t.metadata ? shortJson(t.metadata, 2000) : ''],
    ])),
});
$('tasks-table').append(tasksTable.root);

function renderTasks(resetPage = false) {
  const group = taskTabs.get();
  const q = lower('f-task');
  const type = $('f-task-type').value;
  const counts = { pending: 0, running: 0, completed: 0, failed: 0, other: 0 };
  const rows = [];
  for (const t of derived.tasks) {
    if (type !== '' && t.type !== type) continue;
    if (q !== '' && !contains(t.app_name, q) && !contains(t.user_id, q) && !contains(t.task_id, q)) continue;
    const g = taskGroup(t);
    counts[g]++;
    if (g === group) rows.push(t);
  }
  // waiting work oldest first; finished work newest first
  if (group === 'pending' || group === 'running') rows.sort((a, b) => byTime(a.created_at, b.created_at));
  else rows.sort((a, b) => byTime(b.completed_at ?? b.created_at, a.completed_at ?? a.created_at));
  for (const [g, n] of Object.entries(counts)) taskTabs.setCount(g, n);
  tasksTable.setRows(rows, { resetPage });
  marketTabs.setCount('tasks', derived.tasks.length);
}

// ---- Market: components ------------------------------------------------------------------------------

/** nested metrics an operator opened (`component\0key`): they stay open when a new version redraws the table */
const openMetrics = new Set();

function metricsCell(c) {
  const entries = Object.entries(obj(c.metrics));
  if (entries.length === 0) return el('span', { className: 'muted' }, '—');
  const scalars = entries.filter(([, v]) => v === null || typeof v !== 'object');
  const nested = entries.filter(([, v]) => v !== null && typeof v === 'object');
  return el('div', { className: 'metrics' },
    scalars.map(([k, v]) => el('span', { className: 'metric' }, el('span', { className: 'metric-key' }, k), ' ', str(v))),
    nested.map(([k, v]) => {
      const id = `${str(c.name)}\0${k}`;
      return el('details', {
        className: 'metric-nested', attrs: { open: openMetrics.has(id) }, data: { metric: id },
        on: { toggle: (e) => { if (e.currentTarget.open) openMetrics.add(id); else openMetrics.delete(id); } },
      }, el('summary', null, k), el('pre', null, shortJson(v, 4000)));
    }));
}

/**
 * A component's last check. A collector_<source> component's `last_check` is when its health last changed
 * (the snapshot holds content only): its last pass, from the sources' live freshness, is what an operator means.
 */
function lastCheckOf(c) {
  const source = /^collector_(.+)$/.exec(str(c.name))?.[1];
  const pass = source ? obj(sourcesOf(data)[source]).last_attempt : undefined;
  return typeof pass === 'string' ? pass : c.last_check;
}

const componentsTable = table([
  { label: 'Component', cell: (c) => el('span', { className: 'name' }, str(c.name)), sort: (c) => str(c.name) },
  { label: 'Health', cell: (c) => badge(c.healthy === true ? 'healthy' : 'unhealthy'), sort: (c) => (c.healthy ? 1 : 0) },
  { label: 'Status', cell: (c) => badge(c.status), sort: (c) => str(c.status) },
  { label: 'Message', cell: (c) => el('span', { className: 'detail-text' }, str(c.message)), className: 'wide' },
  { label: 'Metrics', cell: (c) => metricsCell(c), className: 'wide' },
  { label: 'Last check', cell: (c) => timeCell(lastCheckOf(c)), className: 'nowrap' },
], { empty: 'No components reported.', rowClass: (c) => (c.healthy === true ? undefined : 'row-bad') });

$('components-table').append(componentsTable.root);

function renderComponents() {
  // what is open on screen now is what stays open: a toggle event comes a task after the click, and a redraw in
  // between (freshness redraws this table at every pass) would otherwise draw it closed
  for (const d of $('components-table').querySelectorAll('details.metric-nested')) {
    if (d.open) openMetrics.add(d.dataset.metric); else openMetrics.delete(d.dataset.metric);
  }
  const rows = values(data.components).sort((a, b) => byStr(str(a.name), str(b.name)));
  componentsTable.setRows(rows);
  marketTabs.setCount('components', rows.length);
}

// ---- Market: cache & sync ----------------------------------------------------------------------------

const syncerTable = table([
  { label: 'Source', cell: (r) => el('span', { className: 'name' }, r.source), sort: (r) => r.source },
  { label: 'Type', cell: (r) => str(r.source_type) || '—' },
  { label: 'Active', cell: (r) => (r.is_active === undefined ? '—' : badge(r.is_active ? 'active' : 'inactive', r.is_active ? 'good' : 'idle')) },
  { label: 'Catalog apps', cell: (r) => fmtNum(r.catalog_apps), sort: (r) => num(r.catalog_apps) },
  { label: 'Catalog updated', cell: (r) => (r.newest_update ? timeCell(r.newest_update) : '—'), className: 'nowrap' },
  // the age ticks here from the catalog's time (ages.js): the sidecar sends times, never ages (ages would mint versions)
  { label: 'Catalog age', cell: (r) => (r.newest_update ? el('span', ageOf(r.newest_update, {}, { suffix: '' }), fmtAge(r.newest_update, '', '')) : '—') },
  { label: 'Sync', cell: (r) => (r.stale === undefined ? '—' : badge(r.stale ? 'stale' : 'ok')) },
  { label: 'Installed apps', cell: (r) => fmtNum(r.installed), sort: (r) => r.installed },
  { label: 'Users', cell: (r) => fmtNum(r.users), sort: (r) => r.users },
], { empty: 'No sources known.', rowClass: (r) => (r.stale ? 'row-bad' : undefined) });
$('syncer-table').append(syncerTable.root);

const cacheTable = table([
  { label: 'User', cell: (r) => r.user, sort: (r) => r.user },
  { label: 'Source', cell: (r) => r.source, sort: (r) => r.source },
  { label: 'User applications', cell: (r) => fmtNum(r.user_applications), sort: (r) => r.user_applications },
  { label: 'App states', cell: (r) => fmtNum(r.states), sort: (r) => r.states },
], { empty: 'No cache metrics (the components collector reports them).', pageSize: 50 });
$('cache-table').append(cacheTable.root);

function renderCache() {
  const comps = obj(data.components);
  const syncer = obj(comps.syncer);
  const syncerMetrics = obj(syncer.metrics);
  const perSource = new Map();
  const row = (source) => {
    if (!perSource.has(source)) perSource.set(source, { source, installed: 0, users: 0 });
    return perSource.get(source);
  };
  for (const [source, m] of Object.entries(obj(syncerMetrics.sources))) {
    const x = obj(m);
    Object.assign(row(source), {
      source_type: x.source_type, is_active: typeof x.is_active === 'boolean' ? x.is_active : undefined,
      catalog_apps: x.apps, newest_update: typeof x.newest_update === 'string' ? x.newest_update : undefined,
      stale: typeof x.stale === 'boolean' ? x.stale : undefined,
    });
  }
  const cache = obj(obj(comps.cache).metrics);
  // installed apps and users per source, over every (user, source) pair (by_user holds the largest pairs only)
  for (const [source, c] of Object.entries(obj(cache.by_source))) {
    const r = row(source);
    r.installed = num(obj(c).user_applications);
    r.users = num(obj(c).users);
  }
  syncerTable.setRows([...perSource.values()].sort((a, b) => byStr(a.source, b.source)));
  const note = [syncer.status ? `syncer ${str(syncer.status)}` : 'no syncer component reported',
    syncerMetrics.staleness_bound_s !== undefined ? `stale after ${fmtDuration(num(syncerMetrics.staleness_bound_s) * 1000)}` : null,
    syncer.message ? str(syncer.message) : null].filter(Boolean).join(' · ');
  $('syncer-note').textContent = note;

  const hyd = obj(obj(comps.hydrator).metrics);
  const crHyd = obj(obj(obj(data.chart_repo).tasks).hydrator);
  fill($('hydrator-kv'), kv([
    // (its status is Go's running; failing renders show as unhealthy)
    ['Status', comps.hydrator ? badge(comps.hydrator.healthy === false ? 'unhealthy' : comps.hydrator.status) : '—'],
    ['Render pending', fmtNum(hyd.pending)], ['Render success', fmtNum(hyd.success)], ['Render failed', fmtNum(hyd.failed)],
    ['Consecutive failures', fmtNum(hyd.consecutive_failures)],
    ['Chart Repo queue', fmtNum(crHyd.queue_length)], ['Chart Repo active', fmtNum(crHyd.active_tasks)],
    ['Chart Repo completed', fmtNum(crHyd.completed_tasks)], ['Chart Repo failed', fmtNum(crHyd.failed_tasks)],
    // Go leaves the merged worker_count at 0; the pairs' sum is our worker_count_total (left out when 0)
    ['Workers', fmtNum(crHyd.worker_count_total ?? crHyd.worker_count)],
  ]));
  fill($('cache-kv'), kv([
    ['Users', fmtNum(cache.users)], ['User applications', fmtNum(cache.user_applications)],
    ['App states', fmtNum(cache.app_states)], ['User/source pairs', fmtNum(cache.pairs)],
    ['Runtime view', `${fmtNum(num(obj(data.summary).total_apps))} apps · ${fmtNum(derived.tasks.length)} tasks`],
    ['Pairs list', cache.pairs_truncated ? 'largest pairs only' : 'complete'],
  ]));
  const pairs = [];
  for (const [user, bySource] of Object.entries(obj(cache.by_user))) {
    for (const [source, c] of Object.entries(obj(bySource))) {
      pairs.push({ user, source, user_applications: num(obj(c).user_applications), states: num(obj(c).states) });
    }
  }
  cacheTable.setRows(pairs.sort((a, b) => b.user_applications - a.user_applications || byStr(a.user, b.user)));
}

// ---- Chart Repo --------------------------------------------------------------------------------------

function stepLabel(step) {
  const s = obj(step);
  if (!s.name) return '—';
  const i = typeof s.index === 'number' ? s.index : null;
  const total = typeof s.total === 'number' ? s.total : null;
  // the Chart Repo counts its steps from 0: the first of 5 reads 1/5
  return `${str(s.name)}${i !== null && total !== null ? ` ${i + 1}/${total}` : ''}`;
}

/**
 * An empty Chart Repo table before a user or an app is typed asks for one: nothing was filtered out yet; when
 * the lists could not be read it says so (they are read again at the next pass), never "nothing matches".
 */
const chartEmpty = (userId, appId, none, what) => () => {
  if (!$(userId).value.trim() && !$(appId).value.trim()) return `Choose a user or an app above to list its ${what}.`;
  return chartLists.error ? `The ${what} could not be read (${chartLists.error}); trying again.` : none;
};

const crAppsTable = table([
  { label: 'Application', cell: (a) => el('span', { className: 'name' }, str(a.app_name)), sort: (a) => str(a.app_name) },
  { label: 'User', cell: (a) => str(a.user_id), sort: (a) => str(a.user_id) },
  { label: 'Source', cell: (a) => str(a.source_id), sort: (a) => str(a.source_id) },
  { label: 'State', cell: (a) => badge(a.state), sort: (a) => str(a.state) },
  { label: 'Current step', cell: (a) => [stepLabel(a.current_step), a.current_step?.status ? [' ', badge(a.current_step.status, a.current_step.status === 'running' ? 'busy' : undefined)] : null] },
  { label: 'Retries', cell: (a) => fmtNum(num(obj(a.current_step).retry_count)), sort: (a) => num(obj(a.current_step).retry_count) },
  { label: 'Processing', cell: (a) => processingTime(a) },
  {
    label: 'Error', className: 'wide',
    cell: (a) => (a.error?.message || a.error?.step
      ? el('span', { className: 'error-text' }, str(a.error.message), a.error.step ? el('span', { className: 'muted' }, ` (step ${str(a.error.step)})`) : null)
      : ''),
  },
  { label: 'Last update', cell: (a) => timeCell(obj(a.timestamps).last_updated_at ?? obj(a.current_step).updated_at), className: 'nowrap' },
], { empty: chartEmpty('f-cr-user', 'f-cr-app', 'No Chart Repo applications match.', 'Chart Repo apps'), rowClass: (a) => (a.state === 'failed' ? 'row-bad' : undefined) });
$('cr-apps-table').append(crAppsTable.root);

/**
 * The Chart Repo's apps and images of one user and/or app, from the filtered state (…/state?user_id=&app_name=
 * narrows chart_repo by both), read once per overview content (`dataKey`, never the version number: a restarted
 * store or another replica numbers versions apart): the whole lists grow with the market and never come here.
 */
let chartLists = { key: '', at: null, cr: null, error: null };
async function chartOf(user, app) {
  const q = new URLSearchParams();
  if (user) q.set('user_id', user);
  if (app) q.set('app_name', app);
  const key = q.toString();
  // (a failed read is kept only to say so: it is read again at the next render)
  if (chartLists.key !== key || chartLists.at !== dataKey || chartLists.error) {
    const at = dataKey;
    const r = await getResult(`state?${key}`);
    chartLists = r.ok ? { key, at, cr: obj(obj(r.data).chart_repo), error: null } : { key, at, cr: {}, error: r.error };
  }
  return chartLists.cr;
}

/** "3 failed · 12 processing" from the overview's counts; the count of all */
function countsText(counts) {
  const entries = Object.entries(obj(counts)).filter(([, n]) => typeof n === 'number').sort(([a], [b]) => byStr(a, b));
  return { all: entries.reduce((n, [, x]) => n + x, 0), text: entries.map(([k, n]) => `${fmtNum(n)} ${k}`).join(' · ') };
}

/** Lists the Chart Repo items of the user/app typed in `userId`/`appId`; without either, the counts and a hint. */
async function chartRows(userId, appId, listName, noteId, what) {
  const user = $(userId).value.trim();
  const app = $(appId).value.trim();
  const counts = countsText(obj(data.chart_repo_counts)[listName]);
  if (!user && !app) {
    $(noteId).textContent = `${fmtNum(counts.all)} in all${counts.text ? ` (${counts.text})` : ''}: choose a user or an app to list its ${what}.`;
    return [];
  }
  $(noteId).textContent = '';
  return list((await chartOf(user, app))[listName]).filter((x) => x && typeof x === 'object');
}

const CR_RANK = { failed: 0, processing: 1, pending: 2, completed: 3 };

/**
 * Each table's renders in the order they began (as apps-pager.js): an answer for a filter changed since (a slow
 * `state?user_id=al` after "alice" was typed again) is dropped, never shown over the newer one.
 */
let crAppsSeq = 0;
let imagesSeq = 0;

async function renderCrApps(resetPage = false) {
  const mine = ++crAppsSeq;
  const state = $('f-cr-state').value;
  const found = await chartRows('f-cr-user', 'f-cr-app', 'apps', 'cr-apps-note', 'Chart Repo apps');
  if (mine !== crAppsSeq) return;
  const rows = found
    .filter((a) => state === '' || a.state === state)
    .sort((a, b) => (lookup(CR_RANK, a.state) ?? 4) - (lookup(CR_RANK, b.state) ?? 4) || byStr(str(a.app_name), str(b.app_name)));
  crAppsTable.setRows(rows, { resetPage });
}

const ANALYZER_LISTS = { queued: 'queued_tasks', processing: 'processing_tasks', completed: 'recent_completed', failed: 'recent_failed' };
const analyzerTable = table([
  { label: 'Task', cell: (t) => el('span', { className: 'mono' }, str(t.task_id)) },
  { label: 'App', cell: (t) => el('span', { className: 'name' }, str(t.app_name)) },
  { label: 'Status', cell: (t) => badge(t.status, t.status === 'running' ? 'busy' : undefined) },
  { label: 'Images', cell: (t) => `${fmtNum(num(t.analyzed_count))}/${fmtNum(num(t.images_count))}` },
  { label: 'Worker', cell: (t) => (t.worker_id === undefined ? '—' : str(t.worker_id)) },
  { label: 'Created', cell: (t) => timeCell(t.created_at), className: 'nowrap' },
  { label: 'Started', cell: (t) => timeCell(t.started_at), className: 'nowrap' },
  { label: 'Completed', cell: (t) => timeCell(t.completed_at), className: 'nowrap' },
  { label: 'Duration', cell: (t) => fmtNs(t.duration) },
  {
    label: 'Error', className: 'wide',
    cell: (t) => (t.error ? el('span', { className: 'error-text' }, str(t.error), t.error_step ? el('span', { className: 'muted' }, ` (step ${str(t.error_step)})`) : null) : ''),
  },
], { empty: 'Nothing in this list.', pageSize: 50 });
$('analyzer-table').append(analyzerTable.root);

function renderAnalyzer() {
  const a = obj(obj(obj(data.chart_repo).tasks).image_analyzer);
  fill($('analyzer-kv'), el('div', { className: 'cards small-cards' },
    miniCard('Running', a.is_running === undefined ? '—' : badge(a.is_running ? 'running' : 'stopped')),
    miniCard('Health', a.health_status ? badge(a.health_status) : '—'),
    miniCard('Last check', a.last_check ? timeCell(a.last_check) : '—'),
    miniCard('Queue', fmtNum(num(a.queue_length))),
    miniCard('Active workers', fmtNum(num(a.active_workers))),
    miniCard('Analyzing', fmtNum(num(a.analyzing_count))),
    miniCard('Cached images', fmtNum(num(a.cached_images))),
    miniCard('Analyzed', `${fmtNum(num(a.total_analyzed))} (${fmtNum(num(a.successful_analyzed))} ok, ${fmtNum(num(a.failed_analyzed))} failed)`),
    miniCard('Average time', fmtNs(a.average_analysis_time)),
  ), a.error_message ? el('p', { className: 'error-text' }, str(a.error_message)) : null);
  for (const [tab, field] of Object.entries(ANALYZER_LISTS)) analyzerTabs.setCount(tab, list(a[field]).length);
  analyzerTable.setRows(list(a[ANALYZER_LISTS[analyzerTabs.get()]]).filter((x) => x && typeof x === 'object'));
}

function miniCard(label, value) {
  return el('div', { className: 'card mini' }, el('div', { className: 'card-value' }, value), el('div', { className: 'card-label' }, label));
}

const nodesTable = (img) => {
  const nodes = list(img.nodes).filter((n) => n && typeof n === 'object');
  if (nodes.length === 0) return el('p', { className: 'muted' }, 'No per-node data.');
  return el('table', { className: 'grid inner' },
    el('thead', null, el('tr', null, ['Node', 'Arch / OS', 'Downloaded', 'Layers', 'Progress'].map((h) => el('th', null, h)))),
    el('tbody', null, nodes.map((n) => el('tr', null,
      el('td', { data: { label: 'Node' } }, str(n.node_name)),
      el('td', { data: { label: 'Arch / OS' } }, [str(n.architecture), str(n.os)].filter(Boolean).join(' / ') || '—'),
      el('td', { data: { label: 'Downloaded' } }, `${fmtBytes(n.downloaded_size)} / ${fmtBytes(n.total_size ?? img.total_size)}`),
      el('td', { data: { label: 'Layers' } }, `${fmtNum(num(n.downloaded_layers))}/${fmtNum(num(n.layer_count ?? img.layer_count))}`),
      el('td', { data: { label: 'Progress' } }, progressBar(n.progress)),
    ))));
};

const imagesTable = table([
  { label: 'Image', cell: (i) => el('span', { className: 'mono break' }, str(i.image_name)), sort: (i) => str(i.image_name), className: 'wide' },
  { label: 'App', cell: (i) => str(i.app_name) || '—', sort: (i) => str(i.app_name) },
  // (each user's Chart Repo answer lists the images of its apps: one image can show once per user)
  { label: 'User', cell: (i) => str(i.user_id) || '—', sort: (i) => str(i.user_id) },
  { label: 'Status', cell: (i) => badge(i.status), sort: (i) => str(i.status) },
  { label: 'Arch', cell: (i) => str(i.architecture) || '—' },
  { label: 'Size', cell: (i) => `${fmtBytes(i.downloaded_size)} / ${fmtBytes(i.total_size)}`, sort: (i) => num(i.total_size), className: 'nowrap' },
  { label: 'Download', cell: (i) => progressBar(typeof i.download_progress === 'number' ? i.download_progress : i.status === 'fully_downloaded' ? 100 : 0), sort: (i) => num(i.download_progress) },
  { label: 'Layers', cell: (i) => `${fmtNum(num(i.downloaded_layers))}/${fmtNum(num(i.layer_count))}` },
  { label: 'Analysis', cell: (i) => [i.analysis_status ? badge(i.analysis_status) : '—', i.error_message ? el('div', { className: 'error-text' }, str(i.error_message)) : null] },
  { label: 'Nodes', cell: (i, ctx) => [fmtNum(list(i.nodes).length), ' ', list(i.nodes).length ? toggleButton(ctx, 'per node') : null] },
], {
  empty: chartEmpty('f-img-user', 'f-img', 'No images match.', 'images'), key: (i) => `${str(i.user_id)}:${str(i.source_id)}:${str(i.image_name)}`, expand: nodesTable,
  rowClass: (i) => (i.status === 'registry_error' ? 'row-bad' : undefined),
});
$('images-table').append(imagesTable.root);

async function renderImages(resetPage = false) {
  const mine = ++imagesSeq;
  const status = $('f-img-status').value;
  const found = await chartRows('f-img-user', 'f-img', 'images', 'images-note', 'images');
  if (mine !== imagesSeq) return;
  const rows = found
    .filter((i) => status === '' || i.status === status)
    .sort((a, b) => byStr(str(a.image_name), str(b.image_name)));
  imagesTable.setRows(rows, { resetPage });
}

const hydratorColumns = [
  { label: 'Task', cell: (t) => el('span', { className: 'mono' }, str(t.task_id)) },
  { label: 'App', cell: (t) => el('span', { className: 'name' }, str(t.app_name)), sort: (t) => str(t.app_name) },
  { label: 'User', cell: (t) => str(t.user_id) || '—', sort: (t) => str(t.user_id) },
  { label: 'Source', cell: (t) => str(t.source_id) || '—' },
  { label: 'Status', cell: (t) => badge(t.status), sort: (t) => str(t.status) },
  { label: 'Step', cell: (t) => `${str(t.step_name) || '—'}${typeof t.total_steps === 'number' ? ` (of ${t.total_steps})` : ''}` },
  { label: 'Retries', cell: (t) => fmtNum(num(t.retry_count)), sort: (t) => num(t.retry_count) },
  { label: 'Last error', cell: (t) => el('span', { className: 'error-text' }, str(t.last_error)), className: 'wide' },
  { label: 'Updated', cell: (t) => timeCell(t.updated_at ?? t.created_at), sort: (t) => str(t.updated_at), className: 'nowrap' },
];
const hydratorTable = table(hydratorColumns, { empty: 'No hydrator tasks.', pageSize: 50 });
const hydratorFailedTable = table(hydratorColumns, { empty: 'No recent failures.', pageSize: 50, rowClass: () => 'row-bad' });
$('hydrator-table').append(hydratorTable.root);
$('hydrator-failed-table').append(hydratorFailedTable.root);

function renderCrTasks() {
  const h = obj(obj(obj(data.chart_repo).tasks).hydrator);
  fill($('hydrator-counters'), el('div', { className: 'cards small-cards' },
    miniCard('Queue', fmtNum(num(h.queue_length))), miniCard('Active', fmtNum(num(h.active_tasks))),
    miniCard('Completed', fmtNum(num(h.completed_tasks))), miniCard('Failed', fmtNum(num(h.failed_tasks))),
    miniCard('Workers', fmtNum(num(h.worker_count_total ?? h.worker_count)))));
  const tasks = list(h.tasks).filter((t) => t && typeof t === 'object');
  fillSelect($('f-hyd-status'), tasks.map((t) => str(t.status)), 'all statuses');
  const status = $('f-hyd-status').value;
  hydratorTable.setRows(tasks.filter((t) => status === '' || str(t.status) === status)
    .sort((a, b) => byStr(str(a.status), str(b.status)) || byTime(a.created_at, b.created_at)));
  hydratorFailedTable.setRows(list(h.recent_failed).filter((t) => t && typeof t === 'object')
    .sort((a, b) => byTime(b.updated_at, a.updated_at)));
  crTabs.setCount('tasks', tasks.length);
}

const USAGE = 'chart_repo_resource_usage_';

function renderCrSystem() {
  const cr = data.chart_repo;
  if (!cr) { $('cr-system').textContent = '· no data from the Chart Repo yet'; return; }
  const sys = obj(cr.system);
  // the uptime and memory are measurements, not content: counters in the live freshness, not the snapshot
  const counters = obj(obj(sourcesOf(data).chart_repo).counters);
  const uptime = counters.chart_repo_uptime;
  const usage = Object.entries(counters).filter(([k, v]) => k.startsWith(USAGE) && typeof v === 'number')
    .map(([k, v]) => `${k.slice(USAGE.length)} ${fmtNum(v)}`);
  const parts = [sys.version ? `version ${str(sys.version)}` : null, sys.hostname ? `host ${str(sys.hostname)}` : null,
    typeof uptime === 'number' ? `up ${fmtDuration(uptime * 1000)}` : null, ...usage,
    cr.last_update ? `updated ${fmtTime(cr.last_update)}` : null];
  $('cr-system').textContent = parts.filter(Boolean).map((p) => `· ${p}`).join(' ');
}

// ---- wiring ------------------------------------------------------------------------------------------

const marketRender = { apps: () => renderApps(), tasks: () => renderTasks(), components: renderComponents, cache: renderCache };
const crRender = { apps: () => renderCrApps(), analyzer: renderAnalyzer, images: () => renderImages(), tasks: renderCrTasks };
const whenData = (fn) => () => { if (data) fn(); };

const marketTabs = tabs($('market-tabs'), {
  apps: $('market-apps'), tasks: $('market-tasks'), components: $('market-components'), cache: $('market-cache'),
}, (name) => whenData(marketRender[name])());
const taskTabs = tabs($('task-tabs'), {}, whenData(() => renderTasks(true)));
const crTabs = tabs($('cr-tabs'), {
  apps: $('cr-apps'), analyzer: $('cr-analyzer'), images: $('cr-images'), tasks: $('cr-tasks'),
}, (name) => whenData(crRender[name])());
const analyzerTabs = tabs($('analyzer-tabs'), {}, whenData(renderAnalyzer));

for (const id of ['f-app', 'f-user', 'f-source']) $(id).addEventListener('input', debounce(whenData(() => renderApps(true)), 250));
for (const id of ['f-stage', 'f-health', 'f-stuck']) $(id).addEventListener('change', whenData(() => renderApps(true)));
$('f-task').addEventListener('input', debounce(whenData(() => renderTasks(true)), 150));
$('f-task-type').addEventListener('change', whenData(() => renderTasks(true)));
$('f-cr-state').addEventListener('change', whenData(() => renderCrApps(true)));
for (const id of ['f-cr-user', 'f-cr-app']) $(id).addEventListener('input', debounce(whenData(() => renderCrApps(true)), 250));
$('f-img-status').addEventListener('change', whenData(() => renderImages(true)));
for (const id of ['f-img-user', 'f-img']) $(id).addEventListener('input', debounce(whenData(() => renderImages(true)), 250));
$('f-hyd-status').addEventListener('change', whenData(renderCrTasks));

/**
 * Called by startLive with the overview (…/overview: everything but the apps lists) of every new version, and
 * with isNew=false when only freshness moves. The visible apps page is re-read (conditionally) with each
 * version; the promise settles when it is drawn.
 */
function onData(d, { isNew, key = '', reread = false }) {
  data = d;
  dataKey = key;
  renderHeader(d);
  if (!isNew) {
    // the collectors' last passes (freshness) show in the components table
    if (marketTabs.get() === 'components') renderComponents();
    // reads that failed are made again (on a quiet market no new version would): the apps page, Chart Repo lists
    const again = [];
    if (marketTabs.get() === 'apps' && appsPager.failed()) again.push(renderApps());
    if (chartLists.error && (crTabs.get() === 'apps' || crTabs.get() === 'images')) again.push(crRender[crTabs.get()]());
    return again.length ? Promise.all(again) : undefined;
  }
  derived = { tasks: values(d.tasks) };
  // users and sources to suggest: the users of the largest (user, source) pairs (a bounded list), every source the
  // cache and the syncer know (never the apps list)
  const cacheMetrics = obj(obj(obj(d.components).cache).metrics);
  fillDatalist($('users-list'), Object.keys(obj(cacheMetrics.by_user)));
  fillDatalist($('sources-list'), [...Object.keys(obj(obj(obj(obj(d.components).syncer).metrics).sources)),
    ...Object.keys(obj(cacheMetrics.by_source))]);
  renderSummary(d);
  renderCrSystem();
  // (from another store, the apps page is read again unconditionally: its tag may name what that store holds too)
  const shown = [marketTabs.get() === 'apps' ? renderApps(false, reread) : marketRender[marketTabs.get()](), crRender[crTabs.get()]()];
  // a tab's count is the whole market's, filters or not (a table's pager says how many its filters keep)
  marketTabs.setCount('apps', num(obj(d.summary).total_apps));
  marketTabs.setCount('tasks', derived.tasks.length);
  crTabs.setCount('apps', countsText(obj(d.chart_repo_counts).apps).all);
  crTabs.setCount('images', countsText(obj(d.chart_repo_counts).images).all);
  marketTabs.setCount('components', values(d.components).length);
  crTabs.setCount('tasks', list(obj(obj(obj(d.chart_repo).tasks).hydrator).tasks).length);
  document.body.classList.toggle('has-stuck', num(obj(d.summary).stuck_apps) > 0);
  return Promise.all(shown);
}

startLive(onData);
