import { createHash } from 'node:crypto';
import { digestOf } from '../content-digest.ts';

/**
 * Chart Repo values that only tell time passing (the Chart Repo's uptime, the image analyzer's last_check, a
 * running item's processing duration) and the conversion times we stamp (last_update): none of them is a
 * change a reader can see, so none may mint a version. Keyed by name: these names mean only that in the payload.
 */
const TIME_PASSING = new Set(['uptime', 'last_check', 'duration', 'last_update']);

function withoutTimePassing(key: string, value: unknown): unknown {
  return TIME_PASSING.has(key) ? undefined : value;
}

/**
 * A Chart Repo answer's text without the members that only tell time passing: two answers whose keys are
 * equal say the same thing, so the second needs no parse and no normalizing. Matched as members only — a
 * `"uptime"` preceded by `{` or `,` — which inside a JSON string is impossible (its quotes are escaped).
 */
export function bodyContentKey(text: string): string {
  return text.replace(TIME_PASSING_MEMBER, '$1');
}
const TIME_PASSING_MEMBER = /([{,]\s*)"(?:uptime|last_check|duration|last_update)"\s*:\s*(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|null|true|false)\s*(?=[,}])/g;

/** The Chart Repo's uptime in an answer's text (first `system.uptime`-like member), for the freshness counter. */
export function uptimeIn(text: string): number | undefined {
  const m = /[{,]\s*"uptime"\s*:\s*(\d+(?:\.\d+)?)\s*[,}]/.exec(text);
  return m ? Math.trunc(Number(m[1])) : undefined;
}

/** What must differ for the Chart Repo view (or one of its items) to count as changed. */
export function chartRepoContentKey(value: unknown): string {
  return JSON.stringify(value, withoutTimePassing);
}

/**
 * A pair's new answer, where every app and image whose own content did not change keeps its earlier
 * last_update (it says when the item last changed, not when it was converted): per pair, so the cost is that
 * of the answers that changed.
 */
export function keepAnswerTimes<A extends { apps: object[]; images: object[] }>(before: A | undefined, now: A): A {
  if (!before) return now;
  return { ...now, apps: keepItemTimes(before.apps, now.apps), images: keepItemTimes(before.images, now.images) };
}

function keepItemTimes<T extends object>(before: readonly T[] | undefined, now: T[]): T[] {
  if (!before || before.length === 0) return now;
  const times = new Map<string, unknown>();
  for (const item of before) {
    const t = (item as { last_update?: unknown }).last_update;
    if (t !== undefined) times.set(itemKey(item), t);
  }
  if (times.size === 0) return now;
  return now.map((item) => {
    const key = itemKey(item);
    const t = times.get(key);
    if (t === undefined) return item;
    const kept = { ...item, last_update: t };
    ITEM_KEYS.set(kept, key);
    return kept;
  });
}

/**
 * Each item's content key, made once (the items kept from one answer are the `before` of the next) and kept as
 * a digest: a pair's held answer costs ~44 bytes an item more, not a second copy of its JSON.
 */
const ITEM_KEYS = new WeakMap<object, string>();

function itemKey(item: object): string {
  let key = ITEM_KEYS.get(item);
  // (the item's JSON less its time-passing members: its values there are all scalars, so bodyContentKey's
  // pattern takes them out, several times cheaper than a JSON.stringify replacer)
  if (key === undefined) ITEM_KEYS.set(item, (key = createHash('sha256').update(bodyContentKey(JSON.stringify(item))).digest('base64')));
  return key;
}

/**
 * An answer's text split in two: what the Chart Repo says about this (user, source) pair — apps, images,
 * hydrator tasks and counters — and what it says about itself in every answer alike (`data.system`,
 * `data.tasks.image_analyzer`: its memory, queue lengths, the analyzer's queue). The shared part moves on
 * almost every request, so keyed together nothing would ever be "unchanged"; keyed apart, a pair whose own
 * part did not change needs no parse, and the shared part is read from one answer a pass.
 *
 * `pair` is the text with each shared member's value replaced by `null` (still JSON; normalizes to "absent").
 * `shared` holds the shared values' texts, when they are objects. Text that is not JSON splits into something;
 * its parse fails later, where it always did.
 */
export interface SplitAnswer {
  pair: string;
  shared: { system?: string; image_analyzer?: string };
}

const SHARED_PATHS: Record<string, keyof SplitAnswer['shared']> = {
  '\u0000data\u0000system': 'system',
  '\u0000data\u0000tasks\u0000image_analyzer': 'image_analyzer',
};

/** the deepest of SHARED_PATHS, in containers from the root */
const MAX_SHARED_DEPTH = 4;

export function splitAnswerText(text: string): SplitAnswer {
  const shared: SplitAnswer['shared'] = {};
  /** member names from the root to the container being read ('[]' for array elements) */
  const path: string[] = [];
  const isObject: boolean[] = [];
  let key = '';
  let expectKey = false;
  let span: { name: keyof SplitAnswer['shared']; start: number; depth: number } | null = null;
  const cuts: [number, number][] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) { // a string: skip it whole (escapes included); in an object's key position it is a name
      const start = i + 1;
      for (i += 1; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 1;
        else if (d === 34) break;
      }
      // (only names at the depths of SHARED_PATHS are read: an answer has a name per item field)
      if (expectKey) { key = isObject.length <= MAX_SHARED_DEPTH - 1 ? text.slice(start, i) : ''; expectKey = false; }
    } else if (c === 123 || c === 91) { // { [
      path.push(isObject.length === 0 ? '' : isObject[isObject.length - 1] ? key : '[]');
      isObject.push(c === 123);
      expectKey = c === 123;
      if (span === null && c === 123 && path.length >= 3 && path.length <= MAX_SHARED_DEPTH) {
        const name = SHARED_PATHS[path.join('\u0000')];
        if (name !== undefined) span = { name, start: i, depth: path.length };
      }
    } else if (c === 125 || c === 93) { // } ]
      if (span !== null && path.length === span.depth) {
        shared[span.name] = text.slice(span.start, i + 1);
        cuts.push([span.start, i + 1]);
        span = null;
      }
      path.pop();
      isObject.pop();
      expectKey = false;
    } else if (c === 44) { // ,
      expectKey = isObject[isObject.length - 1] === true;
    }
  }
  if (cuts.length === 0) return { pair: text, shared };
  let pair = '';
  let at = 0;
  for (const [s, e] of cuts) { pair += `${text.slice(at, s)}null`; at = e; }
  return { pair: pair + text.slice(at), shared };
}

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
