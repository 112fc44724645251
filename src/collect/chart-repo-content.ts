import { digestOf } from '../content-digest.ts';
import { chartItemKeys, type ChartRepoApp, type ChartRepoImage, type HydratorTask } from '../model/index.ts';
import { isObj, nestsDeeperThan } from '../model/common.ts';
import { LIMITS } from '../model/limits.ts';
import { isRunningApp, TIME_PASSING_NAMES, type SplitAnswer } from './chart-repo-answer-key.ts';

export type { SplitAnswer };

/**
 * A Chart Repo answer's text without the members that only tell time passing by name (TIME_PASSING_NAMES):
 * two answers whose keys are equal say the same thing, so the second needs no parse and no normalizing.
 * Matched as members only — a `"uptime"` preceded by `{` or `,` — which inside a JSON string is impossible
 * (its quotes are escaped). A running app's processing.duration is left out by answerKey, which reads the
 * answer's structure; this pattern keys the Chart Repo's own blocks, which hold no apps.
 */
export function bodyContentKey(text: string): string {
  return text.replace(TIME_PASSING_MEMBER, '$1');
}
// (a string as `"[^"\\]*(?:\\.[^"\\]*)*"`, the same strings as `"(?:[^"\\]|\\.)*"`: the engine keeps a backtrack
// entry an escape instead of a character, so a value of millions of characters does not overflow its stack)
const TIME_PASSING_MEMBER = new RegExp(
  String.raw`([{,]\s*)"(?:${TIME_PASSING_NAMES.join('|')})"\s*:\s*(?:"[^"\\]*(?:\\.[^"\\]*)*"|-?\d[\d.eE+-]*|null|true|false)\s*(?=[,}])`,
  'g',
);

/**
 * A pair's new answer, where every app and image whose own content did not change is the earlier item itself:
 * its last_update (when the item last changed, not when it was converted) and a running app's processing.duration
 * held at that change (docs/api.md, compatibility), so an item that did not change renders as it did and is not
 * sent again when another item of its answer changes. The hydrator's tasks and recent failures too (they tell no
 * time passing: the earlier one is the same JSON). Per pair, so the cost is that of the answers that changed.
 */
export function keepAnswerTimes<A extends KeptLists>(before: A | undefined, now: A): A {
  if (!before) return now;
  const kept = { ...now, apps: keepItems(before.apps, now.apps, chartItemKeys.apps), images: keepItems(before.images, now.images, chartItemKeys.images) };
  const [was, is] = [before.hydrator, now.hydrator];
  if (was && is) {
    kept.hydrator = { ...is };
    if (is.tasks) kept.hydrator.tasks = keepItems(was.tasks, is.tasks, chartItemKeys.hydrator_tasks);
    if (is.recent_failed) kept.hydrator.recent_failed = keepItems(was.recent_failed, is.recent_failed, chartItemKeys.hydrator_tasks);
  }
  return kept;
}

/** An answer's lists of items (ChartRepoAnswer's). */
interface KeptLists {
  apps: ChartRepoApp[];
  images: ChartRepoImage[];
  hydrator?: { tasks?: HydratorTask[]; recent_failed?: HydratorTask[] };
}

/**
 * Each item of `now` that says what an item of `before` said: that item. Compared in place, member by member,
 * where it stood in `before` first (answers keep their order), else the item of `before` with its key: no copy,
 * no JSON and no digest an item (those were most of the Chart Repo collector's garbage).
 */
function keepItems<T extends object>(before: readonly T[] | undefined, now: T[], keyOf: (item: T) => string): T[] {
  if (!before || before.length === 0) return now;
  let byKey: Map<string, T> | undefined;
  return now.map((item, i) => {
    const there = before[i];
    if (there !== undefined) {
      if (sameItemContent(there, item)) return there;
      // the same key in place: that item changed (apps, images and current tasks come with unique keys; a repeated
      // key of a recent failure only means an equal item elsewhere in the list is not reused)
      if (keyOf(there) === keyOf(item)) return item;
    }
    if (byKey === undefined) {
      byKey = new Map();
      for (const b of before) if (!byKey.has(keyOf(b))) byKey.set(keyOf(b), b);
    }
    const was = byKey.get(keyOf(item));
    return was !== undefined && sameItemContent(was, item) ? was : item;
  });
}

/**
 * Whether two items as normalizeAnswer builds them say the same, less the members that only tell time passing:
 * there they are the item's own last_update and a running app's processing.duration (chart-repo.ts builds both
 * shapes; nothing else in them bears one of those names: chart-repo-body-key.test.ts checks it).
 */
export function sameItemContent(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  if (x.state !== y.state) return false;
  if (!isRunningApp(x.state)) return sameMembers(x, y, 'last_update');
  const p = x.processing;
  const q = y.processing;
  if (!isObj(p) || !isObj(q)) return sameMembers(x, y, 'last_update');
  return sameMembers(x, y, 'last_update', 'processing') && sameMembers(p, q, 'duration');
}

/**
 * Whether two objects have the same members (undefined ones absent, as in their JSON) but those named `skip` and
 * `skipToo`, each equal as JSON.
 */
function sameMembers(x: Record<string, unknown>, y: Record<string, unknown>, skip = '', skipToo = ''): boolean {
  let members = 0;
  for (const k in x) {
    const v = x[k];
    if (v === undefined || k === skip || k === skipToo) continue;
    if (!sameJson(v, y[k])) return false;
    members += 1;
  }
  for (const k in y) if (y[k] !== undefined && k !== skip && k !== skipToo) members -= 1;
  return members === 0;
}

/** Whether two JSON values are equal (objects member by member, in any order). */
function sameJson(v: unknown, w: unknown): boolean {
  if (v === w) return true;
  if (typeof v !== 'object' || typeof w !== 'object' || v === null || w === null) return false;
  if (Array.isArray(v) || Array.isArray(w)) {
    if (!Array.isArray(v) || !Array.isArray(w) || v.length !== w.length) return false;
    for (let i = 0; i < v.length; i++) if (!sameJson(v[i], w[i])) return false;
    return true;
  }
  return sameMembers(v as Record<string, unknown>, w as Record<string, unknown>);
}

/**
 * The Chart Repo's measurements of itself: its system block's `uptime` and `resource_usage` (memory, goroutines,
 * …), which move on almost every request. Not a change a reader can see: held in the versioned body they would
 * mint a version every pass or, held at the last change, mislead. So they leave the block here, before it is keyed
 * and normalized, and become counters in `…/sources`: `chart_repo_uptime` (whole seconds) and
 * `chart_repo_resource_usage_<name>` for the usage's numbers at its top level and one level down
 * (`memory.alloc_mb` → `memory_alloc_mb`), at most RESOURCE_COUNTERS of them; anything else in them is dropped.
 * The rest of the block is written again, less each member nested deeper than LIMITS.jsonDepth (`dropped`, counted
 * with the block's misfits): writing a hostile deep value overflows the stack, and the bound would leave it out
 * anyway. A block that is not a JSON object is left as it is (its parse fails later); one with neither
 * measurements nor deep members, as it came.
 */
export function splitMeasurements(system: string | undefined): { system: string | undefined; counters: Record<string, number>; dropped: number } {
  const counters: Record<string, number> = {};
  const asItCame = { system, counters, dropped: 0 };
  if (system === undefined) return asItCame;
  let block: unknown;
  try {
    block = JSON.parse(system);
  } catch {
    return asItCame;
  }
  if (!isObj(block)) return asItCame;
  const { uptime, resource_usage: usage, ...rest } = block;
  const deep = Object.keys(rest).filter((k) => nestsDeeperThan(rest[k], LIMITS.jsonDepth));
  if (deep.length === 0 && !MEASUREMENT_NAMES.some((n) => Object.hasOwn(block, n))) return asItCame;
  for (const k of deep) delete rest[k];
  if (typeof uptime === 'number' && Number.isFinite(uptime) && uptime >= 0) counters.chart_repo_uptime = Math.trunc(uptime);
  let n = 0;
  const add = (name: string, value: unknown) => {
    const safe = name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 48);
    if (typeof value !== 'number' || !Number.isFinite(value) || safe === '' || n >= RESOURCE_COUNTERS) return;
    const key = `chart_repo_resource_usage_${safe}`;
    if (!Object.hasOwn(counters, key)) n += 1;
    counters[key] = value;
  };
  if (isObj(usage)) {
    for (const [k, v] of Object.entries(usage)) {
      if (isObj(v)) for (const [k2, v2] of Object.entries(v)) add(`${k}_${k2}`, v2);
      else add(k, v);
    }
  }
  return { system: JSON.stringify(rest), counters, dropped: deep.length };
}
/** at most this many resource-usage counters a pass: the Chart Repo chooses the names, we bound them */
export const RESOURCE_COUNTERS = 16;
const MEASUREMENT_NAMES = ['uptime', 'resource_usage'] as const;

/** The shared part back as an answer of its own (system and image analyzer only), to normalize. */
export function sharedAnswerText(shared: SplitAnswer['shared']): string {
  return `{"success":true,"data":{"system":${shared.system ?? 'null'},"tasks":{"image_analyzer":${shared.image_analyzer ?? 'null'}}}}`;
}

/** A (user, source) pair's key, for the collector and the store alike (also what a `reread` names). */
export function pairKey(p: { user: string; source: string }): string {
  return `${p.user}\u0000${p.source}`;
}

/**
 * What the Chart Repo view says: each pair's content in order, then the Chart Repo's own blocks. The collector
 * computes it over what it sent, the store over what it holds: equal when the store holds every part.
 */
export function viewContent(pairs: readonly { user: string; source: string; content: string }[], shared: string): string {
  return digestOf([...pairs.flatMap((p) => [pairKey(p), p.content]), shared]);
}
