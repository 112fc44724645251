import { viewContent } from '../collect/chart-repo-content.ts';
import { HYDRATOR_COUNTERS, mergedHydratorCounters } from '../collect/chart-repo-merge.ts';
import { itemListsOf, partChars } from '../collect/chart-repo-part.ts';
import type { ChartItemPart, ChartList, ChartRepoFrame, ChartRepoPairPart, ChartRepoPairSlot, StateFilter } from '../protocol.ts';
import { CHART_LISTS, emptyChartPending, mergePending, recordItem, type ChartIndex, type ChartPending, type Item } from './chart-repo-items.ts';
import { runNow, type Turns } from './turns.ts';

/**
 * The Chart Repo view held as its (user, source) pairs (pure): each pair's items arrive rendered (the
 * collector's renderPairPart), and the view's JSON, its filtered JSON and its item index are put together from
 * them, so a pass costs the pairs that changed (kube-state-metrics' way: render bytes when an object changes,
 * only concatenate when asked). No item is held as an object.
 */
export interface HeldPair extends ChartRepoPairPart {
  user: string;
  source: string;
  /** the digest of the pair's own part */
  content: string;
  /** its items' JSON length (partChars), measured once when it is held */
  chars: number;
  /** each with the pair as its owner: an image names no user, it counts as the pair's whose answer held it */
  images: ChartItemPart[];
}

export function holdPair(user: string, source: string, content: string, part: ChartRepoPairPart): HeldPair {
  const users = [user];
  const sources = [source];
  // (the part is this thread's own copy, taken from a message: its images get their owners in place; one kept
  // from the pair's part before has them)
  for (const image of part.images) if (image.facets.users === undefined) image.facets = { ...image.facets, users, sources };
  return { user, source, content, chars: partChars(part), apps: part.apps, images: part.images, ...(part.hydrator ? { hydrator: part.hydrator } : {}) };
}

/**
 * A slot's part, whole: each index taken from the same list of `held`, the part the store holds for the pair,
 * when that has the slot's `base` content (the item itself: it is held once, by both). Undefined when the slot has
 * no part or cannot be taken (held with other content, an index past its list): the collector sends it whole then.
 */
export function partOfSlot(slot: ChartRepoPairSlot, held: HeldPair | undefined): ChartRepoPairPart | undefined {
  const sent = slot.part;
  if (!sent) return undefined;
  const base = slot.base !== undefined && held?.content === slot.base ? held : undefined;
  const whole = (items: readonly (ChartItemPart | number)[], from: readonly ChartItemPart[] | undefined): ChartItemPart[] | undefined => {
    const out: ChartItemPart[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const x = items[i]!;
      if (typeof x !== 'number') out[i] = x;
      else if (from?.[x] !== undefined) out[i] = from[x];
      else return undefined;
    }
    return out;
  };
  const apps = whole(sent.apps, base?.apps);
  const images = whole(sent.images, base?.images);
  if (!apps || !images) return undefined;
  if (!sent.hydrator) return { apps, images };
  const tasks = whole(sent.hydrator.tasks, base?.hydrator?.tasks);
  const failed = whole(sent.hydrator.recent_failed, base?.hydrator?.recent_failed);
  if (!tasks || !failed) return undefined;
  return { apps, images, hydrator: { counters: sent.hydrator.counters, tasks, recent_failed: failed } };
}

/** What of the view to write (renderPairsInto). */
export interface PairRendering {
  /** only pairs of this user are written (found by the view's index, not a walk over every pair) */
  user?: string;
  /** the pairs whose items are written (a user or source filter); every pair when absent */
  pair?: (p: HeldPair) => boolean;
  /** the items written of those (an app filter); every item when absent */
  item?: (i: ChartItemPart) => boolean;
  /** lists left out: the overview leaves out apps and images, the stream's frame the hydrator's tasks too */
  without?: readonly ('apps' | 'images' | 'tasks')[];
}

/**
 * Exactly `JSON.stringify(mergeAnswers([frame's blocks, ...pairs' answers], frame.last_update))` (narrowed to the
 * pairs and items `what` keeps, when it says so), as pieces appended to `out` (a /state body is written from
 * pieces, never flattened): the same keys in the same order, empty lists left out (Go's omitempty). The hydrator's
 * counters are those of every pair, narrowed or not.
 */
export function renderPairsInto(out: string[], frame: ChartRepoFrame, pairs: readonly HeldPair[], what: PairRendering = {}): void {
  out.push(`{"last_update":${JSON.stringify(frame.last_update)}`);
  if (frame.system) out.push(`,"system":${JSON.stringify(frame.system)}`);
  const about = aboutPairs(pairs);
  const kept = keptPairs(pairs, what);
  const list = (name: string, pick: (p: HeldPair) => readonly ChartItemPart[] | undefined, left = false): void => {
    if (left) return;
    let first = true;
    for (const p of kept) {
      for (const item of pick(p) ?? []) {
        if (what.item && !what.item(item)) continue;
        out.push(first ? `,"${name}":[` : ',', item.json);
        first = false;
      }
    }
    if (!first) out.push(']');
  };
  list('apps', (p) => p.apps, what.without?.includes('apps'));
  list('images', (p) => p.images, what.without?.includes('images'));
  const hydrated = about.hydratorCounters !== null;
  if (hydrated || frame.image_analyzer) {
    out.push(',"tasks":{');
    if (about.hydratorCounters !== null) {
      out.push(`"hydrator":${about.hydratorCounters.slice(0, -1)}`);
      list('tasks', (p) => p.hydrator?.tasks, what.without?.includes('tasks'));
      list('recent_failed', (p) => p.hydrator?.recent_failed);
      out.push('}');
    }
    if (frame.image_analyzer) out.push(`${hydrated ? ',' : ''}"image_analyzer":${JSON.stringify(frame.image_analyzer)}`);
    out.push('}');
  }
  out.push('}');
}

/**
 * What every rendering of one held list of pairs needs, worked out once per list (a view holds its list until the
 * next pass that changes it), not per query: its pairs by user, and the hydrator's counters of every pair merged
 * (null: no pair has a hydrator block).
 */
interface AboutPairs {
  byUser: Map<string, HeldPair[]>;
  hydratorCounters: string | null;
}

const ABOUT = new WeakMap<readonly HeldPair[], AboutPairs>();

function aboutPairs(pairs: readonly HeldPair[]): AboutPairs {
  let about = ABOUT.get(pairs);
  if (about) return about;
  const byUser = new Map<string, HeldPair[]>();
  // in the pairs' order, as the merge writes them
  for (const p of pairs) {
    const list = byUser.get(p.user);
    if (list) list.push(p);
    else byUser.set(p.user, [p]);
  }
  const hydrated = pairs.filter((p) => p.hydrator).map((p) => p.hydrator!.counters);
  about = { byUser, hydratorCounters: hydrated.length > 0 ? JSON.stringify(mergedHydratorCounters(hydrated)) : null };
  ABOUT.set(pairs, about);
  return about;
}

/**
 * What a view narrowed by `f` says, for its ETag (the times left out, as the whole view's content leaves them):
 * the content of each pair it keeps, in order, beside what every narrowed view shows of the whole (the shared
 * blocks, `shared`, and the hydrator's counters summed over all pairs). A change in a pair it does not keep
 * leaves it as it was, so a user's answer keeps its tag while another user's Chart Repo items move. (An app
 * name narrows within a pair: the pair's content still names the answer, a coarser but never a stale tag.)
 */
export function narrowedContent(pairs: readonly HeldPair[], shared: string, f: StateFilter): string {
  return viewContent(keptPairs(pairs, filteredRendering(f)), `${shared}\u0000${aboutPairs(pairs).hydratorCounters ?? ''}`);
}

/** The pairs `what` keeps, in order: a user's found by the view's index, not a walk over every pair. */
function keptPairs(pairs: readonly HeldPair[], what: PairRendering): readonly HeldPair[] {
  const of = what.user === undefined ? pairs : aboutPairs(pairs).byUser.get(what.user) ?? [];
  return what.pair ? of.filter(what.pair) : of;
}

/** The rendering a user / source / app filter keeps: the pairs of that user and source, the items of that app. */
export function filteredRendering(f: StateFilter): PairRendering {
  return {
    ...(f.user_id === undefined ? {} : { user: f.user_id }),
    pair: (p) => (f.user_id === undefined || p.user === f.user_id) && (f.source_id === undefined || p.source === f.source_id),
    ...(f.app_name === undefined ? {} : { item: (i: ChartItemPart) => i.facets.app_name === f.app_name }),
  };
}

/** The length of the items' JSON of these pairs: at most that of renderPairsInto's. */
export function renderedChars(pairs: readonly HeldPair[]): number {
  let n = 0;
  for (const p of pairs) n += p.chars;
  return n;
}

/**
 * Whether renderPairsInto gives the pairs `a` and `b` the same JSON under one frame and they index the same,
 * without rendering either: pair by pair the same held pair (a pass keeps the unchanged ones) or the same
 * (user, source) with the same items under the same keys and the same hydrator counters.
 */
export function samePairs(a: readonly HeldPair[], b: readonly HeldPair[]): boolean {
  if (a.length !== b.length) return false;
  const counters = (h: HeldPair) => (h.hydrator ? HYDRATOR_COUNTERS.map((k) => h.hydrator!.counters[k]).join(',') : null);
  return a.every((p, i) => {
    const q = b[i]!;
    if (p === q) return true;
    // (the same JSON held by another pair, or under other keys, renders the same but is indexed otherwise: an
    // image counts as the user's whose answer held it)
    if (p.user !== q.user || p.source !== q.source) return false;
    const [pl, ql] = [itemListsOf(p), itemListsOf(q)];
    return counters(p) === counters(q) && pl.every((list, k) => sameList(list, ql[k]!));
  });
}

const sameList = (a: readonly ChartItemPart[], b: readonly ChartItemPart[]) =>
  a.length === b.length && a.every((x, i) => x.json === b[i]!.json && x.key === b[i]!.key);

/**
 * The view's items by key for the change stream (the last of equal keys wins), and its frame: the view without
 * apps, images and hydrator tasks.
 */
export function indexPairs(frame: ChartRepoFrame, pairs: readonly HeldPair[]): ChartIndex {
  return runNow(indexPairsInTurns(frame, pairs));
}

function* indexPairsInTurns(frame: ChartRepoFrame, pairs: readonly HeldPair[]): Turns<ChartIndex> {
  const lists: ChartIndex['lists'] = { apps: new Map(), images: new Map(), hydrator_tasks: new Map() };
  const contested: ChartIndex['contested'] = { apps: new Set(), images: new Set(), hydrator_tasks: new Set() };
  for (const p of pairs) {
    for (const list of CHART_LISTS) {
      for (const it of listOf(p, list)) {
        if (lists[list].has(it.key)) contested[list].add(it.key);
        lists[list].set(it.key, it);
      }
    }
    yield;
  }
  return { frame: frameOf(frame, pairs), lists, contested };
}

/** One change of an index list: `key` is now `it` (null: gone). */
interface IndexOp {
  list: ChartList;
  key: string;
  it: Item | null;
}

/**
 * How the index of a view changes with a pass, worked out without touching it (planReindex), so that the work
 * can be cut into turns while readers are answered from the view as it is; applyIndexPlan then takes it.
 */
export interface IndexPlan {
  /** the index after (null: the held one, to be changed in place by `ops`) */
  whole: ChartIndex | null;
  ops: IndexOp[];
  /** what a reader sees change, to be added to the pending changes */
  seen: ChartPending;
  frame: string;
}

/**
 * Up to this many item changes the turn that takes the plan makes them in place (a pass that changed a few
 * answers); past it the plan changes copies of the lists they touch, in turns, and that turn only swaps them.
 */
export const IN_PLACE_OPS = 2048;

/**
 * The plan that makes the index of the view `after` (its pairs `pairs`, in order) from `prev`, that of the view
 * `before`. Where only pairs that changed (another held object) touch it, it changes `prev`'s items of those
 * pairs, so a pass costs the items of the pairs it changed, not every item; it is rebuilt whole when a key those
 * pairs hold is held by another pair too (the last copy wins, which only a walk over every pair in order decides)
 * or `prev` is not the index of `before` (a view held again as the same JSON keeps the index of the objects it
 * first held).
 */
export function* planReindex(
  prev: ChartIndex | null, before: ReadonlyMap<string, HeldPair>, after: ReadonlyMap<string, HeldPair>,
  frame: ChartRepoFrame, pairs: readonly HeldPair[], inPlaceOps = IN_PLACE_OPS,
): Turns<IndexPlan> {
  const changed: [HeldPair | undefined, HeldPair | undefined][] = [];
  for (const [key, p] of after) if (before.get(key) !== p) changed.push([before.get(key), p]);
  for (const [key, p] of before) if (!after.has(key)) changed.push([p, undefined]);
  if (prev === null || !(yield* onlyTheirOwn(prev, changed))) {
    const next = yield* indexPairsInTurns(frame, pairs);
    return { whole: next, ops: [], seen: yield* diffSeen(prev, next), frame: next.frame };
  }
  // (every key here is one changed pair's alone: what `prev` holds under it is what the pair held, or nothing)
  const ops: IndexOp[] = [];
  const seen = emptyChartPending();
  for (const list of CHART_LISTS) {
    const items = prev.lists[list];
    for (const [was, now] of changed) {
      const kept = new Set(now ? listOf(now, list).map((it) => it.key) : []);
      for (const it of was ? listOf(was, list) : []) {
        if (kept.has(it.key)) continue;
        ops.push({ list, key: it.key, it: null });
        recordItem(seen, list, it.key, null, it);
      }
      const had = new Set(was ? listOf(was, list) : []);
      for (const it of now ? listOf(now, list) : []) {
        // (an item the pair held before, kept by a part sent as changes: the index holds it already)
        if (had.has(it)) continue;
        ops.push({ list, key: it.key, it });
        recordItem(seen, list, it.key, it, items.get(it.key));
      }
      yield;
    }
  }
  const frameJson = frameOf(frame, pairs);
  if (ops.length <= inPlaceOps) return { whole: null, ops, seen, frame: frameJson };
  const lists = { ...prev.lists };
  let n = 0;
  for (const list of CHART_LISTS) {
    if (!ops.some((op) => op.list === list)) continue;
    const copy = new Map<string, Item>();
    for (const [key, it] of prev.lists[list]) {
      copy.set(key, it);
      if (++n % 4096 === 0) yield;
    }
    lists[list] = copy;
  }
  for (const op of ops) {
    changeList(lists, op);
    if (++n % 4096 === 0) yield;
  }
  // (the keys contested stay: no changed pair holds one)
  return { whole: { frame: frameJson, lists, contested: prev.contested }, ops: [], seen, frame: frameJson };
}

function changeList(lists: ChartIndex['lists'], op: IndexOp): void {
  if (op.it === null) lists[op.list].delete(op.key);
  else lists[op.list].set(op.key, op.it);
}

/** The index the plan makes of `prev` (changed in place, or the plan's new one), what a reader sees change added to `into`. */
export function applyIndexPlan(prev: ChartIndex | null, plan: IndexPlan, into: ChartPending): ChartIndex {
  if (prev?.frame !== plan.frame) into.frame = plan.frame;
  for (const op of plan.ops) changeList(prev!.lists, op);
  mergePending(into, plan.seen);
  return plan.whole ?? { ...prev!, frame: plan.frame };
}

/** What a reader sees change from `prev` to `next`. */
function* diffSeen(prev: ChartIndex | null, next: ChartIndex): Turns<ChartPending> {
  const seen = emptyChartPending();
  let n = 0;
  for (const list of CHART_LISTS) {
    const before = prev?.lists[list];
    const now = next.lists[list];
    for (const [key, it] of now) {
      // (an item a pair rendered once is the same object pass after pass: no string compare)
      const was = before?.get(key);
      if (was !== it) recordItem(seen, list, key, it, was);
      if (++n % 1024 === 0) yield;
    }
    if (before) for (const [key, was] of before) if (!now.has(key)) recordItem(seen, list, key, null, was);
  }
  return seen;
}

/**
 * Adds what changed from `prev` to `next` to `into` (a removal then a re-add within one version is an upsert).
 * An image whose JSON stayed but whose users or sources moved (another pair's answer now holds its app) is a
 * change too: filtered clients see it come or go.
 */
export function diffIndex(prev: ChartIndex | null, next: ChartIndex, into: ChartPending): void {
  applyIndexPlan(prev, { whole: next, ops: [], seen: runNow(diffSeen(prev, next)), frame: next.frame }, into);
}

/**
 * Whether every key the changed pairs held and hold is theirs alone in `index`: what each held is what the
 * index has under its key, no other pair holds a key they take, and none of them is contested.
 */
function* onlyTheirOwn(index: ChartIndex, changed: readonly [HeldPair | undefined, HeldPair | undefined][]): Turns<boolean> {
  for (const list of CHART_LISTS) {
    const items = index.lists[list];
    const contested = index.contested[list];
    const taken = new Set<string>();
    for (const [was, now] of changed) {
      const had = new Set<Item>();
      for (const it of was ? listOf(was, list) : []) {
        if (items.get(it.key) !== it || contested.has(it.key)) return false;
        had.add(it);
      }
      for (const it of now ? listOf(now, list) : []) {
        const held = items.get(it.key);
        if ((held !== undefined && !had.has(held)) || contested.has(it.key) || taken.has(it.key)) return false;
        taken.add(it.key);
      }
      yield;
    }
  }
  return true;
}

/** A pair's items of one of the index's lists. */
function listOf(p: HeldPair, list: ChartList): readonly ChartItemPart[] {
  return list === 'apps' ? p.apps : list === 'images' ? p.images : p.hydrator?.tasks ?? [];
}

/** The view without apps, images and hydrator tasks (ChartIndex.frame). */
function frameOf(frame: ChartRepoFrame, pairs: readonly HeldPair[]): string {
  const out: string[] = [];
  renderPairsInto(out, frame, pairs, { without: ['apps', 'images', 'tasks'] });
  return out.join('');
}

/** How many Chart Repo apps are in each state and images in each status (the overview's chart_repo_counts). */
export interface ChartCounts {
  apps: Record<string, number>;
  images: Record<string, number>;
}

/** Counts of the pairs' items, in first-seen order of the states (as counted over the merged lists). */
export function countPairs(pairs: readonly HeldPair[]): ChartCounts {
  const counts: ChartCounts = { apps: {}, images: {} };
  for (const p of pairs) for (const a of p.apps) countInto(counts.apps, a.state ?? '');
  for (const p of pairs) for (const i of p.images) countInto(counts.images, i.state ?? '');
  return counts;
}

function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
