/** Go's time and duration rules (docs/go-wire.md): what a Go client accepts, and how Go converts the Chart Repo's. */

/** Go's zero time.Time as JSON. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const GO_ZERO_TIME_MS = -62_135_596_800_000;

/**
 * Whether a database time is a set time a Go client can read: after Go's zero time (what Go stores for an empty
 * time.Time) and no later than the year 9999, past which RFC 3339 has no spelling.
 */
export function isSetGoInstant(ms: number): boolean {
  return ms > GO_ZERO_TIME_MS && new Date(ms).getUTCFullYear() <= 9999;
}

/**
 * A database time: a Date (milliseconds) that keeps the microseconds PostgreSQL stores past them, which a Date
 * drops and Go writes (src/sources/pg-time.ts reads every timestamp as one).
 */
export class DbInstant extends Date {
  constructor(ms: number, readonly micros: number) {
    super(ms);
  }
}

/**
 * A set time as Go marshals a UTC time.Time: RFC 3339 with the fraction it holds (a DbInstant's microseconds
 * too), trailing zeros trimmed (`…00.5Z`, `…00Z`), as the Go module writes the same database time.
 */
function goUtcText(d: Date): string {
  const iso = d.toISOString();
  const micros = d instanceof DbInstant ? String(d.micros).padStart(3, '0') : '';
  const fraction = (iso.slice(20, 23) + micros).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** A database time as a Go client decodes it and Go writes it: a time that is not set (isSetGoInstant) as Go's zero time. */
export function goInstantText(d: Date): string {
  return isSetGoInstant(d.getTime()) ? goUtcText(d) : GO_ZERO_TIME;
}

/**
 * The text Go's time.Time.UnmarshalJSON accepts (Go 1.20+, src/time/format_rfc3339.go parseStrictRFC3339):
 * the RFC 3339 fast path, else time.Parse(RFC3339), whose strict checks are disabled (go.dev/issue/54580).
 * So besides RFC 3339 Go takes a one-digit hour, a comma before the fraction, any number of fractional
 * digits (truncated to nanoseconds) and a zone offset up to 24:60. Ranges are checked below.
 */
const GO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:([.,])(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

interface GoTimeParts {
  year: number; month: number; day: number; hour: number; minute: number; second: number;
  /** the fraction's digits as sent ('' when none) */
  fraction: string;
  /** the zone offset in minutes east of UTC; 0 for Z */
  offset: number;
  /** RFC 3339 proper, as every client reads it (not one of the forms only Go's lenient parser takes) */
  rfc3339: boolean;
}

const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

/** Days in `month` of `year`, proleptic Gregorian (Go's daysIn). */
export function daysIn(month: number, year: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** `s` taken apart as Go decodes it, or undefined when a Go client fails on it. */
function parseGoTime(s: string): GoTimeParts | undefined {
  const m = GO_TIME.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const [sign, oh, om] = [m[9], Number(m[10] ?? 0), Number(m[11] ?? 0)];
  // time.Parse takes 24 hours and 60 minutes ("some people do write offsets of 24 hours")
  if (oh > 24 || om > 60) return undefined;
  const fraction = m[8] ?? '';
  return {
    year, month, day, hour, minute, second, fraction,
    offset: (sign === '-' ? -1 : 1) * (oh * 60 + om),
    rfc3339: m[4].length === 2 && m[7] !== ',' && fraction.length <= 9 && oh < 24 && om < 60,
  };
}

/** True when a Go client decodes `s` as a time.Time (a document holding any other string fails whole). */
export function goDecodesTime(s: string): boolean {
  return parseGoTime(s) !== undefined;
}

/**
 * True when a Go client decodes `s` and could write its instant again: in UTC it lies within years 0–9999 (Go's
 * MarshalJSON fails past them: `9999-12-31T23:30:00-01:00` decodes, its instant cannot be written).
 */
export function goRoundTripsTime(s: string): boolean {
  const text = goTimeText(s);
  if (text === undefined) return false;
  const year = new Date(text).getUTCFullYear();
  return year >= 0 && year <= 9999;
}

/**
 * True when `s` is RFC 3339 proper as Go reads it (two-digit hour, `.` before at most nine fractional digits,
 * an offset under 24 hours, a real date): what every time key we send holds, not the forms only Go's lenient
 * parser takes (goTimeText rewrites those).
 */
export function isRfc3339Time(s: string): boolean {
  return parseGoTime(s)?.rfc3339 === true;
}

/** Go's time.IsZero: the instant (whatever its offset) is 0001-01-01T00:00:00Z, to the nanosecond. */
function isZeroInstant(p: GoTimeParts): boolean {
  if (!/^0*$/.test(p.fraction.slice(0, 9))) return false;
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day);
  d.setUTCHours(p.hour, p.minute - p.offset, p.second);
  return d.getTime() === GO_ZERO_TIME_MS;
}

/**
 * True when a Go client decodes `s` as the zero time.Time, however it is spelled (`0001-01-01T00:00:00.000Z`,
 * `…+00:00`, `0001-01-01T01:00:00+01:00`): Go's IsZero, so an omitempty time key holding it is left out.
 */
export function isGoZeroTime(s: string): boolean {
  const p = parseGoTime(s);
  return p !== undefined && isZeroInstant(p);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * The instant as Go marshals it: RFC 3339 with the fraction truncated to nanoseconds (trailing zeros
 * trimmed) in the offset sent, Z for a zero offset. An offset of 24 hours or more Go cannot marshal: the
 * instant is written in UTC instead (undefined when that leaves years 0000–9999).
 */
function marshalGoTime(p: GoTimeParts): string | undefined {
  const fraction = p.fraction.slice(0, 9).replace(/0+$/, '');
  const frac = fraction === '' ? '' : `.${fraction}`;
  let { year, month, day, hour, minute, offset } = p;
  if (Math.abs(offset) >= 24 * 60) {
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    d.setUTCHours(hour, minute - offset, p.second);
    if (d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) return undefined;
    [year, month, day, hour, minute] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
    offset = 0;
  }
  const abs = Math.abs(offset);
  const zone = offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(p.second)}${frac}${zone}`;
}

/** the digits of `s` from `at`, `n` of them, as a number; -1 when one is not a digit */
function digitsAt(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The form nearly every time comes in, checked without taking it apart (the Chart Repo collector converts tens of
 * thousands of times a pass): `YYYY-MM-DDTHH:MM:SS`, then at most nine fractional digits after a `.`, then `Z` or
 * `±HH:MM` under 24 hours, a real date, not in year 1 (where the zero instant may hide). Such a string is RFC 3339
 * and not the zero instant: goTimeText keeps it as sent, as parseGoTime would find.
 */
export function isPlainRfc3339(s: string): boolean {
  if (s.length < 20 || s.length > 35) return false;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  if (year <= 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year)) return false;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return false;
  const hour = digitsAt(s, 11, 2);
  const minute = digitsAt(s, 14, 2);
  const second = digitsAt(s, 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  let i = 19;
  if (s[i] === '.') {
    const from = ++i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === from || i - from > 9) return false;
  }
  if (s[i] === 'Z') return i + 1 === s.length;
  if ((s[i] !== '+' && s[i] !== '-') || i + 6 !== s.length || s[i + 3] !== ':') return false;
  const oh = digitsAt(s, i + 1, 2);
  const om = digitsAt(s, i + 4, 2);
  return oh >= 0 && oh < 24 && om >= 0 && om < 60;
}

/**
 * A time string for a Go `time` field: the zero instant, however spelled, as Go's zero time
 * (`0001-01-01T00:00:00Z`, which an omitempty key then leaves out); any other kept as sent when it is RFC 3339
 * already (a Go client reads the same instant); a form only Go's lenient parser takes rewritten as Go would
 * marshal it, so every client can read it; undefined when a Go client would fail on it.
 */
export function goTimeText(s: string): string | undefined {
  if (isPlainRfc3339(s)) return s;
  const p = parseGoTime(s);
  if (p === undefined) return undefined;
  if (isZeroInstant(p)) return GO_ZERO_TIME;
  return p.rfc3339 ? s : marshalGoTime(p);
}

/**
 * A Chart Repo time as Go converts it: what Go decodes kept (goTimeText), anything else the zero time
 * (`ok: false` so the caller can count it). Absent = the zero time too, not counted.
 */
export function goTime(x: unknown): { time: string; ok: boolean } {
  if (x === undefined || x === null || x === '') return { time: GO_ZERO_TIME, ok: true };
  const time = typeof x === 'string' ? goTimeText(x) : undefined;
  return time === undefined ? { time: GO_ZERO_TIME, ok: false } : { time, ok: true };
}

const UNIT_NS: Record<string, bigint> = { ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const DURATION = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/;
const PART = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/g;
const TWO_63 = 1n << 63n;

/** Go's leadingFraction: the digits as an integer and 10^(digits taken); digits past uint64 overflow are skipped. */
function leadingFraction(digits: string): { f: bigint; scale: number } {
  let f = 0n;
  let scale = 1;
  for (const c of digits) {
    if (f > (TWO_63 - 1n) / 10n) break;
    const y = f * 10n + BigInt(c);
    if (y > TWO_63) break;
    f = y;
    scale *= 10;
  }
  return { f, scale };
}

/**
 * Go's time.ParseDuration -> nanoseconds, or undefined when `s` is not a Go duration (or not a safe integer).
 * Computed as Go computes it: each part's integer digits times the unit exactly, plus its fraction as
 * float64(f) * (unit / scale) **truncated** to whole nanoseconds ("1.5ns" is 1, "1.9999999999s" 1999999999).
 */
export function parseGoDuration(s: string): number | undefined {
  const m = DURATION.exec(s);
  if (!m) return undefined;
  if (m[2] === '0') return 0;
  let ns = 0n;
  for (const p of m[2].matchAll(PART)) {
    const unit = UNIT_NS[p[3]];
    let part = BigInt(p[1] === '' ? '0' : p[1]) * unit;
    const { f, scale } = leadingFraction(p[2] ?? '');
    if (f > 0n) part += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
    ns += part;
    if (ns > TWO_63) return undefined;
  }
  const out = Number(m[1] === '-' ? -ns : ns);
  return Number.isSafeInteger(out) ? out : undefined;
}

/**
 * `average_analysis_time` / an analysis task's `duration`: a Go duration string, or milliseconds. The string
 * is not trimmed: Go's ParseDuration rejects " 1s", so a padded one is a bad duration as it is in Go.
 */
export function goDurationNs(x: unknown): number | undefined {
  if (typeof x === 'string') return parseGoDuration(x);
  if (typeof x === 'number' && Number.isFinite(x)) {
    const ns = Math.round(x * 1e6);
    return Number.isSafeInteger(ns) ? ns : undefined;
  }
  return undefined;
}
