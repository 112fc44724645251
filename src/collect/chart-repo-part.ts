import { chartItemKeys, type ChartRepoApp, type ChartRepoImage, type HydratorTask } from '../model/index.ts';
import type { ChartItemPart, ChartRepoPairPart, Facets, HydratorCounters, SentPairPart } from '../protocol.ts';
import type { ChartRepoAnswer } from './chart-repo.ts';
import { HYDRATOR_COUNTERS } from './chart-repo-merge.ts';

/**
 * A pair's answer as the store keeps it (pure): each item's JSON rendered once, here, with its key and what
 * filters read, so what crosses to the store is strings (compact in a message, held as they come) and the
 * store holds no objects for the Chart Repo's items.
 */
export function renderPairPart(answer: Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>): ChartRepoPairPart {
  return renderPart(answer) as ChartRepoPairPart;
}

/**
 * A pair's changed answer as changes to `held`, the answer whose part the store holds: an item that is `held`'s
 * own object (keepAnswerTimes keeps an item that did not change) goes as its index in `held`'s same list, so
 * only what changed is rendered, crosses and is held anew (in the demo's steady churn a changed answer changed
 * one item of tens).
 */
export function renderPairChanges(answer: Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>, held: Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>): SentPairPart {
  return renderPart(answer, held);
}

function renderPart(answer: Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>, held?: Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>): SentPairPart {
  const part: SentPairPart = {
    apps: renderList(answer.apps, appPart, held?.apps),
    images: renderList(answer.images, imagePart, held?.images),
  };
  const h = answer.hydrator;
  if (h) {
    const counters = {} as HydratorCounters;
    for (const k of HYDRATOR_COUNTERS) counters[k] = h[k];
    // (the store holds a part's missing lists as empty ones: the indexes are the same)
    part.hydrator = {
      counters,
      tasks: renderList(h.tasks ?? [], taskPart, held?.hydrator?.tasks),
      recent_failed: renderList(h.recent_failed ?? [], taskPart, held?.hydrator?.recent_failed),
    };
  }
  return part;
}

/** Each item rendered, or its index in `held` when it is one of `held`'s objects. */
function renderList<T extends object>(items: readonly T[], render: (x: T) => ChartItemPart, held?: readonly T[]): (ChartItemPart | number)[] {
  if (!held || held.length === 0) return items.map(render);
  const at = new Map<T, number>();
  held.forEach((x, i) => at.set(x, i));
  return items.map((x) => at.get(x) ?? render(x));
}

const appPart = (a: ChartRepoApp): ChartItemPart => ({ json: JSON.stringify(a), key: chartItemKeys.apps(a), facets: facetsOf(a), state: a.state });

const imagePart = (i: ChartRepoImage): ChartItemPart => ({
  json: JSON.stringify(i), key: chartItemKeys.images(i), facets: i.app_name === undefined ? {} : { app_name: i.app_name }, state: i.status,
});

/** A hydrator task as an item (current or recently failed). */
function taskPart(t: HydratorTask): ChartItemPart {
  return { json: JSON.stringify(t), key: chartItemKeys.hydrator_tasks(t), facets: facetsOf(t) };
}

/** The user, source and app an item names (Chart Repo apps and hydrator tasks carry all three). */
export function facetsOf(x: { user_id?: string; source_id?: string; app_name?: string }): Facets {
  const f: Facets = {};
  if (x.user_id !== undefined) f.user_id = x.user_id;
  if (x.source_id !== undefined) f.source_id = x.source_id;
  if (x.app_name !== undefined) f.app_name = x.app_name;
  return f;
}

/** A pass's parts go to the store ahead, in messages of their own, each time they add up to this (UTF-16 units of their items' JSON). */
export const PARTS_AHEAD_CHARS = 4 * 2 ** 20;

/** A part's item lists: apps, images, the hydrator's tasks and its recent failures. */
export function itemListsOf<I>(part: ChartRepoPairPart<I>): readonly (readonly I[])[] {
  return [part.apps, part.images, part.hydrator?.tasks ?? [], part.hydrator?.recent_failed ?? []];
}

/** A part's size, in UTF-16 units of the JSON of the items it renders (an index to a held item: none). */
export function partChars(part: SentPairPart): number {
  let n = 0;
  for (const list of itemListsOf(part)) for (const item of list) if (typeof item !== 'number') n += item.json.length;
  return n;
}
