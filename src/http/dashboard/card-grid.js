// The summary cards fill their rows evenly: as many columns as fit, then as few as keep every row as full as
// the others (9 cards where 7 fit: 5 + 4, not 7 + 2), each card as wide as the rest and the rows the grid's width.

/** Columns for `n` cards when `fit` fit in a row: the rows needed, then cards spread evenly over them. */
export function balancedColumns(n, fit) {
  const count = Math.max(0, Math.floor(n));
  const most = Math.max(1, Math.min(Math.floor(fit) || 1, count || 1));
  const rows = Math.max(1, Math.ceil(count / most));
  return Math.max(1, Math.ceil(count / rows));
}

const px = (v, fallback) => {
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : fallback;
};

/** Lays out `grid`'s cards (its children) in balanced columns now; again whenever its width changes. */
export function evenCards(grid) {
  const layout = () => {
    const style = getComputedStyle(grid);
    const min = px(style.getPropertyValue('--card-min'), 130);
    const gap = px(style.columnGap, 10);
    const fit = Math.floor((grid.clientWidth + gap) / (min + gap));
    // through the CSSOM (the pages' CSP forbids style attributes, not this)
    grid.style.gridTemplateColumns = `repeat(${balancedColumns(grid.children.length, fit)}, minmax(0, 1fr))`;
  };
  layout();
  if (!grid.dataset.evenCards && typeof ResizeObserver === 'function') {
    grid.dataset.evenCards = 'on';
    new ResizeObserver(layout).observe(grid);
  }
  return layout;
}
