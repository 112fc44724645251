// Stuck apps and tasks (issue 8: additive fields, may be absent): the test, the age and the badge.

import { now, timeMs } from './clock.js';
import { el } from './dom.js';
import { fmtDuration } from './format.js';
import { str } from './values.js';

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
