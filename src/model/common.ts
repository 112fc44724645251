import * as v from 'valibot';
import { LIMITS } from './limits.ts';
import { isRfc3339Time } from './go-time.ts';

/** A JSON object (not null, not a list): what a source's row or payload must be before its fields are read. */
export const isObj = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** A bounded identifier string. */
export const Id = v.pipe(v.string(), v.maxLength(LIMITS.id));
/** A bounded free-text string. */
export const Text = v.pipe(v.string(), v.maxLength(LIMITS.text));
/** RFC 3339 time kept as a string (serializing Date objects costs twice as much). */
export const Time = v.pipe(v.string(), v.maxLength(64));

/**
 * Whether a JSON value holds anything more than `max` levels below itself. The walk goes no deeper than `max`:
 * no input can overflow the stack (JSON.parse takes any depth; a walk or a stringify of it may not).
 */
export function nestsDeeperThan(x: unknown, max: number): boolean {
  if (x === null || typeof x !== 'object') return false;
  const inside = Array.isArray(x) ? x : Object.values(x);
  return max === 0 ? inside.length > 0 : inside.some((y) => nestsDeeperThan(y, max - 1));
}

/** Free-form JSON object, bounded in depth and size. */
/** The bound on a free JSON map from a source: one check, depth first (stringifying a hostile deep object would overflow the stack). */
export const jsonBound = v.rawCheck<Record<string, unknown>>(({ dataset, addIssue }) => {
  if (!dataset.typed) return;
  if (nestsDeeperThan(dataset.value, LIMITS.jsonDepth)) addIssue({ message: `nested deeper than ${LIMITS.jsonDepth}` });
  else if (JSON.stringify(dataset.value).length > LIMITS.jsonBytes) addIssue({ message: `larger than ${LIMITS.jsonBytes} bytes` });
});

export const JsonObject = v.pipe(v.record(v.string(), v.unknown()), jsonBound);
export type JsonObject = v.InferOutput<typeof JsonObject>;

/** A Go integer field: a Go client fails on a fraction. */
export const GoInt = v.pipe(v.number(), v.safeInteger());
/** A count or a version: a whole number from 0 (the OpenAPI document says `integer`, minimum 0). */
export const Count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
/**
 * A Go time.Time as we send it: RFC 3339 with a real date (no 30 February), Go's zero time included, or a Go
 * client fails on the whole document. Stricter than Go's decoder, which also takes a one-digit hour, a comma
 * before the fraction, more than nine fractional digits and an offset of 24:00 (goDecodesTime): what the
 * Chart Repo sends in those forms is rewritten by goTimeText, so no other client has to read them. An output
 * schema: input times are read leniently by goDecodesTime / goTimeText. None longer than 35 characters.
 */
export const GoTime = v.pipe(v.string(), v.maxLength(64), v.check(isRfc3339Time, 'not an RFC 3339 time'));

/** additive: the store's stuck verdict on an app or task (set by the store, the same keys on both) */
export const StuckEntries = {
  /** held in its stage (or status) past its limit, or its progress stalled */
  stuck: v.optional(v.boolean()),
  stuck_reason: v.optional(Text),
  /** since when it has been stuck where it is (RFC 3339; set by the store with `stuck`) */
  stuck_since: v.optional(Time),
};
