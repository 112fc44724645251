import { createHash } from 'node:crypto';

/**
 * A Chart Repo answer's content key read straight from its bytes: the sha-256 of the same text
 * `bodyContentKey(splitAnswer(body).pair)` gives (the shared blocks as `null`, the members that only tell
 * time passing left out), without decoding the body, copying it or building that text. Every pair is asked
 * every pass and most answer what they answered before: this is what such an answer costs (one read of its
 * bytes, no garbage the size of it). The shared blocks are decoded only when asked for (`sharedText`): the
 * collector reads them from one answer a pass, and decoded from every answer they were most of its garbage.
 */
export interface AnswerKey {
  key: string;
  /** the shared blocks this answer holds (objects at their paths) */
  sharedBlocks: readonly SharedBlock[];
  /** one of `sharedBlocks`' text (SplitAnswer.shared), decoded now */
  sharedText(block: SharedBlock): string;
  /** splitAnswer(body).pair, from the same read of the body (an answer that changed is parsed from it) */
  pair(): string;
}

export type SharedBlock = keyof SplitAnswer['shared'];

export function answerKey(body: Buffer): AnswerKey {
  const scan = scanAnswer(body);
  const hash = createHash('sha256');
  let at = 0;
  for (const c of scan.cuts) {
    if (c.start > at) hash.update(body.subarray(at, c.start));
    if (c.with !== '') hash.update(c.with);
    at = c.end;
  }
  if (at < body.length) hash.update(body.subarray(at));
  return {
    key: hash.digest('base64'),
    sharedBlocks: Object.keys(scan.shared) as SharedBlock[],
    sharedText: (block) => sharedText(body, scan.shared, block),
    pair: () => pairText(body, scan.cuts),
  };
}

/** A shared block's text from its span (one the answer does not hold is a caller's mistake: it throws). */
function sharedText(body: Buffer, spans: SharedSpans, block: SharedBlock): string {
  const span = spans[block];
  if (span === undefined) throw new Error(`no ${block} block in this answer`);
  return body.toString('utf8', span.start, span.end);
}

/** where each shared block's text lies in the body */
type SharedSpans = Partial<Record<SharedBlock, { start: number; end: number }>>;

/**
 * An answer split in two: what the Chart Repo says about this (user, source) pair — apps, images, hydrator
 * tasks and counters — and what it says about itself in every answer alike (`data.system`,
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

/** The answer's bytes split (SplitAnswer): the same one read of its structure as answerKey. */
export function splitAnswer(body: Buffer): SplitAnswer {
  const { cuts, shared: spans } = scanAnswer(body);
  const shared: SplitAnswer['shared'] = {};
  for (const block of Object.keys(spans) as SharedBlock[]) shared[block] = sharedText(body, spans, block);
  return { pair: pairText(body, cuts), shared };
}

/** The body with each shared block cut to `null` (SplitAnswer.pair). */
function pairText(body: Buffer, cuts: readonly Cut[]): string {
  return cutText(body, cuts.filter((c) => c.with === 'null'));
}

/** The text answerKey digests (tests: it must equal bodyContentKey(splitAnswer(body).pair)). */
export function answerKeyText(body: Buffer): string {
  return cutText(body, scanAnswer(body).cuts);
}

/** The body with each cut's bytes replaced by what stands in its place. */
function cutText(body: Buffer, cuts: readonly Cut[]): string {
  let text = '';
  let at = 0;
  for (const c of cuts) {
    text += body.toString('utf8', at, c.start) + c.with;
    at = c.end;
  }
  return at === 0 ? body.toString('utf8') : text + body.toString('utf8', at);
}

/** a byte range left out of the key, and what stands in its place */
interface Cut { start: number; end: number; with: string }

/** The shared block at `path` (names from the root, '[]' for a list's item), if it is one's: data.system, data.tasks.image_analyzer. */
function sharedBlockAt(path: readonly string[]): SharedBlock | undefined {
  if (path[0] !== '' || path[1] !== 'data') return undefined;
  if (path.length === 3) return path[2] === 'system' ? 'system' : undefined;
  return path.length === 4 && path[2] === 'tasks' && path[3] === 'image_analyzer' ? 'image_analyzer' : undefined;
}
const MAX_SHARED_DEPTH = 4;
/**
 * Chart Repo values that only tell time passing, by name: the Chart Repo's uptime, the image analyzer's
 * last_check, and the conversion times we stamp (last_update). None of them is a change a reader can see, so
 * none may mint a version; these names mean only that in the payload.
 */
export const TIME_PASSING_NAMES = ['uptime', 'last_check', 'last_update'] as const;
const TIME_PASSING = TIME_PASSING_NAMES.map((n) => Buffer.from(n));

/**
 * A `duration` tells time passing only where it still grows: a still-running app's `processing.duration`
 * (data.apps[].processing.duration). A finished app's, an analysis task's (finished or not) or any other
 * `duration` is content: it changes only when what it measures does.
 */
const FINISHED_APP_STATES: ReadonlySet<string> = new Set(['completed', 'failed']);
/** An app is still running unless its state says it finished (an unfamiliar or absent state included). */
export const isRunningApp = (state: unknown): boolean => typeof state !== 'string' || !FINISHED_APP_STATES.has(state);
const STATE = Buffer.from('state');
const PROCESSING = Buffer.from('processing');
const DURATION = Buffer.from('duration');

/** Whether the key between `start` and `end` (its quotes excluded) is `name`, without decoding it. */
function keyIs(b: Buffer, start: number, end: number, name: Buffer): boolean {
  if (name.length !== end - start) return false;
  for (let i = 0; i < name.length; i++) if (name[i] !== b[start + i]) return false;
  return true;
}

/** Whether the key between `start` and `end` (its quotes excluded) is a time-passing name, without decoding it. */
function isTimePassingName(b: Buffer, start: number, end: number): boolean {
  for (const name of TIME_PASSING) if (keyIs(b, start, end, name)) return true;
  return false;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;
const isDigit = (c: number) => c >= 48 && c <= 57;
/** the characters a number may go on with, as bodyContentKey's pattern reads one: [\d.eE+-] */
const isNumberTail = (c: number) => isDigit(c) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;

/** Where the string starting at `i` (its opening quote) ends: the index of its closing quote (or the end). */
function stringEnd(b: Buffer, i: number): number {
  const start = i;
  // the next quote, found natively; escaped when an odd run of backslashes comes right before it
  for (;;) {
    i = b.indexOf(34, i + 1);
    if (i < 0) return b.length;
    let k = i - 1;
    while (k > start && b[k] === 92) k--;
    if ((i - 1 - k) % 2 === 0) return i;
  }
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

/**
 * A scalar value at `i` as bodyContentKey's pattern matches one (a string, a number, null/true/false): where it
 * ends; null when what is there is not one.
 */
function scalarEnd(b: Buffer, i: number): number | null {
  const c = b[i];
  if (c === undefined) return null;
  if (c === 34) {
    const e = stringEnd(b, i);
    return e < b.length ? e + 1 : null;
  }
  if (c === 45 || isDigit(c)) {
    let j = c === 45 ? i + 1 : i;
    if (!isDigit(b[j] ?? 0)) return null;
    j += 1;
    while (j < b.length && isNumberTail(b[j]!)) j++;
    return j;
  }
  for (const word of ['null', 'true', 'false']) {
    if (b.toString('latin1', i, i + word.length) === word) return i + word.length;
  }
  return null;
}

/**
 * The member at `i` (its name's opening quote; the name ends at `nameEnd`) when its value is a scalar followed
 * by `,` or `}` (bodyContentKey's rule): where the value starts and where the cut ends; null otherwise.
 */
function scalarMember(b: Buffer, nameEnd: number): { value: number; valueEnd: number; after: number } | null {
  let j = skipSpace(b, nameEnd + 1);
  if (b[j] !== 58) return null; // :
  j = skipSpace(b, j + 1);
  const valueEnd = scalarEnd(b, j);
  if (valueEnd === null) return null;
  const after = skipSpace(b, valueEnd);
  if (b[after] !== 44 && b[after] !== 125) return null; // , }
  return { value: j, valueEnd, after };
}

/** an app object being read: its state as far as read, and its processing.duration cuts, kept only if it runs */
interface AppScan { depth: number; state: unknown; processingDepth: number; durations: Cut[] }

/**
 * One read of the body: the shared blocks (objects at data.system and data.tasks.image_analyzer, cut only when
 * they close), the time-passing members outside them (bodyContentKey's rule: a member of one of those names
 * with a scalar value, up to the `,` or `}` after it), and a still-running app's processing.duration (the same
 * rule, decided when the app closes: its state may come after it).
 */
function scanAnswer(b: Buffer): { cuts: Cut[]; shared: SharedSpans } {
  const shared: SharedSpans = {};
  const path: string[] = [];
  const isObject: boolean[] = [];
  let key = '';
  let expectKey = false;
  let span: { name: keyof SplitAnswer['shared']; start: number; depth: number } | null = null;
  let cuts: Cut[] = [];
  let app: AppScan | null = null;
  /** the app-level member last named `processing` (its object, when one opens next, is the app's processing) */
  let processingNext = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 34) {
      const start = i;
      i = stringEnd(b, i);
      if (!expectKey) continue;
      expectKey = false;
      // a name is decoded only where a shared path can be (the top three levels: a few names an answer)
      key = isObject.length <= MAX_SHARED_DEPTH - 1 ? b.toString('utf8', start + 1, i) : '';
      if (app !== null && isObject.length === app.depth) {
        processingNext = keyIs(b, start + 1, i, PROCESSING);
        if (keyIs(b, start + 1, i, STATE)) {
          const m = scalarMember(b, i);
          // (last one wins, as JSON.parse reads it)
          app.state = m === null ? undefined : parseScalar(b.toString('utf8', m.value, m.valueEnd));
        }
      } else if (app !== null && isObject.length === app.processingDepth && keyIs(b, start + 1, i, DURATION)) {
        const m = scalarMember(b, i);
        if (m !== null) {
          const cut = { start, end: m.after, with: '' };
          cuts.push(cut);
          app.durations.push(cut);
          i = m.after - 1;
        }
        continue;
      }
      if (!isTimePassingName(b, start + 1, i)) continue;
      const m = scalarMember(b, i);
      if (m === null) continue;
      cuts.push({ start, end: m.after, with: '' });
      i = m.after - 1;
    } else if (c === 123 || c === 91) { // { [
      path.push(isObject.length === 0 ? '' : isObject[isObject.length - 1] ? key : '[]');
      isObject.push(c === 123);
      expectKey = c === 123;
      if (span === null && c === 123 && path.length >= 3 && path.length <= MAX_SHARED_DEPTH) {
        const name = sharedBlockAt(path);
        if (name !== undefined) span = { name, start: i, depth: path.length };
      }
      if (app === null && c === 123 && path.length === 4 && path[3] === '[]' && path[2] === 'apps' && path[1] === 'data') {
        app = { depth: 4, state: undefined, processingDepth: -1, durations: [] };
      } else if (app !== null && c === 123 && path.length === app.depth + 1 && processingNext) {
        app.processingDepth = path.length;
      }
      processingNext = false;
    } else if (c === 125 || c === 93) { // } ]
      if (span !== null && path.length === span.depth) {
        shared[span.name] = { start: span.start, end: i + 1 };
        const s = span.start;
        // the block stands as null; time-passing members inside it are its own business
        cuts = cuts.filter((x) => x.start < s);
        cuts.push({ start: s, end: i + 1, with: 'null' });
        span = null;
      }
      if (app !== null && path.length === app.processingDepth) app.processingDepth = -1;
      if (app !== null && path.length === app.depth) {
        // a finished app's duration is content: its cuts go (they are the last ones, or near)
        if (!isRunningApp(app.state)) for (const d of app.durations) cuts.splice(cuts.lastIndexOf(d), 1);
        app = null;
      }
      path.pop();
      isObject.pop();
      expectKey = false;
      processingNext = false;
    } else if (c === 44) { // ,
      expectKey = isObject[isObject.length - 1] === true;
      processingNext = false;
    }
  }
  return { cuts, shared };
}

/** a scalar's text as JSON reads it (undefined when it does not parse) */
function parseScalar(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
