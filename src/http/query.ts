import * as v from 'valibot';
import { LIMITS, TASK_STATUSES, TASK_TYPES } from '../model/index.ts';
import type { StateFilter } from '../protocol.ts';

export const FILTER_KEYS = ['user_id', 'source_id', 'app_name', 'task_status', 'task_type', 'stuck'] as const;

const value = (name: string) => v.pipe(
  v.string(),
  v.maxLength(LIMITS.queryValue, `${name} is longer than ${LIMITS.queryValue} characters`),
  v.trim(),
);

/** The /state and /events filters; allowed values are picklists, so the OpenAPI document states them (openapi.ts). */
export const FILTER_SCHEMA = v.object({
  user_id: v.optional(value('user_id')),
  source_id: v.optional(value('source_id')),
  app_name: v.optional(value('app_name')),
  task_status: v.optional(v.pipe(
    value('task_status'),
    v.picklist(['', ...TASK_STATUSES], `task_status must be one of ${TASK_STATUSES.join(', ')}`),
  )),
  task_type: v.optional(v.pipe(
    value('task_type'),
    v.picklist(['', ...TASK_TYPES], `task_type must be one of ${TASK_TYPES.join(', ')}`),
  )),
  stuck: v.optional(v.pipe(
    value('stuck'),
    v.picklist(['', 'true', 'false'], 'stuck must be true or false'),
  )),
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
  const input: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const values = query[key];
    if (!values || values.length === 0) continue;
    if (values.length > 1) return { ok: false, message: `invalid query parameter ${key}: given more than once` };
    input[key] = values[0]!;
  }
  const parsed = v.safeParse(FILTER_SCHEMA, input);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const key = issue.path?.[0]?.key;
    return { ok: false, message: `invalid query parameter ${String(key)}: ${issue.message}` };
  }
  const filter: StateFilter = {};
  for (const key of FILTER_KEYS) {
    const val = parsed.output[key];
    if (val === undefined || val === '') continue;
    if (key === 'stuck') filter.stuck = val === 'true';
    else filter[key] = val;
  }
  const pairs = FILTER_KEYS.filter((k) => filter[k] !== undefined).map((k) => [k, String(filter[k])]);
  return { ok: true, filter, canonical: pairs.length === 0 ? '' : JSON.stringify(pairs) };
}

export type ParsedTasksQuery = { ok: true; app_name?: string; user_id?: string } | { ok: false; message: string };

/** `…/tasks?app_name=&user_id=`: at least one, each at most once, trimmed and bounded. */
export function parseTasksQuery(query: Record<string, string[]>): ParsedTasksQuery {
  const out: { app_name?: string; user_id?: string } = {};
  for (const key of ['app_name', 'user_id'] as const) {
    const values = query[key];
    if (!values || values.length === 0) continue;
    if (values.length > 1) return { ok: false, message: `invalid query parameter ${key}: given more than once` };
    const val = values[0]!.trim();
    if (val === '') continue;
    const bad = checkParam(key, val);
    if (bad) return { ok: false, message: bad };
    out[key] = val;
  }
  if (out.app_name === undefined && out.user_id === undefined) return { ok: false, message: 'give app_name and/or user_id' };
  return { ok: true, ...out };
}

/** A path parameter: bounded like every identifier. */
export function checkParam(name: string, val: string): string | null {
  if (val.length === 0) return `${name} must not be empty`;
  if (val.length > LIMITS.id) return `${name} is longer than ${LIMITS.id} characters`;
  return null;
}
