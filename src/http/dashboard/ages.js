// Ages on the pages tick every second on their own: an age element names its time (data-age-since) and one
// timer rewrites its text. Nothing is re-rendered or re-read: between versions only these texts move.

import { fmtAge } from './format.js';

/** Marks `props` (for `el`) as an age of `iso`, written as fmtAge(iso, prefix, suffix), kept live by startAgeTicker. */
export function ageOf(iso, props = {}, { prefix = '', suffix = ' ago' } = {}) {
  if (typeof iso !== 'string' || iso === '') return props;
  return { ...props, data: { ...props.data, ageSince: iso, agePrefix: prefix, ageSuffix: suffix } };
}

/** Rewrites every age element's text once a second (only the ones whose text changed). */
export function startAgeTicker(root = document, everyMs = 1000) {
  return setInterval(() => {
    for (const node of root.querySelectorAll('[data-age-since]')) {
      const { ageSince, agePrefix, ageSuffix } = node.dataset;
      const text = fmtAge(ageSince, agePrefix, ageSuffix);
      if (node.textContent !== text) node.textContent = text;
    }
  }, everyMs);
}
