// The paginated, sortable table with expandable detail rows, and its show/hide button.

import { el } from './dom.js';
import { fmtNum } from './format.js';

/**
 * A paginated table: only one page of rows is in the DOM, so 10,000 rows render as fast as 100.
 * columns: [{ label, cell(row) -> Node|string, className?, sort?(row) -> string|number }]
 * opts: { pageSize, empty (a text, or a function giving it when drawn), rowClass(row), pinned(row) -> bool (kept first), expand(row) -> Node|null, key(row),
 *   pager: { prev(), next() } — the server pages: setPage draws its rows and its place, and sorting is off (a
 *   page's order is the listing's) }
 * Returns { root, setRows(rows), setPage(rows, view), count() }. Page, sort and expanded rows survive setRows
 * (auto-refresh).
 */
export function table(columns, opts = {}) {
  // narrow screens stack each row into a card: fewer per page keeps the page short
  const narrow = window.matchMedia?.('(max-width: 760px)').matches;
  const pageSize = Math.min(opts.pageSize ?? 100, narrow ? 25 : Infinity);
  let rows = [];
  let page = 0;
  let sortCol = -1;
  let sortDir = 1;
  const expanded = new Set();
  const thead = el('thead');
  const headRow = el('tr');
  columns.forEach((col, i) => {
    const th = el('th', { className: col.className, attrs: { scope: 'col' } });
    if (col.sort && !opts.pager) {
      const btn = el('button', { className: 'sort', type: 'button', title: 'sort' }, col.label);
      btn.addEventListener('click', () => {
        if (sortCol === i) sortDir = -sortDir; else { sortCol = i; sortDir = 1; }
        for (const b of headRow.querySelectorAll('button.sort')) b.removeAttribute('data-dir');
        btn.dataset.dir = sortDir > 0 ? 'asc' : 'desc';
        page = 0;
        applySort();
        draw();
      });
      th.append(btn);
    } else {
      th.append(col.label);
    }
    headRow.append(th);
  });
  thead.append(headRow);
  const tbody = el('tbody');
  const tableEl = el('table', { className: 'grid' }, thead, tbody);
  const info = el('span', { className: 'pager-info' });
  const prev = el('button', { type: 'button', className: 'pager-prev' }, '‹ Prev');
  const next = el('button', { type: 'button', className: 'pager-next' }, 'Next ›');
  const pager = el('div', { className: 'pager' }, prev, info, next);
  /** a page turned from the pager under a long table: its first rows are where the reader looks next */
  const toTop = () => { if (tableEl.getBoundingClientRect().top < 0) tableEl.scrollIntoView({ block: 'start' }); };
  if (opts.pager) {
    prev.addEventListener('click', () => { opts.pager.prev(); toTop(); });
    next.addEventListener('click', () => { opts.pager.next(); toTop(); });
  } else {
    prev.addEventListener('click', () => { if (page > 0) { page--; draw(); toTop(); } });
    next.addEventListener('click', () => { if ((page + 1) * pageSize < rows.length) { page++; draw(); toTop(); } });
  }
  /** the server's page: where it sits in the listing (setPage) */
  let served = null;
  const root = el('div', { className: 'table-wrap' }, el('div', { className: 'scroll-x' }, tableEl), pager);

  function applySort() {
    const pinned = opts.pinned;
    const col = columns[sortCol];
    if (!col?.sort && !pinned) return;
    const keyed = rows.map((r, i) => ({ r, i, p: pinned?.(r) ? 0 : 1, k: col?.sort ? col.sort(r) : 0 }));
    keyed.sort((a, b) => a.p - b.p || (a.k < b.k ? -sortDir : a.k > b.k ? sortDir : 0) || a.i - b.i);
    rows = keyed.map((x) => x.r);
  }

  function draw() {
    const pages = Math.max(1, Math.ceil(rows.length / pageSize));
    if (page >= pages) page = pages - 1;
    const start = page * pageSize;
    const slice = rows.slice(start, start + pageSize);
    const frag = document.createDocumentFragment();
    if (slice.length === 0) {
      frag.append(el('tr', { className: 'empty' }, el('td', { attrs: { colspan: columns.length } }, (typeof opts.empty === 'function' ? opts.empty() : opts.empty) ?? 'Nothing to show.')));
    }
    for (const row of slice) {
      const key = opts.key ? opts.key(row) : null;
      const tr = el('tr', { className: opts.rowClass?.(row) });
      for (const col of columns) {
        let content;
        try { content = col.cell(row, { expanded: key !== null && expanded.has(key), toggle: () => toggle(key) }); } catch { content = '?'; }
        tr.append(el('td', { className: col.className, data: { label: col.label } }, content));
      }
      frag.append(tr);
      if (key !== null && expanded.has(key) && opts.expand) {
        const detail = opts.expand(row);
        if (detail) frag.append(el('tr', { className: 'detail' }, el('td', { attrs: { colspan: columns.length } }, detail)));
      }
    }
    tbody.replaceChildren(frag);
    if (served) {
      info.textContent = served.total === 0 ? '0 rows'
        : `${fmtNum(served.from)}–${fmtNum(served.to)} of ${fmtNum(served.total)} · page ${served.pageNo}/${fmtNum(Math.max(1, Math.ceil(served.total / pageSize)))}`;
      prev.disabled = !served.hasPrev;
      next.disabled = !served.hasNext;
      return;
    }
    info.textContent = rows.length === 0 ? '0 rows'
      : `${fmtNum(start + 1)}–${fmtNum(start + slice.length)} of ${fmtNum(rows.length)}${pages > 1 ? ` · page ${page + 1}/${pages}` : ''}`;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  function toggle(key) {
    if (key === null) return;
    if (expanded.has(key)) expanded.delete(key); else expanded.add(key);
    draw();
  }

  return {
    root,
    setRows(next, { resetPage = false } = {}) {
      rows = next.slice();
      if (resetPage) page = 0;
      applySort();
      draw();
    },
    /** one page the server cut: its rows (stuck ones first) and `view` {from, to, total, pageNo, hasPrev, hasNext} */
    setPage(next, view) {
      rows = next.slice();
      served = view;
      page = 0;
      applySort();
      draw();
    },
    count: () => rows.length,
    /** rows per page (fewer on narrow screens): the size of the server's pages too */
    pageSize,
  };
}

/** A "show"/"hide" button for expandable detail rows. */
export function toggleButton(ctx, label = 'show') {
  const b = el('button', { type: 'button', className: 'link', attrs: { 'aria-expanded': String(ctx.expanded) } }, ctx.expanded ? 'hide' : label);
  b.addEventListener('click', ctx.toggle);
  return b;
}
