/**
 * Chart Repo normalizer (pure): one answer validated, answers of every (user, source) pair merged, and the
 * `chart_repo` component built from how the pass went. docs/architecture.md, Sources.
 *
 * Validation rules, liberal where the Chart Repo omits empty fields (Go also sends nil slices and pointers
 * as null, so null means absent too):
 * - the envelope {success, message, data} must fit, or the whole answer fails;
 * - a list item (app, image, image node, hydrator or analyzer task) with a field that does not fit is dropped
 *   alone and counted;
 * - a block (system, hydrator counters, image analyzer) is not an item: a bad field in it is dropped alone
 *   and counted, so one odd counter does not hide the rest.
 */
import * as v from 'valibot';
import {
  AnalyzerTask, ChartRepoApp, ChartRepoImage, ChartRepoSystem, HydratorStatus, HydratorTask, ImageAnalyzerStatus,
  ImageNode, LIMITS,
} from '../model/index.ts';
import type { ChartRepoStatus, ComponentStatus } from '../model/index.ts';

type System = v.InferOutput<typeof ChartRepoSystem>;

/** One pair's answer, validated. */
export interface ChartRepoAnswer {
  system?: System;
  apps: ChartRepoApp[];
  images: ChartRepoImage[];
  hydrator?: HydratorStatus;
  image_analyzer?: ImageAnalyzerStatus;
  /** items and fields that did not fit and were left out */
  dropped: number;
}

export type NormalizeResult = { ok: true; answer: ChartRepoAnswer } | { ok: false; error: string };

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => x !== null && typeof x === 'object' && !Array.isArray(x);

/** Go's null for nil slices and pointers means the same as an omitted field. */
function withoutNulls(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, x] of Object.entries(o)) if (x !== null) out[k] = isObj(x) ? withoutNulls1(x) : x;
  return out;
}
/** one level below an item is enough (current_step, timestamps, error …); deeper is free-form JSON */
function withoutNulls1(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, x] of Object.entries(o)) if (x !== null) out[k] = x;
  return out;
}

class Counter { n = 0; }

/** Validates a list item by item; a bad item, a non-list or items past the bound are counted. */
function list<T>(raw: unknown, check: (item: unknown, c: Counter) => T | undefined, c: Counter): T[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) { c.n += 1; return []; }
  const out: T[] = [];
  const n = Math.min(raw.length, LIMITS.listItems);
  c.n += raw.length - n;
  for (let i = 0; i < n; i++) {
    const item = check(raw[i], c);
    if (item === undefined) c.n += 1;
    else out.push(item);
  }
  return out;
}

/**
 * Never throws: a pipe stops at its first failed check (so a size check never serializes what the depth
 * check already refused), and a schema that throws anyway on hostile input counts as a misfit.
 */
function parse<S extends v.GenericSchema>(schema: S, x: unknown): v.InferOutput<S> | undefined {
  try {
    const r = v.safeParse(schema, x, { abortPipeEarly: true });
    return r.success ? r.output : undefined;
  } catch {
    return undefined;
  }
}

function item<S extends v.GenericSchema>(schema: S) {
  return (raw: unknown): v.InferOutput<S> | undefined => (isObj(raw) ? parse(schema, withoutNulls(raw)) : undefined);
}

const checkApp = item(ChartRepoApp);
const checkNode = item(ImageNode);
const checkHydratorTask = item(HydratorTask);
const checkAnalyzerTask = item(AnalyzerTask);
// an image is checked without its nodes, which are items of their own
const ImageWithoutNodes = v.object({ ...ChartRepoImage.entries, nodes: v.optional(v.unknown()) });
const checkImageOnly = item(ImageWithoutNodes);
function checkImage(raw: unknown, c: Counter): ChartRepoImage | undefined {
  const image = checkImageOnly(raw);
  if (image === undefined) return undefined;
  const { nodes: rawNodes, ...rest } = image;
  const nodes = list(rawNodes, checkNode, c);
  return nodes === undefined ? rest : { ...rest, nodes };
}

/** A block validated field by field; `lists` name its fields that are lists of items. */
function block<T>(
  raw: unknown, entries: v.ObjectEntries, lists: Record<string, (x: unknown) => unknown>, c: Counter,
): T | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) { c.n += 1; return undefined; }
  const out: Obj = {};
  for (const key of Object.keys(entries)) {
    const x = raw[key];
    if (x === undefined || x === null) continue;
    const check = lists[key];
    if (check) {
      out[key] = list(x, check, c);
      continue;
    }
    const value = parse(entries[key], x);
    if (value !== undefined) out[key] = value;
    else c.n += 1;
  }
  // a block with nothing valid left is absent, so it cannot hide a good block of another pair in the merge
  if (Object.keys(out).length === 0) return undefined;
  // every value was checked against its own entry schema, so the whole fits T
  return out as T;
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

/** Validates one answer of the status endpoint. */
export function normalizeAnswer(json: unknown): NormalizeResult {
  const env = v.safeParse(Envelope, json);
  if (!env.success) return { ok: false, error: `not the envelope: ${describe(env.issues).slice(0, 200)}` };
  if (!env.output.success) {
    return { ok: false, error: `chart repo answered success=false: ${(env.output.message ?? '').slice(0, 200)}` };
  }
  const data = env.output.data ?? {};
  const c = new Counter();
  const answer: ChartRepoAnswer = {
    apps: list(data.apps, checkApp, c) ?? [],
    images: list(data.images, checkImage, c) ?? [],
    dropped: 0,
  };
  const system = block<System>(data.system, ChartRepoSystem.entries, {}, c);
  if (system) answer.system = system;
  const tasks = data.tasks;
  if (tasks !== undefined && tasks !== null && !isObj(tasks)) c.n += 1;
  if (isObj(tasks)) {
    const taskLists = { tasks: checkHydratorTask, recent_failed: checkHydratorTask };
    const hydrator = block<HydratorStatus>(tasks.hydrator, HydratorStatus.entries, taskLists, c);
    if (hydrator) answer.hydrator = hydrator;
    const analyzerLists = {
      queued_tasks: checkAnalyzerTask, processing_tasks: checkAnalyzerTask,
      recent_completed: checkAnalyzerTask, recent_failed: checkAnalyzerTask,
    };
    const analyzer = block<ImageAnalyzerStatus>(tasks.image_analyzer, ImageAnalyzerStatus.entries, analyzerLists, c);
    if (analyzer) answer.image_analyzer = analyzer;
  }
  answer.dropped = c.n;
  return { ok: true, answer };
}

const HYDRATOR_COUNTERS = ['queue_length', 'active_tasks', 'completed_tasks', 'failed_tasks', 'worker_count'] as const;

/**
 * Merges the answers of every pair, in pair order: apps, images and hydrator tasks concatenated, hydrator
 * counters summed (absent = 0), the first image_analyzer and the first system block kept.
 */
export function mergeAnswers(answers: readonly ChartRepoAnswer[], lastUpdate: string): ChartRepoStatus {
  const out: ChartRepoStatus = {
    apps: answers.flatMap((a) => a.apps),
    images: answers.flatMap((a) => a.images),
    last_update: lastUpdate,
  };
  const system = answers.find((a) => a.system)?.system;
  if (system) out.system = system;
  const hydrators = answers.flatMap((a) => (a.hydrator ? [a.hydrator] : []));
  const analyzer = answers.find((a) => a.image_analyzer)?.image_analyzer;
  if (hydrators.length > 0 || analyzer) {
    out.tasks = {};
    if (hydrators.length > 0) {
      const hydrator: HydratorStatus = {
        tasks: hydrators.flatMap((h) => h.tasks ?? []),
        recent_failed: hydrators.flatMap((h) => h.recent_failed ?? []),
      };
      for (const k of HYDRATOR_COUNTERS) hydrator[k] = hydrators.reduce((sum, h) => sum + (h[k] ?? 0), 0);
      out.tasks.hydrator = hydrator;
    }
    if (analyzer) out.tasks.image_analyzer = analyzer;
  }
  return out;
}

export interface PairFailure {
  user: string;
  source: string;
  error: string;
}

export interface ChartRepoPass {
  pairs: number;
  failures: readonly PairFailure[];
  dropped: number;
  now: string;
}

const MESSAGE_MAX = 1024;

/**
 * The `chart_repo` component: running when every pair answered, degraded (still healthy: most of the view is
 * fresh) when only some failed, error when none did.
 */
export function chartRepoComponent(p: ChartRepoPass): ComponentStatus {
  const failed = p.failures.length;
  const allFailed = p.pairs > 0 && failed >= p.pairs;
  // (the latency is freshness: it travels in the source's counters, not in this versioned component)
  const metrics: Record<string, number> = { pairs: p.pairs, failed_pairs: failed, dropped_items: p.dropped };
  const c: ComponentStatus = {
    name: 'chart_repo',
    healthy: !allFailed,
    status: allFailed ? 'error' : failed > 0 ? 'degraded' : 'running',
    metrics,
    last_check: p.now,
  };
  if (failed > 0) c.message = failureMessage(p.failures, p.pairs);
  else if (p.dropped > 0) c.message = `${p.dropped} invalid items dropped`;
  return c;
}

/** "2/5 requests failed: alice/market: timeout after 5000 ms; …", cut to a bounded length. */
export function failureMessage(failures: readonly PairFailure[], pairs: number): string {
  const head = `${failures.length}/${pairs} requests failed: `;
  const parts = failures.map((f) => `${f.user}/${f.source}: ${f.error}`);
  const text = head + parts.join('; ');
  return text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX - 3)}...`;
}
