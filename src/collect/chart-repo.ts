/**
 * Chart Repo normalizer (pure): one answer converted into the shapes the market's Go module rebuilds it into
 * (docs/go-wire.md "chart_repo"); the pairs' answers are merged in chart-repo-merge.ts. docs/architecture.md,
 * Sources.
 *
 * Conversion rules, Go's (null means absent, as Go sends nil slices and pointers as null):
 * - the envelope {success, message, data} must fit, or the whole answer fails; so must the lists of the pair's own
 *   items (apps, images, hydrator tasks: lists, null or absent), as Go's decoder fails on them: read as empty they
 *   would empty the pair while the source said ok (a failed answer keeps its last good one). `data` null or absent
 *   is Go's nil: an answer with no items;
 * - an absent field is its zero value; keys Go always sends are always there, `omitempty` ones left out
 *   when zero;
 * - a field of the wrong type (a string where a number goes, a fraction in an integer) is left out alone (its
 *   zero value), counted, so one bad field does not hide what the rest of its item says; only an item whose
 *   identity has the wrong type (an app's user, source or name, an image's or node's name, a task's id) is
 *   dropped, counted: it could not be told apart or filtered. A block (system, hydrator counters, image
 *   analyzer) with no field that fits is absent. A running app's fractional `processing.duration` is
 *   truncated, not a misfit;
 * - a string longer than its bound (LIMITS.id for names and ids, 1,024 for an image name, LIMITS.text for free
 *   text) is clipped to it and counted, never dropped: Go keeps any string;
 * - an enumerated value we have not seen (state, status …) is kept as sent and counted, never dropped;
 * - a time that is not RFC 3339 becomes Go's zero time (counted); the zero instant however spelled
 *   (`…00:00:00.000Z`, `…+00:00`) is written as Go's zero time, and left out of an `omitempty` key;
 *   durations: a Go duration string or a number of milliseconds -> nanoseconds.
 */
import * as v from 'valibot';
import {
  GO_ZERO_TIME, JsonObject, KNOWN_VALUES, LIMITS, chartItemKeys, goDurationNs, goTime, isObj,
} from '../model/index.ts';
import { put, putTime } from './omit-empty.ts';
import { clip } from './tasks.ts';
import type {
  AnalyzerTask, ChartRepoApp, ChartRepoImage, ChartRepoSystem, HydratorStatus, HydratorTask, ImageAnalyzerStatus, ImageNode,
} from '../model/index.ts';

/** One pair's answer, converted into Go's shapes. */
export interface ChartRepoAnswer {
  system?: ChartRepoSystem;
  apps: ChartRepoApp[];
  images: ChartRepoImage[];
  hydrator?: HydratorStatus;
  image_analyzer?: ImageAnalyzerStatus;
  /** fields of the wrong type, left out, and items dropped (identity of the wrong type, not an object, past the bound) */
  dropped: number;
  /** enumerated values (state, status …) not in KNOWN_VALUES, kept as sent */
  unfamiliar_values: number;
  /** times that were not RFC 3339, sent as Go's zero time */
  bad_times: number;
  /** durations that were neither a Go duration string nor a number, sent as 0 */
  bad_durations: number;
  /** strings longer than their bound, clipped to it */
  clipped_values: number;
}

export type NormalizeResult = { ok: true; answer: ChartRepoAnswer } | { ok: false; error: string };

type Obj = Record<string, unknown>;

/** an item's identity of the wrong type: the item is dropped (any other field is left out alone) */
class Misfit extends Error {}
const MISFIT = new Misfit('misfit');
/** a list of the pair's own items that is not a list: the whole answer fails (Conv.items) */
class NotAList extends Error {}

/**
 * Converts raw Chart Repo values the way Go decodes them into its structs: absent or null = the zero value;
 * a value of the wrong type is the zero value too, counted (an identity of the wrong type throws Misfit); times
 * that are not RFC 3339 become the zero time and durations follow Go's rules (both counted when bad); unfamiliar
 * enumerated values are kept and counted.
 */
class Conv {
  dropped = 0;
  unfamiliar = 0;
  badTimes = 0;
  badDurations = 0;
  clipped = 0;

  /** `pair`: the (user, source) the answer was asked for; its images carry it (they name no user) */
  constructor(readonly now: string, readonly pair?: { user: string; source: string }) {}

  /** a field of the wrong type: left out (its zero value) and counted */
  private misfit<T>(zero: T): T {
    this.dropped += 1;
    return zero;
  }

  /** a string; one longer than `max` is clipped to it (counted): Go keeps any string, a bound keeps the view small */
  str(o: Obj, k: string, max: number = LIMITS.id): string {
    const x = o[k];
    if (x === undefined || x === null) return '';
    if (typeof x !== 'string') return this.misfit('');
    return this.clip(x, max);
  }

  /** an item's identity (a name, an id): the wrong type drops the item, which could not be told apart */
  id(o: Obj, k: string, max: number = LIMITS.id): string {
    const x = o[k];
    if (x !== undefined && x !== null && typeof x !== 'string') throw MISFIT;
    return this.str(o, k, max);
  }

  clip(x: string, max: number): string {
    if (x.length <= max) return x;
    this.clipped += 1;
    return clip(x, max);
  }

  text(o: Obj, k: string): string {
    return this.str(o, k, LIMITS.text);
  }

  int(o: Obj, k: string): number {
    const x = o[k];
    if (x === undefined || x === null) return 0;
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) return this.misfit(0);
    return x;
  }

  /** an integer as Go converts a JSON number to one: a fraction truncated */
  truncated(o: Obj, k: string): number {
    const x = o[k];
    if (typeof x !== 'number') return this.int(o, k);
    const n = Math.trunc(x) + 0; // (+ 0: -0.5 gives 0, not -0)
    if (!Number.isSafeInteger(n)) return this.misfit(0);
    return n;
  }

  num(o: Obj, k: string): number {
    const x = o[k];
    if (x === undefined || x === null) return 0;
    if (typeof x !== 'number' || !Number.isFinite(x)) return this.misfit(0);
    return x;
  }

  bool(o: Obj, k: string): boolean {
    const x = o[k];
    if (x === undefined || x === null) return false;
    if (typeof x !== 'boolean') return this.misfit(false);
    return x;
  }

  time(o: Obj, k: string): string {
    const t = goTime(o[k]);
    if (!t.ok) this.badTimes += 1;
    return t.time;
  }

  /**
   * An enumerated value: any string is kept, as Go keeps it (one longer than LIMITS.text clipped to it, so a
   * hostile value cannot grow the view); one not in `known` counted. One that is not a string is left out.
   */
  enumerated(o: Obj, k: string, known: readonly string[]): string {
    const x = this.str(o, k, LIMITS.text);
    if (x !== '' && !known.includes(x)) this.unfamiliar += 1;
    return x;
  }

  duration(o: Obj, k: string): number {
    const x = o[k];
    if (x === undefined || x === null) return 0;
    // (a string longer than any text we keep is bad unread: the parser's pattern overflows the stack on millions of parts)
    const ns = typeof x === 'string' && x.length > LIMITS.text ? undefined : goDurationNs(x);
    if (ns === undefined) {
      this.badDurations += 1;
      return 0;
    }
    return ns;
  }

  obj(o: Obj, k: string): Obj | undefined {
    const x = o[k];
    if (x === undefined || x === null) return undefined;
    if (!isObj(x)) return this.misfit(undefined);
    return x;
  }

  json(o: Obj, k: string): Obj | undefined {
    const x = this.obj(o, k);
    if (x === undefined) return undefined;
    try {
      const r = v.safeParse(JsonObject, x, { abortPipeEarly: true });
      if (r.success) return r.output;
    } catch {
      // a hostile value that throws in the schema is a misfit like any other
    }
    return this.misfit(undefined);
  }

  /**
   * A list converted item by item: a bad item (or one past the bound) is dropped alone and counted. With `keyOf`,
   * an item whose key repeats one before it in the list is dropped too, counted: the change stream sends items
   * by key, so a view holds each key once.
   */
  list<T>(o: Obj, k: string, convert: (item: Obj) => T, keyOf?: (item: T) => string): T[] | undefined {
    const raw = o[k];
    if (raw === undefined || raw === null) return undefined;
    if (!Array.isArray(raw)) return this.misfit(undefined);
    const n = Math.min(raw.length, LIMITS.listItems);
    this.dropped += raw.length - n;
    const out: T[] = [];
    const seen = keyOf && new Set<string>();
    for (let i = 0; i < n; i++) {
      const x = raw[i];
      // counters of a dropped item do not count: roll them back (kept in locals, not an array an item)
      const unfamiliar = this.unfamiliar;
      const badTimes = this.badTimes;
      const badDurations = this.badDurations;
      const dropped = this.dropped;
      const clipped = this.clipped;
      try {
        if (!isObj(x)) throw MISFIT;
        const item = convert(x);
        if (seen) {
          const key = keyOf!(item);
          if (seen.has(key)) throw MISFIT;
          seen.add(key);
        }
        out.push(item);
      } catch (e) {
        if (!(e instanceof Misfit)) throw e;
        this.unfamiliar = unfamiliar;
        this.badTimes = badTimes;
        this.badDurations = badDurations;
        this.dropped = dropped + 1;
        this.clipped = clipped;
      }
    }
    return out;
  }

  /**
   * A list of the pair's own items (apps, images, hydrator tasks), `path` naming it: one present but not a list
   * fails the whole answer (NotAList), as a failed request does — read as no items it would empty the pair while
   * the source said ok. Absent or null (Go's nil slice) is no items; an item that does not fit is dropped alone.
   */
  items<T>(o: Obj, k: string, path: string, convert: (item: Obj) => T, keyOf?: (item: T) => string): T[] | undefined {
    const raw = o[k];
    if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw new NotAList(`${path} is not a list`);
    return this.list(o, k, convert, keyOf);
  }

  /** One field of a block: undefined when it did not fit (left out and counted by the converter). */
  field<T>(f: () => T): T | undefined {
    const before = this.dropped;
    const x = f();
    return this.dropped === before ? x : undefined;
  }

  app = (o: Obj): ChartRepoApp => {
    const a: ChartRepoApp = {
      app_id: this.str(o, 'app_id'),
      app_name: this.id(o, 'app_name'),
      user_id: this.id(o, 'user_id'),
      source_id: this.id(o, 'source_id'),
      state: this.enumerated(o, 'state', KNOWN_VALUES.app_state),
      last_update: this.now,
    };
    const step = this.obj(o, 'current_step');
    if (step) {
      a.current_step = {
        name: this.str(step, 'name'),
        index: this.int(step, 'index'),
        total: this.int(step, 'total'),
        status: this.enumerated(step, 'status', KNOWN_VALUES.step_status),
        started_at: this.time(step, 'started_at'),
        updated_at: this.time(step, 'updated_at'),
        retry_count: this.int(step, 'retry_count'),
      };
    }
    const p = this.obj(o, 'processing');
    if (p) a.processing = { task_id: this.str(p, 'task_id'), duration: this.truncated(p, 'duration') };
    const t = this.obj(o, 'timestamps');
    if (t) a.timestamps = { created_at: this.time(t, 'created_at'), last_updated_at: this.time(t, 'last_updated_at') };
    const e = this.obj(o, 'error');
    if (e) {
      a.error = { message: this.text(e, 'message') };
      put(a.error, 'step', this.str(e, 'step'));
    }
    return a;
  };

  node = (o: Obj): ImageNode => {
    const n: ImageNode = { node_name: this.id(o, 'node_name') };
    put(n, 'architecture', this.str(o, 'architecture'));
    put(n, 'os', this.str(o, 'os'));
    put(n, 'total_size', this.int(o, 'total_size'));
    put(n, 'downloaded_size', this.int(o, 'downloaded_size'));
    put(n, 'layer_count', this.int(o, 'layer_count'));
    put(n, 'downloaded_layers', this.int(o, 'downloaded_layers'));
    put(n, 'progress', this.num(o, 'progress'));
    return n;
  };

  image = (o: Obj): ChartRepoImage => {
    const i: ChartRepoImage = {
      image_name: this.id(o, 'image_name', 1024),
      status: this.enumerated(o, 'status', KNOWN_VALUES.image_status),
      last_update: this.now,
    };
    put(i, 'app_id', this.str(o, 'app_id'));
    put(i, 'app_name', this.str(o, 'app_name'));
    put(i, 'architecture', this.str(o, 'architecture'));
    put(i, 'total_size', this.int(o, 'total_size'));
    put(i, 'downloaded_size', this.int(o, 'downloaded_size'));
    put(i, 'download_progress', this.num(o, 'download_progress'));
    put(i, 'layer_count', this.int(o, 'layer_count'));
    put(i, 'downloaded_layers', this.int(o, 'downloaded_layers'));
    put(i, 'analysis_status', this.enumerated(o, 'analysis_status', KNOWN_VALUES.analysis_status));
    putTime(i, 'analyzed_at', this.time(o, 'analyzed_at'));
    put(i, 'error_message', this.text(o, 'error_message'));
    put(i, 'nodes', this.list(o, 'nodes', this.node));
    // (additive: which answer listed it, so two users' copies of one image are two items with their own keys)
    if (this.pair) {
      i.user_id = this.pair.user;
      i.source_id = this.pair.source;
    }
    return i;
  };

  hydratorTask = (o: Obj): HydratorTask => {
    const t: HydratorTask = {
      task_id: this.id(o, 'task_id'),
      user_id: this.id(o, 'user_id'),
      source_id: this.id(o, 'source_id'),
      app_id: this.str(o, 'app_id'),
      app_name: this.id(o, 'app_name'),
      status: this.enumerated(o, 'status', KNOWN_VALUES.hydrator_task_status),
      step_name: this.str(o, 'step_name'),
      total_steps: this.int(o, 'total_steps'),
      retry_count: this.int(o, 'retry_count'),
      created_at: this.time(o, 'created_at'),
      updated_at: this.time(o, 'updated_at'),
    };
    put(t, 'last_error', this.text(o, 'last_error'));
    return t;
  };

  analyzerTask = (o: Obj): AnalyzerTask => {
    const t: AnalyzerTask = {
      task_id: this.id(o, 'task_id'),
      app_name: this.str(o, 'app_name'),
      app_dir: this.text(o, 'app_dir'),
      status: this.enumerated(o, 'status', KNOWN_VALUES.analysis_task_status),
      created_at: this.time(o, 'created_at'),
      images_count: this.int(o, 'images_count'),
    };
    putTime(t, 'started_at', this.time(o, 'started_at'));
    putTime(t, 'completed_at', this.time(o, 'completed_at'));
    put(t, 'worker_id', this.int(o, 'worker_id'));
    put(t, 'duration', this.duration(o, 'duration'));
    put(t, 'analyzed_count', this.int(o, 'analyzed_count'));
    put(t, 'error', this.text(o, 'error'));
    put(t, 'error_step', this.str(o, 'error_step'));
    const images = o.images;
    if (images !== undefined && images !== null) {
      if (!Array.isArray(images) || images.length > LIMITS.listItems || !images.every((x) => typeof x === 'string')) this.misfit(undefined);
      else put(t, 'images', (images as string[]).map((x) => this.clip(x, 1024)));
    }
    return t;
  };

  /**
   * A block (system, hydrator, image analyzer): each field converted alone. Absent when it is not an object
   * or nothing in it fits, so an empty block of one pair cannot hide a good block of another in the merge.
   */
  block<T>(raw: unknown, build: (o: Obj, seen: () => void) => T): T | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (!isObj(raw)) return this.misfit(undefined);
    let any = false;
    const out = build(raw, () => { any = true; });
    return any ? out : undefined;
  }

  system(raw: unknown): ChartRepoSystem | undefined {
    return this.block(raw, (o, seen) => {
      const s: ChartRepoSystem = {};
      const f = <K extends keyof ChartRepoSystem>(k: K, get: () => ChartRepoSystem[K]) => {
        if (o[k] === undefined || o[k] === null) return;
        const x = this.field(get);
        if (x !== undefined) { seen(); put(s, k, x); }
      };
      f('uptime', () => this.int(o, 'uptime'));
      f('version', () => this.str(o, 'version'));
      f('components', () => this.json(o, 'components'));
      f('resource_usage', () => this.json(o, 'resource_usage'));
      f('hostname', () => this.str(o, 'hostname'));
      return s;
    });
  }

  /**
   * The pair's hydrator: present whenever the block is an object, even `{}` — the Chart Repo leaves zeros out, so
   * an idle hydrator arrives empty and is zeros, as Go decodes it. (Its counters are summed over the pairs: an
   * empty one hides nothing, unlike the system and analyzer blocks taken from one answer.)
   */
  hydrator(raw: unknown): HydratorStatus | undefined {
    return this.block(raw, (o, seen) => {
      seen();
      const count = (k: keyof HydratorStatus): number => {
        if (o[k] === undefined || o[k] === null) return 0;
        const x = this.field(() => this.int(o, k));
        if (x === undefined) return 0;
        seen();
        return x;
      };
      const h: HydratorStatus = {
        queue_length: count('queue_length'),
        active_tasks: count('active_tasks'),
        completed_tasks: count('completed_tasks'),
        failed_tasks: count('failed_tasks'),
        worker_count: count('worker_count'),
      };
      const tasks = this.items(o, 'tasks', 'data.tasks.hydrator.tasks', this.hydratorTask, chartItemKeys.hydrator_tasks);
      const failed = this.items(o, 'recent_failed', 'data.tasks.hydrator.recent_failed', this.hydratorTask);
      if (tasks !== undefined || failed !== undefined) seen();
      put(h, 'tasks', tasks);
      put(h, 'recent_failed', failed);
      return h;
    });
  }

  analyzer(raw: unknown): ImageAnalyzerStatus | undefined {
    return this.block(raw, (o, seen) => {
      const get = <T>(k: string, f: () => T, zero: T): T => {
        if (o[k] === undefined || o[k] === null) return zero;
        const x = this.field(f);
        if (x === undefined) return zero;
        seen();
        return x;
      };
      const int = (k: string) => get(k, () => this.int(o, k), 0);
      const a: ImageAnalyzerStatus = {
        is_running: get('is_running', () => this.bool(o, 'is_running'), false),
        health_status: get('health_status', () => this.enumerated(o, 'health_status', KNOWN_VALUES.health_status), ''),
        last_check: get('last_check', () => this.time(o, 'last_check'), GO_ZERO_TIME),
        queue_length: int('queue_length'),
        active_workers: int('active_workers'),
        cached_images: int('cached_images'),
        analyzing_count: int('analyzing_count'),
        total_analyzed: int('total_analyzed'),
        successful_analyzed: int('successful_analyzed'),
        failed_analyzed: int('failed_analyzed'),
        average_analysis_time: get('average_analysis_time', () => this.duration(o, 'average_analysis_time'), 0),
      };
      for (const k of ['queued_tasks', 'processing_tasks', 'recent_completed', 'recent_failed'] as const) {
        const l = this.list(o, k, this.analyzerTask);
        if (l !== undefined) seen();
        put(a, k, l);
      }
      put(a, 'error_message', get('error_message', () => this.text(o, 'error_message'), ''));
      return a;
    });
  }
}

const Envelope = v.object({
  success: v.boolean(),
  message: v.nullish(v.string()),
  data: v.nullish(v.custom<Obj>(isObj, 'data is not an object')),
});

function describe(issues: v.BaseIssue<unknown>[]): string {
  const i = issues[0];
  const path = i.path?.map((p) => String(p.key)).join('.');
  return path ? `${path}: ${i.message}` : i.message;
}

/**
 * Converts one answer of the status endpoint into Go's shapes. `now` is the conversion time: every app's
 * and image's `last_update`, as Go sets it. `pair`: the (user, source) it was asked for, which its images carry.
 */
export function normalizeAnswer(json: unknown, now: string, pair?: { user: string; source: string }): NormalizeResult {
  const env = v.safeParse(Envelope, json);
  if (!env.success) return { ok: false, error: `not the envelope: ${describe(env.issues).slice(0, 200)}` };
  if (!env.output.success) {
    return { ok: false, error: `chart repo answered success=false: ${(env.output.message ?? '').slice(0, 200)}` };
  }
  try {
    return { ok: true, answer: convertData(env.output.data ?? {}, new Conv(now, pair)) };
  } catch (e) {
    if (e instanceof NotAList) return { ok: false, error: e.message };
    throw e;
  }
}

/** An answer with no items and nothing counted. */
export function emptyAnswer(): ChartRepoAnswer {
  return { apps: [], images: [], dropped: 0, unfamiliar_values: 0, bad_times: 0, bad_durations: 0, clipped_values: 0 };
}

/** An answer's `data` in Go's shapes (throws NotAList: see Conv.items). */
function convertData(data: Obj, c: Conv): ChartRepoAnswer {
  const answer: ChartRepoAnswer = {
    ...emptyAnswer(),
    apps: c.items(data, 'apps', 'data.apps', c.app, chartItemKeys.apps) ?? [],
    images: c.items(data, 'images', 'data.images', c.image, chartItemKeys.images) ?? [],
  };
  const system = c.system(data.system);
  if (system) answer.system = system;
  const tasks = data.tasks;
  if (tasks !== undefined && tasks !== null && !isObj(tasks)) c.dropped += 1;
  if (isObj(tasks)) {
    const hydrator = c.hydrator(tasks.hydrator);
    if (hydrator) answer.hydrator = hydrator;
    const analyzer = c.analyzer(tasks.image_analyzer);
    if (analyzer) answer.image_analyzer = analyzer;
  }
  answer.dropped = c.dropped;
  answer.unfamiliar_values = c.unfamiliar;
  answer.bad_times = c.badTimes;
  answer.bad_durations = c.badDurations;
  answer.clipped_values = c.clipped;
  return answer;
}
