import type { ChangedChartItem, ChartList, ChartRepoChanges, Facets } from '../protocol.ts';

/**
 * The Chart Repo view as items the change stream can send one by one (pure). Keys (chartItemKeys), which a
 * client applying the stream computes the same way: apps `user_id:source_id:app_name`, images
 * `user_id:source_id:image_name`, hydrator tasks `task_id`. An answer holds each key once (the normalizer drops
 * a repeat); only an app or hydrator task the Chart Repo lists under two pairs could repeat in the view, and its
 * last copy wins. The frame is everything else (system, counters, the image analyzer, recent failures,
 * last_update), sent whole when it changes: it is small.
 */
export const CHART_LISTS = ['apps', 'images', 'hydrator_tasks'] as const satisfies readonly ChartList[];

export interface Item {
  json: string;
  facets: Facets;
}

export interface ChartIndex {
  frame: string;
  lists: Record<ChartList, Map<string, Item>>;
  /** keys held by more than one pair (the last copy is in `lists`): a pass that touches one is indexed whole */
  contested: Record<ChartList, Set<string>>;
}

/**
 * An item changed since the last commit: what it is now (null = removed) and the facets it had at the last
 * commit (null = it was not there), so a filtered stream client learns of an item that stops matching it and
 * of no removal of an item it never had.
 */
interface PendingItem {
  now: Item | null;
  before: Facets | null;
}

/** Changes since the last commit: per list, key -> the change; the frame when it moved. */
export interface ChartPending {
  frame: string | null;
  lists: Record<ChartList, Map<string, PendingItem>>;
}

export function emptyChartPending(): ChartPending {
  return { frame: null, lists: { apps: new Map(), images: new Map(), hydrator_tasks: new Map() } };
}

/**
 * Adds to `into` that `key` of `list` is now `it` (null: gone), having been `was`: nothing when it says the
 * same (the same JSON, and for an image the same users and sources).
 */
export function recordItem(into: ChartPending, list: ChartList, key: string, it: Item | null, was: Item | undefined): void {
  if (sameItem(list, it, was)) return;
  const pending = into.lists[list];
  const p = pending.get(key);
  if (p) p.now = it;
  else pending.set(key, { now: it, before: was?.facets ?? null });
}

/** Adds the item changes `from` holds (recorded by recordItem against the index `into`'s were) to `into`. */
export function mergePending(into: ChartPending, from: ChartPending): void {
  for (const list of CHART_LISTS) {
    const target = into.lists[list];
    // (the usual case: the last version took what was pending, and `from` is taken as it is)
    if (target.size === 0) {
      into.lists[list] = from.lists[list];
      continue;
    }
    for (const [key, change] of from.lists[list]) {
      const p = target.get(key);
      if (p) p.now = change.now;
      else target.set(key, change);
    }
  }
}

/** Whether a reader sees `it` as `was`: the same JSON and, for an image, the same users and sources. */
function sameItem(list: ChartList, it: Item | null, was: Item | undefined): boolean {
  return it !== null && was !== undefined && was.json === it.json && (list !== 'images' || sameOwners(was.facets, it.facets));
}

function sameOwners(a: Facets, b: Facets): boolean {
  const same = (x: string[] = [], y: string[] = []) => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.users, b.users) && same(a.sources, b.sources);
}

/** The pending changes as the version message carries them; empties `pending`. */
export function takeChartChanges(pending: ChartPending): ChartRepoChanges | undefined {
  const out: ChartRepoChanges = { apps: [], images: [], hydrator_tasks: [] };
  let any = false;
  if (pending.frame !== null) {
    out.frame = pending.frame;
    any = true;
  }
  for (const list of CHART_LISTS) {
    for (const [key, { now, before }] of pending.lists[list]) {
      const change: ChangedChartItem = now ? { key, json: now.json, facets: now.facets } : { key };
      if (before) change.before = before;
      out[list].push(change);
      any = true;
    }
    pending.lists[list].clear();
  }
  pending.frame = null;
  return any ? out : undefined;
}
