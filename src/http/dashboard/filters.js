// Filter controls: substring match, debounced input, and <datalist> / <select> options from the data.

import { el, fill } from './dom.js';
import { str } from './values.js';

/** Case-insensitive substring test; an empty needle matches everything. */
export function contains(hay, needle) {
  return needle === '' || str(hay).toLowerCase().includes(needle);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

const datalistKeys = new WeakMap();

/** Fills a <datalist> with distinct values (bounded). */
export function fillDatalist(node, items, max = 500) {
  const sorted = [...new Set(items.filter((x) => x))].sort().slice(0, max);
  const key = sorted.join('\u0000');
  if (datalistKeys.get(node) === key) return;
  datalistKeys.set(node, key);
  fill(node, sorted.map((v) => el('option', { value: v })));
}

export function fillSelect(node, items, allLabel = 'all') {
  const current = node.value;
  const sorted = [...new Set(items.filter((x) => x))].sort();
  fill(node, el('option', { value: '' }, allLabel), sorted.map((v) => el('option', { value: v }, v)));
  node.value = sorted.includes(current) ? current : '';
}
