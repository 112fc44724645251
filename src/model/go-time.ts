/** Go's time and duration rules (docs/go-wire.md): what a Go client accepts, and how Go converts the Chart Repo's. */

/** Go's zero time.Time as JSON. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
export const GO_ZERO_TIME_MS = -62_135_596_800_000;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** True when Go's time.Time.UnmarshalJSON accepts `s` (RFC 3339, fractional seconds optional). */
export function isRfc3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [, , mo, d, h, mi, se] = m.map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return false;
  if (m[8] !== 'Z') {
    const [oh, om] = m[8].slice(1).split(':').map(Number);
    if (oh > 23 || om > 59) return false;
  }
  return true;
}

/**
 * A Chart Repo time as Go converts it: RFC 3339 kept as sent, anything else the zero time
 * (`ok: false` so the caller can count it). Absent = the zero time too, not counted.
 */
export function goTime(x: unknown): { time: string; ok: boolean } {
  if (x === undefined || x === null || x === '') return { time: GO_ZERO_TIME, ok: true };
  if (typeof x === 'string' && x.length <= 64 && isRfc3339(x)) return { time: x, ok: true };
  return { time: GO_ZERO_TIME, ok: false };
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/;
const PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Go's time.ParseDuration -> nanoseconds, or undefined when `s` is not a Go duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = DURATION.exec(s);
  if (!m) return undefined;
  if (m[2] === '0') return 0;
  let ns = 0;
  for (const p of m[2].matchAll(PART)) ns += Number(p[1]) * UNIT_NS[p[2]];
  const out = Math.round(m[1] === '-' ? -ns : ns);
  return Number.isSafeInteger(out) ? out : undefined;
}

/** `average_analysis_time` / an analysis task's `duration`: a Go duration string, or milliseconds. */
export function goDurationNs(x: unknown): number | undefined {
  if (typeof x === 'string') return parseGoDuration(x.trim());
  if (typeof x === 'number' && Number.isFinite(x)) {
    const ns = Math.round(x * 1e6);
    return Number.isSafeInteger(ns) ? ns : undefined;
  }
  return undefined;
}
