// The top of both pages: the snapshot's time and version, the sources strip and warning, the summary cards.

import { $, el, fill } from './dom.js';
import { fmtNum, fmtTime } from './format.js';
import { renderSources } from './sources-banner.js';
import { num, str } from './values.js';

/** The header's snapshot time and version, and the sources strip with its warning. */
export function renderHeader(d) {
  $('snapshot-time').textContent = fmtTime(d.timestamp);
  $('snapshot-time').title = str(d.timestamp);
  $('snapshot-version').textContent = d.version !== undefined ? `v${str(d.version)}` : '';
  renderSources($('sources'), $('warning'), d);
}

/** The summary cards: each `{key, label, value, tone}` (tone: 'bad', 'busy' or none), in order. */
export function renderCards(cards) {
  fill($('summary'), cards.map(({ key, label, value, tone }) => el('div', { className: `card ${tone ? 'card-' + tone : ''}`, data: { key } },
    el('div', { className: 'card-value' }, fmtNum(num(value))), el('div', { className: 'card-label' }, label))));
}
