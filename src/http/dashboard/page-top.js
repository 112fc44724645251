// The top of both pages: the snapshot's time and version, the sources strip and warning, the summary cards.

import { evenCards } from './card-grid.js';
import { $, el, fill } from './dom.js';
import { fmtNum, fmtTime } from './format.js';
import { renderSources } from './sources-banner.js';
import { authHeaders, storedToken } from './token.js';
import { num, str } from './values.js';

/** The header's snapshot time and version, and the sources strip with its warning. */
export function renderHeader(d) {
  $('snapshot-time').textContent = fmtTime(d.timestamp);
  $('snapshot-time').title = str(d.timestamp);
  $('snapshot-version').textContent = d.version !== undefined ? `v${str(d.version)}` : '';
  renderSources($('sources'), $('warning'), d);
}

/** The summary cards: each `{key, label, value, tone}` (tone: 'bad', 'busy' or none), in order, in even rows. */
export function renderCards(cards) {
  const grid = $('summary');
  const count = grid.children.length;
  fill(grid, cards.map(({ key, label, value, tone }) => el('div', { className: `card ${tone ? 'card-' + tone : ''}`, data: { key } },
    el('div', { className: 'card-value' }, fmtNum(num(value))), el('div', { className: 'card-label' }, label))));
  if (count !== cards.length || !grid.dataset.evenCards) evenCards(grid);
}

/**
 * The header's JSON link. With an API token a plain link would open a 401 (it cannot send the header): the
 * page fetches the JSON with the token and opens it in a new tab.
 */
function wireJsonLink() {
  const link = document.querySelector('nav a[href="state"]');
  link?.addEventListener('click', (ev) => {
    if (!storedToken()) return;
    ev.preventDefault();
    // opened within the click, so no popup blocker refuses it; filled when the JSON is here
    const tab = window.open('', '_blank');
    void fetch(link.href, { cache: 'no-store', headers: { Accept: 'application/json', ...authHeaders() } })
      .then((res) => res.blob())
      .then((body) => {
        const url = URL.createObjectURL(new Blob([body], { type: 'application/json' }));
        if (tab) tab.location.href = url;
        else window.location.href = url;
        // the tab has loaded it within a minute: this page would otherwise keep each click's copy (19 MB at 10,000 apps)
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      })
      .catch(() => tab?.close());
  });
}
wireJsonLink();
