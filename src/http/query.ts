import * as v from 'valibot';
import { APP_STAGES, HEALTH, LIMITS, TASK_STATUSES, TASK_TYPES } from '../model/index.ts';
import type { AppFilter, StateFilter } from '../protocol.ts';
import { CURSOR_MAX_CHARS, decodeCursor } from '../store/page-cursor.ts';

export const FILTER_KEYS = ['user_id', 'source_id', 'app_name', 'task_status', 'task_type', 'stuck'] as const;

/** A query value, trimmed, then bounded (a bound on the untrimmed text would refuse a value that fits). */
const value = (name: string) => v.pipe(
  v.string(),
  v.trim(),
  v.maxLength(LIMITS.queryValue, `${name} is longer than ${LIMITS.queryValue} characters`),
);

/** A filter of a few allowed values: empty (no filter) or one of them; an unknown one is a 400 naming `name`. */
const oneOf = <const T extends readonly string[]>(name: string, values: T) => v.optional(v.pipe(
  value(name),
  v.picklist(['', ...values] as const, `${name} must be one of ${values.join(', ')}`),
));

/** `true`, `false` or empty (not given). */
const trueOrFalse = (name: string) => v.optional(v.pipe(
  value(name),
  v.picklist(['', 'true', 'false'], `${name} must be true or false`),
));

/** The /state and /events filters; allowed values are picklists, so the OpenAPI document states them (openapi.ts). */
export const FILTER_SCHEMA = v.object({
  user_id: v.optional(value('user_id')),
  source_id: v.optional(value('source_id')),
  app_name: v.optional(value('app_name')),
  task_status: oneOf('task_status', TASK_STATUSES),
  task_type: oneOf('task_type', TASK_TYPES),
  stuck: trueOrFalse('stuck'),
});

/**
 * `canonical` names the filter exactly: '' when nothing filters, else the JSON of its ordered [key, value]
 * pairs. JSON escapes every character that could join or split pairs (`&`, `=`, quotes, lone surrogates), so
 * two different filters never share it: it is the cache key and the ETag variant of a filtered answer.
 */
export type ParsedFilter = { ok: true; filter: StateFilter; canonical: string } | { ok: false; message: string };

/**
 * Filters from a query string, validated. Values are trimmed and an empty value means "no filter" (as the
 * Go module's ParseFiltersFromQuery). A parameter given twice is an error rather than a silent pick.
 */
export function parseStateFilter(query: Record<string, string[]>): ParsedFilter {
  const parsed = parseSingles(FILTER_SCHEMA, FILTER_KEYS, query);
  if (!parsed.ok) return parsed;
  const filter = filterOf(parsed.output, FILTER_KEYS);
  return { ok: true, filter, canonical: canonicalOf(filter, FILTER_KEYS) };
}

/** The filters of `…/apps`: those of /state that narrow apps, and an app's stage and health. */
export const APP_FILTER_KEYS = ['user_id', 'source_id', 'app_name', 'stuck', 'stage', 'health'] as const satisfies readonly (keyof AppFilter)[];

/** `…/apps?health=`: the two the summary counts (healthy_apps, unhealthy_apps), and `unknown` for apps in neither (appHealth) */
const APP_HEALTHS = HEALTH;

/** `…/apps` pages: how many apps a page holds when not asked, and at most. */
export const PAGE_LIMITS = { default: 100, max: 1000 } as const;

const LIMIT_MESSAGE = `limit must be a whole number from 1 to ${PAGE_LIMITS.max} in plain decimal digits`;
const CURSOR_MESSAGE = 'not a cursor this API gave out (take next_cursor of the page before)';

/** `…/apps`: its filters, validated as those of /state, a page size and the cursor of an earlier page. */
export const APPS_QUERY_SCHEMA = v.object({
  user_id: FILTER_SCHEMA.entries.user_id,
  source_id: FILTER_SCHEMA.entries.source_id,
  app_name: FILTER_SCHEMA.entries.app_name,
  stuck: FILTER_SCHEMA.entries.stuck,
  stage: oneOf('stage', APP_STAGES),
  health: oneOf('health', APP_HEALTHS),
  // empty (the default), or digits read as a number in range: actions the OpenAPI converter states. Not
  // trimmed, unlike the filters: `?limit=+5` arrives as " 5" (a form-encoded space), and only digits are a limit
  limit: v.optional(v.pipe(v.string(), v.maxLength(LIMITS.queryValue, `limit is longer than ${LIMITS.queryValue} characters`), v.union([
    v.literal(''),
    v.pipe(v.string(), v.digits(LIMIT_MESSAGE), v.toNumber(), v.integer(LIMIT_MESSAGE), v.minValue(1, LIMIT_MESSAGE), v.maxValue(PAGE_LIMITS.max, LIMIT_MESSAGE)),
  ], LIMIT_MESSAGE))),
  cursor: v.optional(v.pipe(
    v.string(),
    v.maxLength(CURSOR_MAX_CHARS, `cursor is longer than ${CURSOR_MAX_CHARS} characters`),
    v.trim(),
    // the alphabet (stated in the document), then the cursor itself: one this API gave out
    v.regex(/^[A-Za-z0-9_-]*$/, CURSOR_MESSAGE),
    v.check((s) => s === '' || decodeCursor(s) !== null, CURSOR_MESSAGE),
  )),
  include: oneOf('include', ['chart_repo']),
});

export const APPS_QUERY_KEYS = [...APP_FILTER_KEYS, 'limit', 'cursor', 'include'] as const;

/**
 * `canonical` names the page exactly (filters, limit, the key it starts after): the cache key and ETag variant
 * of its answer, as a filter's canonical form.
 */
export type ParsedAppsQuery =
  | { ok: true; filter: AppFilter; limit: number; after: string | null; withChart: boolean; canonical: string }
  | { ok: false; message: string };

/** `…/apps?limit=&cursor=&user_id=&source_id=&app_name=&stuck=&stage=&health=&include=`: each at most once, trimmed; empty = not given. */
export function parseAppsQuery(query: Record<string, string[]>): ParsedAppsQuery {
  const parsed = parseSingles(APPS_QUERY_SCHEMA, APPS_QUERY_KEYS, query);
  if (!parsed.ok) return parsed;
  const { limit, cursor, include } = parsed.output;
  const filter = filterOf(parsed.output, APP_FILTER_KEYS);
  const page = {
    limit: limit === undefined || limit === '' ? PAGE_LIMITS.default : limit,
    after: cursor === undefined || cursor === '' ? null : decodeCursor(cursor),
    withChart: include === 'chart_repo',
  };
  const canonical = JSON.stringify([canonicalOf(filter, APP_FILTER_KEYS), page.limit, page.after, ...page.withChart ? ['chart_repo'] : []]);
  return { ok: true, filter, ...page, canonical };
}

type Singles<S extends v.GenericSchema> = { ok: true; output: v.InferOutput<S> } | { ok: false; message: string };

/**
 * Query parameters validated against `schema`: each given at most once (twice is an error rather than a silent
 * pick), none that only another route takes; the first problem names its parameter.
 */
function parseSingles<S extends v.GenericSchema>(schema: S, keys: readonly string[], query: Record<string, string[]>): Singles<S> {
  const other = otherRoutesParameter(query, keys);
  if (other !== null) return { ok: false, message: other };
  const input: Record<string, string> = {};
  for (const key of keys) {
    const values = query[key];
    if (!values || values.length === 0) continue;
    if (values.length > 1) return { ok: false, message: `invalid query parameter ${key}: given more than once` };
    input[key] = values[0]!;
  }
  const parsed = v.safeParse(schema, input);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = issue.path?.[0]?.key;
    return { ok: false, message: `invalid query parameter ${String(key)}: ${issue.message}` };
  }
  return { ok: true, output: parsed.output };
}

type AnyFilter = StateFilter & AppFilter;

/** The filter the parsed values give: an empty value filters nothing; stuck is a boolean. */
function filterOf<K extends keyof AnyFilter>(output: Partial<Record<K, string>>, keys: readonly K[]): Pick<AnyFilter, K> {
  const filter: AnyFilter = {};
  for (const key of keys) {
    const val = output[key];
    if (val === undefined || val === '') continue;
    if (key === 'stuck') filter.stuck = val === 'true';
    else (filter as Record<string, string>)[key] = val;
  }
  return filter;
}

/** '' when nothing filters, else the JSON of the filter's ordered [key, value] pairs. */
function canonicalOf(filter: AnyFilter, keys: readonly (keyof AnyFilter)[]): string {
  const pairs = keys.filter((k) => filter[k] !== undefined).map((k) => [k, String(filter[k])]);
  return pairs.length === 0 ? '' : JSON.stringify(pairs);
}

/** `…/tasks`: an app and/or a user, bounded and trimmed like the filters. */
export const TASKS_QUERY_SCHEMA = v.object({
  app_name: v.optional(value('app_name')),
  user_id: v.optional(value('user_id')),
});
export const TASKS_QUERY_KEYS = ['app_name', 'user_id'] as const;

export type ParsedTasksQuery = { ok: true; app_name?: string; user_id?: string } | { ok: false; message: string };

/** `…/tasks?app_name=&user_id=`: at least one, each at most once; empty = not given. */
export function parseTasksQuery(query: Record<string, string[]>): ParsedTasksQuery {
  const parsed = parseSingles(TASKS_QUERY_SCHEMA, TASKS_QUERY_KEYS, query);
  if (!parsed.ok) return parsed;
  const app_name = parsed.output.app_name || undefined;
  const user_id = parsed.output.user_id || undefined;
  if (app_name === undefined && user_id === undefined) return { ok: false, message: 'give app_name and/or user_id' };
  return { ok: true, ...(app_name === undefined ? {} : { app_name }), ...(user_id === undefined ? {} : { user_id }) };
}

/** `…/events?view=`: empty = the whole change stream; `summary` = one small event per version (no filters). */
const STREAM_VIEWS = ['summary'] as const;

/** `…/events`: the filters of /state and how to stream. */
export const STREAM_QUERY_SCHEMA = v.object({
  ...FILTER_SCHEMA.entries,
  timeline: trueOrFalse('timeline'),
  view: oneOf('view', STREAM_VIEWS),
  last_event_id: v.optional(value('last_event_id')),
});
export const STREAM_QUERY_KEYS = [...FILTER_KEYS, 'timeline', 'view', 'last_event_id'] as const;

export type ParsedStreamQuery =
  | { ok: true; filter: StateFilter; canonical: string; summaryOnly: boolean; timeline: boolean; lastEventId?: string }
  | { ok: false; message: string };

/**
 * `…/events?…&timeline=&view=&last_event_id=`: each at most once; `view=summary` takes no filters (its events carry
 * no entities to narrow) and no `timeline=true`.
 */
export function parseStreamQuery(query: Record<string, string[]>): ParsedStreamQuery {
  const parsed = parseSingles(STREAM_QUERY_SCHEMA, STREAM_QUERY_KEYS, query);
  if (!parsed.ok) return parsed;
  const filter = filterOf(parsed.output, FILTER_KEYS);
  const canonical = canonicalOf(filter, FILTER_KEYS);
  const { timeline, view, last_event_id } = parsed.output;
  if (view === 'summary' && canonical !== '') return { ok: false, message: 'invalid query parameter view: view=summary takes no filters' };
  // a summary event carries counts only: timeline entries would never come
  if (view === 'summary' && timeline === 'true') return { ok: false, message: 'invalid query parameter timeline: view=summary sends no timeline entries' };
  return {
    ok: true, filter, canonical, summaryOnly: view === 'summary', timeline: timeline === 'true',
    ...(last_event_id ? { lastEventId: last_event_id } : {}),
  };
}

/**
 * The 400 message for a request target whose path or query is not valid percent-encoding (a `%` not followed
 * by two hex digits, escapes that are not UTF-8), naming the first such path segment or parameter; or null.
 * Decoded leniently, such a value would filter on its raw text and answer an empty result, as if no app matched.
 */
export function malformedTarget(url: string): string | null {
  const path = malformedPath(url);
  if (path !== null) return path;
  const start = url.indexOf('?');
  if (start < 0 || !url.includes('%', start)) return null;
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair.includes('%') || decodes(pair)) continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    return `invalid query parameter ${(decodes(name) ? decodeURIComponent(name) : name).slice(0, 100)}: malformed percent-encoding (% must start two hex digits, and the escapes must be UTF-8)`;
  }
  return null;
}

/**
 * The same for the path: a segment that does not decode would reach a route as its raw text (`/users/%ZZ/apps`
 * answered an empty list, as if the user had no apps).
 */
function malformedPath(url: string): string | null {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.includes('%')) return null;
  const bad = path.split('/').find((segment) => segment.includes('%') && !decodes(segment));
  return bad === undefined ? null
    : `invalid path segment ${bad.slice(0, 100)}: malformed percent-encoding (% must start two hex digits, and the escapes must be UTF-8)`;
}

function decodes(text: string): boolean {
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** Every parameter some route takes: a route given one it does not take answers 400 (otherRoutesParameter). */
const KNOWN_QUERY_KEYS: ReadonlySet<string> = new Set([...FILTER_KEYS, ...APPS_QUERY_KEYS, ...TASKS_QUERY_KEYS, ...STREAM_QUERY_KEYS]);

/**
 * The 400 message for a parameter only another route takes (`/state?stage=installing`, `/overview?user_id=`),
 * or null: ignored, the answer would look filtered and not be. A name no route takes (a cache-buster such as
 * `_=…`) is ignored, as the Go module ignores every parameter it does not read. `takes`: this route's own.
 */
export function otherRoutesParameter(query: Record<string, string[]>, takes: readonly string[] = []): string | null {
  for (const key of Object.keys(query)) {
    if (!takes.includes(key) && KNOWN_QUERY_KEYS.has(key)) {
      return `invalid query parameter ${key}: not taken here (${takes.length === 0 ? 'this route takes no parameters' : `this route takes ${takes.join(', ')}`})`;
    }
  }
  return null;
}
