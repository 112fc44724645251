import { HYDRATOR_COUNTERS, type ChartRepoAnswer } from '../collect/chart-repo.ts';
import type { ChartRepoStatus } from '../model/index.ts';
import type { ChartRepoFrame } from '../protocol.ts';
import { facetsOf, frameOf, type ChartIndex, type Item } from './chart-repo-items.ts';

/**
 * The Chart Repo view held as its (user, source) pairs (pure): each pair's items are rendered once, when its
 * part arrives, and the view's JSON and its item index are put together from them, so a pass costs the pairs
 * that changed (kube-state-metrics' way: render bytes when an object changes, only concatenate when asked).
 */
export interface HeldPair {
  user: string;
  source: string;
  /** the digest of the pair's own part */
  content: string;
  answer: ChartRepoAnswer;
  /** each item's JSON, in list order */
  rendered: { apps: string[]; images: string[]; tasks: string[]; recent: string[] };
  /** each item by its key for the change stream, made once: a pass re-indexes without new garbage */
  keyed: { apps: [string, Item][]; images: [string, Item][]; tasks: [string, Item][] };
}

export function holdPair(user: string, source: string, content: string, answer: ChartRepoAnswer): HeldPair {
  const json = (xs: readonly object[] | undefined) => (xs ?? []).map((x) => JSON.stringify(x));
  const rendered = {
    apps: json(answer.apps), images: json(answer.images),
    tasks: json(answer.hydrator?.tasks), recent: json(answer.hydrator?.recent_failed),
  };
  const owners = { users: [user], sources: [source] };
  return {
    user, source, content, answer, rendered,
    keyed: {
      apps: answer.apps.map((a, i) => [`${a.user_id}:${a.source_id}:${a.app_name}`, item(rendered.apps[i]!, facetsOf(a))]),
      images: answer.images.map((img, i) => [img.image_name, item(rendered.images[i]!, {
        ...(img.app_name === undefined ? {} : { app_name: img.app_name }), ...owners,
      })]),
      tasks: (answer.hydrator?.tasks ?? []).map((t, i) => [t.task_id, item(rendered.tasks[i]!, facetsOf(t))]),
    },
  };
}

/**
 * Exactly `JSON.stringify(mergeAnswers([frame's blocks, ...pairs' answers], frame.last_update))`, as pieces
 * appended to `out` (a /state body is written from pieces, never flattened): the same keys in the same order,
 * empty lists left out (Go's omitempty).
 */
export function renderPairsInto(out: string[], frame: ChartRepoFrame, pairs: readonly HeldPair[]): void {
  out.push(`{"last_update":${JSON.stringify(frame.last_update)}`);
  if (frame.system) out.push(`,"system":${JSON.stringify(frame.system)}`);
  const list = (name: string, pick: (r: HeldPair['rendered']) => string[], lead: string): boolean => {
    let first = true;
    for (const p of pairs) {
      for (const item of pick(p.rendered)) {
        out.push(first ? `${lead}"${name}":[` : ',', item);
        first = false;
      }
    }
    if (!first) out.push(']');
    return !first;
  };
  list('apps', (r) => r.apps, ',');
  list('images', (r) => r.images, ',');
  const hydrated = pairs.filter((p) => p.answer.hydrator);
  if (hydrated.length > 0 || frame.image_analyzer) {
    out.push(',"tasks":{');
    if (hydrated.length > 0) {
      const counters = HYDRATOR_COUNTERS.map((k) => `"${k}":${JSON.stringify(hydrated.reduce((sum, p) => sum + p.answer.hydrator![k], 0))}`);
      out.push(`"hydrator":{${counters.join(',')}`);
      list('tasks', (r) => r.tasks, ',');
      list('recent_failed', (r) => r.recent, ',');
      out.push('}');
    }
    if (frame.image_analyzer) out.push(`${hydrated.length > 0 ? ',' : ''}"image_analyzer":${JSON.stringify(frame.image_analyzer)}`);
    out.push('}');
  }
  out.push('}');
}

/** The length of the items' JSON of these pairs: at most that of renderPairsInto's. */
export function renderedChars(pairs: readonly HeldPair[]): number {
  let n = 0;
  for (const p of pairs) for (const list of Object.values(p.rendered)) for (const json of list) n += json.length;
  return n;
}

/**
 * Whether renderPairsInto gives `a` and `b` the same JSON, without rendering either: the same frame, and pair by
 * pair the same held pair (a pass keeps the unchanged ones) or the same items and hydrator counters.
 */
export function sameRendering(
  a: { frame: ChartRepoFrame; pairs: readonly HeldPair[] }, b: { frame: ChartRepoFrame; pairs: readonly HeldPair[] },
): boolean {
  if (a.pairs.length !== b.pairs.length || JSON.stringify(a.frame) !== JSON.stringify(b.frame)) return false;
  return a.pairs.every((p, i) => {
    const q = b.pairs[i]!;
    if (p === q) return true;
    const counters = (h: HeldPair) => (h.answer.hydrator ? HYDRATOR_COUNTERS.map((k) => h.answer.hydrator![k]).join(',') : null);
    return counters(p) === counters(q)
      && (Object.keys(p.rendered) as (keyof HeldPair['rendered'])[]).every((k) => sameList(p.rendered[k], q.rendered[k]));
  });
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The view's items by key for the change stream (what indexChartRepo gives with origins), from the JSON each
 * pair rendered: an image's user and source are those of the pair whose answer held it.
 */
export function indexPairs(value: ChartRepoStatus, pairs: readonly HeldPair[]): ChartIndex {
  const lists: ChartIndex['lists'] = { apps: new Map(), images: new Map(), hydrator_tasks: new Map() };
  for (const p of pairs) {
    for (const [key, it] of p.keyed.apps) lists.apps.set(key, it);
    for (const [key, it] of p.keyed.images) lists.images.set(key, it);
    for (const [key, it] of p.keyed.tasks) lists.hydrator_tasks.set(key, it);
  }
  return { frame: JSON.stringify(frameOf(value)), lists };
}

function item(json: string, facets: Item['facets']): Item {
  return { json, facets };
}
