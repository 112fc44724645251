// Stuck apps and tasks (issue 8: additive fields, may be absent): the test, the age, the badge, and the last
// change the timeline shows (what the stuck reason names beside the server's verdict).

import { ageOf } from './ages.js';
import { now, timeMs } from './clock.js';
import { el } from './dom.js';
import { fmtAge, fmtTime } from './format.js';
import { list, obj, str } from './values.js';

export const isStuck = (x) => x?.stuck === true;

const DAY_MS = 86_400_000;

/**
 * When the app's reported progress stalled, read from its stuck reason ("installing, progress 12 % since 10:02
 * UTC", with the date when it is not today: src/store/stuck.ts clockTime), else NaN.
 */
export function stalledSinceMs(reason, nowMs = now()) {
  const m = / progress .* since (?:(\d{4}-\d\d-\d\d) )?(\d\d):(\d\d) UTC$/.exec(str(reason));
  if (!m) return NaN;
  const t = Date.parse(`${m[1] ?? new Date(nowMs).toISOString().slice(0, 10)}T${m[2]}:${m[3]}:00Z`);
  // no date means today's on the server: yesterday's when this page's clock has just passed midnight
  return m[1] === undefined && t > nowMs ? t - DAY_MS : t;
}

/**
 * Since when it has been stuck where it is (RFC 3339, '' when unknown): since its progress stalled when that
 * is the verdict, else stage_since when the sidecar sends it, else the fallbacks (last_update, a task's times).
 */
export function stuckSince(x, ...fallbacks) {
  const stalled = stalledSinceMs(x?.stuck_reason);
  for (const ms of [stalled, ...[x?.stage_since, ...fallbacks].map(timeMs)]) {
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  return '';
}

const STUCK_AGE = { prefix: 'stuck ', suffix: '' };

/** "stuck 14m 2s", ticking with the page's other ages; the server's reason as its title. */
export function stuckBadge(x, ...fallbacks) {
  if (!isStuck(x)) return null;
  const since = stuckSince(x, ...fallbacks);
  const reason = str(x.stuck_reason ?? x.reason ?? '');
  const props = { className: 'badge tone-warn stuck-badge', title: reason || undefined };
  return el('span', ageOf(since, props, STUCK_AGE), since ? fmtAge(since, STUCK_AGE.prefix, STUCK_AGE.suffix) : 'stuck');
}

const pct = (p) => (p === undefined || p === '' ? '—' : `${str(p)} %`);

/** What moved from entry `a` to entry `b` of a timeline, as text. */
function moved(a, b) {
  const out = [];
  if (a.stage !== b.stage) out.push(`${str(a.stage)} → ${str(b.stage)}`);
  if (a.health !== b.health) out.push(`health ${str(a.health) || '—'} → ${str(b.health) || '—'}`);
  if (a.progress !== b.progress) out.push(`progress ${pct(a.progress)} → ${pct(b.progress)}`);
  if (a.detail !== b.detail) out.push(`detail: ${str(b.detail) || '—'}`);
  return out.join(', ') || str(b.stage);
}

/**
 * The last change an app's timeline shows: when, how long ago (ticking), what moved from the entry before and
 * the evidence ("2026-12-02 10:02:11 (18m 3s ago): progress 10 % → 12 % (poll user_application_states)"), as
 * nodes for `el`; null when the timeline is empty.
 */
export function lastChange(entries) {
  const all = list(entries);
  if (all.length === 0) return null;
  const last = obj(all.at(-1));
  const what = all.length > 1 ? moved(obj(all.at(-2)), last) : `first seen ${str(last.stage)}${last.progress ? `, progress ${pct(last.progress)}` : ''}`;
  const at = str(last.at);
  return [`${fmtTime(at)} (`, el('span', ageOf(at), fmtAge(at)), `): ${what} (${str(last.evidence)})`];
}
