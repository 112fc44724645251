// Text for display: times, ages, durations, sizes, numbers and short JSON; and an ICU-free string order.

import { isZeroTime, now, timeMs } from './clock.js';
import { str } from './values.js';

const pad = (n) => String(n).padStart(2, '0');

// in UTC, and says so: the sidecar's own texts (a stuck reason's "since 2026-12-06 10:02 UTC") and its logs are in UTC, and
// one line must not mix two zones; Go's zero time (a time the payload left out) is no time: '—'
export function fmtTime(iso) {
  const t = timeMs(iso);
  if (!Number.isFinite(t)) return iso && !isZeroTime(iso) ? str(iso) : '—';
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
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

/** How long ago `iso` was: "3m 2s ago" by default, "stuck 3m 2s" with prefix 'stuck ' and no suffix; '—' for no time. */
export function fmtAge(iso, prefix = '', suffix = ' ago') {
  const t = timeMs(iso);
  return Number.isFinite(t) ? `${prefix}${fmtDuration(now() - t)}${suffix}` : '—';
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

/** A reported progress: "12 %" for a number, else the text as the source gave it ("layer 3/5"), as the server writes it. */
export function fmtProgress(p) {
  const text = str(p);
  return text.trim() !== '' && Number.isFinite(Number(text)) ? `${text} %` : text;
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
