// Stuck apps and tasks (additive fields, may be absent: docs/api.md, Stuck apps and tasks): the test, the age, the badge, and the last
// change the timeline shows (what the stuck reason names beside the server's verdict).

import { ageOf } from './ages.js';
import { timeMs } from './clock.js';
import { el } from './dom.js';
import { fmtAge, fmtProgress, fmtTime } from './format.js';
import { list, obj, str } from './values.js';

export const isStuck = (x) => x?.stuck === true;

const STUCK_AGE = { prefix: 'stuck ', suffix: '' };

/**
 * "stuck 14m 2s", counted from the server's stuck_since (since the progress stalled when that is the verdict,
 * else since the stage or task began) and ticking with the page's other ages; the server's reason as its title.
 */
export function stuckBadge(x) {
  if (!isStuck(x)) return null;
  const since = Number.isFinite(timeMs(x.stuck_since)) ? str(x.stuck_since) : '';
  const reason = str(x.stuck_reason ?? x.reason ?? '');
  const props = { className: 'badge tone-warn stuck-badge', title: reason || undefined };
  return el('span', ageOf(since, props, STUCK_AGE), since ? fmtAge(since, STUCK_AGE.prefix, STUCK_AGE.suffix) : 'stuck');
}

const pct = (p) => (p === undefined || p === '' ? '—' : fmtProgress(p));

/** What moved from entry `a` to entry `b` of a timeline, as text. */
function moved(a, b) {
  const out = [];
  // an install canceled and begun again in the same stage: its stuck clocks start from here
  if (b.op) out.push(`new operation ${str(b.op)}`);
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
