// Small display widgets: status badge, progress bar, key/value list and time cell.

import { now } from './clock.js';
import { el } from './dom.js';
import { fmtAge, fmtTime } from './format.js';
import { str } from './values.js';

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

/** A time cell: local time, with the age as tooltip; compact = only the clock when the day is today. */
export function timeCell(iso, compact = false) {
  let text = fmtTime(iso);
  if (compact && text.length === 19 && text.slice(0, 10) === fmtTime(new Date(now()).toISOString()).slice(0, 10)) text = text.slice(11);
  return el('span', { className: 'time', title: iso ? `${str(iso)} (${fmtAge(iso)})` : undefined }, text);
}
