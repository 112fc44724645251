// The "no data from the sidecar" warning: shown while the sidecar does not answer (the stream is down and the
// page's reads fail), saying since when the page has had no data; gone as soon as the sidecar answers again.

import { ageOf } from './ages.js';
import { now } from './clock.js';
import { $, el, fill } from './dom.js';
import { fmtAge, fmtTime } from './format.js';

/** when the sidecar last answered (the server's clock as the page knows it); at first, when the page opened */
let lastContact = new Date(now()).toISOString();
let down = false;

/** The sidecar answered (a stream event, an answer to a read): the warning goes. */
export function noteContact() {
  lastContact = new Date(now()).toISOString();
  if (!down) return;
  down = false;
  const banner = $('offline');
  banner.hidden = true;
  banner.replaceChildren();
}

/** The sidecar does not answer (`reason`: what failed, as text): the warning says since when there is no data. */
export function noteNoContact(reason) {
  const banner = $('offline');
  down = true;
  fill(banner,
    el('strong', null, '⚠ No data from the sidecar since ', el('span', { className: 'offline-since' }, fmtTime(lastContact)),
      ' (', el('span', ageOf(lastContact, { className: 'offline-age' }), fmtAge(lastContact)), ')'),
    el('div', null, 'The page shows what it last received, which may be out of date; it keeps trying',
      reason ? [' (', el('span', { className: 'error-text' }, String(reason).slice(0, 200)), ')'] : null, '.'));
  banner.hidden = false;
}
