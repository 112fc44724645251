// The reference of how a stream client applies a chart_repo change to its copy of the Chart Repo status (pure;
// the dashboards no longer keep the whole state, so it lives with the tests that hold the stream to it).

import { list, obj, str } from '../../src/http/dashboard/values.js';

/**
 * chart_repo's lists in a change event, keyed as the sidecar keys them (src/store/chart-repo-items.ts): apps
 * `user_id:source_id:app_name`, images `user_id:source_id:image_name`, hydrator tasks `task_id`.
 */
const CHART_LISTS = {
  apps: { get: (c) => c.apps, set: (c, v) => { if (v) c.apps = v; else delete c.apps; }, key: (x) => `${x.user_id}:${x.source_id}:${x.app_name}` },
  images: { get: (c) => c.images, set: (c, v) => { if (v) c.images = v; else delete c.images; }, key: (x) => `${x.user_id ?? ''}:${x.source_id ?? ''}:${x.image_name}` },
  hydrator_tasks: {
    get: (c) => c.tasks?.hydrator?.tasks,
    set: (c, v) => {
      const hydrator = { ...obj(obj(c.tasks).hydrator), tasks: v };
      if (!v) delete hydrator.tasks;
      c.tasks = { ...obj(c.tasks), hydrator };
    },
    key: (x) => x.task_id,
  },
};

/** A chart_repo change applied to the page's copy: the frame replaced whole, items upserted and removed by key. */
export function applyChartChange(current, ch) {
  if (!ch || typeof ch !== 'object') return current;
  const before = obj(current);
  let out = { ...before };
  if (ch.frame && typeof ch.frame === 'object') {
    out = { ...ch.frame };
    for (const l of Object.values(CHART_LISTS)) if (l.get(before) !== undefined) l.set(out, l.get(before));
  }
  const upserts = obj(ch.upserts);
  const removed = obj(ch.removed);
  for (const [name, l] of Object.entries(CHART_LISTS)) {
    const up = obj(upserts[name]);
    const gone = list(removed[name]);
    if (Object.keys(up).length === 0 && gone.length === 0) continue;
    const items = new Map(list(l.get(out)).map((x) => [str(l.key(obj(x))), x]));
    for (const k of gone) items.delete(str(k));
    for (const [k, x] of Object.entries(up)) items.set(k, x);
    // a list emptied is left out, as /state leaves it out (Go's omitempty)
    l.set(out, items.size > 0 ? [...items.values()] : undefined);
  }
  return out;
}
