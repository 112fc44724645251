// The sources' freshness strip and the warning banner shown when a source fails, goes stale or answers partly.

import { ageOf } from './ages.js';
import { now, timeMs } from './clock.js';
import { el, fill } from './dom.js';
import { byStr, fmtAge, fmtTime } from './format.js';
import { replacedThreads, sourcesOf } from './freshness.js';
import { lookup, num, obj, str } from './values.js';

const SOURCE_LABELS = { tasks: 'Tasks', app_flow: 'App flow', components: 'Components', chart_repo: 'Chart Repo', nats: 'NATS events' };

/** The collectors' poll period, from the page's meta tag (the sidecar writes it at startup). */
export function collectIntervalMs() {
  const v = Number(document.querySelector('meta[name="runtime-collect-interval-ms"]')?.getAttribute('content'));
  return Number.isFinite(v) && v > 0 ? v : 5000;
}

/**
 * 'ok' | 'failing' | 'stale' | 'waiting' for one source status. Stale: no success for 3 of the source's own
 * intervals (`counters.interval_ms`: a slow source is polled less often, up to COLLECT_MAX_INTERVAL_MS), else of
 * the configured one.
 */
export function sourceState(s, intervalMs) {
  if (!s || typeof s !== 'object') return 'waiting';
  if (s.ok === false) return 'failing';
  const last = timeMs(s.last_success);
  if (!Number.isFinite(last)) return s.last_attempt ? 'failing' : 'waiting';
  const own = num(obj(s.counters).interval_ms);
  if (now() - last > 3 * Math.max(intervalMs, own)) return 'stale';
  return 'ok';
}

/**
 * The sidecar's own threads that were replaced since it started (a crash, out of memory, hung, a run past its
 * deadline): how often, when last and why, so a restart is not invisible. Nothing when none was.
 */
function threadRestarts() {
  const replaced = replacedThreads().sort(([a], [b]) => byStr(a, b));
  if (replaced.length === 0) return null;
  return el('span', { className: 'thread-restarts' }, el('span', { className: 'strip-label' }, 'Thread restarts:'),
    replaced.map(([name, t]) => el('span', { className: 'thread-restart', data: { thread: name } },
      `${name} ×${num(t.restarts)}`, t.last_restart_at ? ` (last ${fmtTime(t.last_restart_at)}${t.last_restart_reason ? `: ${str(t.last_restart_reason)}` : ''})` : '')));
}

/**
 * A source's detail for the banner: its ages as elements the age ticker rewrites every second (ages.js), so
 * they move on the page's clock between renders, from the freshness times.
 */
function bannerDetail(s) {
  const parts = [
    s?.last_success ? ['last success ', el('span', ageOf(s.last_success, { className: 'banner-age' }), fmtAge(s.last_success))] : 'no success yet',
    num(s?.consecutive_failures) > 0 ? `${s.consecutive_failures} failures in a row` : null,
    typeof s?.duration_ms === 'number' ? `pass ${Math.round(s.duration_ms)} ms` : null,
  ].filter(Boolean);
  return parts.flatMap((p, i) => (i === 0 ? [p] : [' · ', p]));
}

/** The freshness strip and the warning banner (both pages). */
export function renderSources(strip, banner, data) {
  const interval = collectIntervalMs();
  const sources = sourcesOf(data);
  const problems = [];
  const chips = [];
  for (const [name, s] of Object.entries(sources).sort(([a], [b]) => byStr(a, b))) {
    const state = sourceState(s, interval);
    const label = lookup(SOURCE_LABELS, name) ?? name;
    const detail = [
      s?.last_success ? `last success ${fmtAge(s.last_success)}` : 'no success yet',
      num(s?.consecutive_failures) > 0 ? `${s.consecutive_failures} failures in a row` : null,
      typeof s?.duration_ms === 'number' ? `pass ${Math.round(s.duration_ms)} ms` : null,
    ].filter(Boolean).join(' · ');
    chips.push(el('span', { className: `source source-${state}`, data: { source: name, state }, title: detail },
      el('span', { className: 'dot' }), label, ' ', el('span', ageOf(s?.last_success, { className: 'source-age' }), s?.last_success ? fmtAge(s.last_success) : state)));
    if (state === 'ok' && typeof s?.warning === 'string' && s.warning !== '') {
      // a pass that got some data but not all (e.g. some Chart Repo pairs failed): partial, not failing
      chips[chips.length - 1].classList.add('source-partial');
      problems.push(el('li', { data: { source: name } }, el('strong', null, label), ' answered partly: ', el('span', { className: 'error-text' }, s.warning)));
    }
    if (state === 'failing' || state === 'stale') {
      problems.push(el('li', { data: { source: name } },
        el('strong', null, label), state === 'failing' ? ' is failing' : ' is stale',
        ' (', bannerDetail(s), ')', s?.last_error ? [': ', el('span', { className: 'error-text' }, str(s.last_error))] : null));
    }
  }
  // the snapshot's own time moves only with content (a quiet market keeps it); the collectors' last reports
  // tell whether they still run
  const lastReport = Math.max(...Object.values(sources).map((s) => timeMs(s?.last_attempt)).filter(Number.isFinite));
  const reportAge = now() - lastReport;
  if (Number.isFinite(reportAge) && reportAge > 3 * interval + 5000) {
    const at = new Date(lastReport).toISOString();
    problems.push(el('li', { data: { source: 'snapshot' } }, el('strong', null, 'Collectors'), ' last reported ',
      el('span', ageOf(at, { className: 'banner-age' }), fmtAge(at)), ': they may have stopped'));
  }
  if (chips.length === 0) chips.push(el('span', { className: 'muted' }, 'no sources reported yet'));
  fill(strip, el('span', { className: 'strip-label' }, 'Sources:'), chips, threadRestarts());
  if (problems.length) {
    fill(banner, el('strong', null, '⚠ Some sources need attention: the view may be incomplete or out of date'), el('ul', null, problems));
    banner.hidden = false;
  } else {
    banner.hidden = true;
    banner.replaceChildren();
  }
}
