// Small display widgets: status badge, progress bar, key/value list and time cell.

import { ageOf } from './ages.js';
import { isZeroTime, now, timeMs } from './clock.js';
import { el } from './dom.js';
import { fmtAge, fmtNs, fmtTime } from './format.js';
import { obj, str } from './values.js';

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

/** Chart Repo app states that end processing (the server's FINISHED_APP_STATES): any other state still runs. */
const FINISHED_APP_STATES = new Set(['completed', 'failed']);

/**
 * A Chart Repo app's processing time. The body holds `processing.duration` as of the app's last content change
 * (its `last_update`: a duration that only grows mints no version), so while the app has not finished the cell
 * ticks on from when processing began (last_update − duration), on the page's clock; a finished one's is final.
 */
export function processingTime(app) {
  const processing = obj(app.processing);
  if (!('duration' in processing)) return '—';
  const ns = typeof processing.duration === 'number' && Number.isFinite(processing.duration) ? processing.duration : 0;
  const began = timeMs(app.last_update) - ns / 1e6;
  if (FINISHED_APP_STATES.has(app.state) || !Number.isFinite(began)) return fmtNs(ns);
  const since = new Date(began).toISOString();
  return el('span', ageOf(since, {}, { suffix: '' }), fmtAge(since, '', ''));
}

/** A time cell: local time, with the age as tooltip; compact = only the clock when the day is today. */
const FORMATTED = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/;

export function timeCell(iso, compact = false) {
  let text = fmtTime(iso);
  // today's times without the date ("09:27:03 UTC"): fmtTime's "YYYY-MM-DD hh:mm:ss UTC", not a raw text it passed through
  if (compact && FORMATTED.test(text) && text.slice(0, 10) === fmtTime(new Date(now()).toISOString()).slice(0, 10)) text = text.slice(11);
  return el('span', { className: 'time', title: iso && !isZeroTime(iso) ? `${str(iso)} (${fmtAge(iso)})` : undefined }, text);
}
