import { DbInstant } from '../model/go-time.ts';

/**
 * PostgreSQL's text form of `timestamptz`, `timestamp` and `date` as a Date (pure). postgres.js parses them with
 * `new Date(text)`, and V8 reads PostgreSQL's `0001-01-01 00:00:00+00` — what Go writes for an empty
 * `time.Time` — as the year 2001 (years 0–49 → 20xx, 50–99 → 19xx): a zero time came out as a real one.
 * Every year is read as written; a `timestamp` without a zone is UTC; `infinity`, `-infinity` and anything
 * unrecognised are an invalid Date, as before. The microseconds past the milliseconds are kept (DbInstant), so a
 * time is written to the microsecond, as the Go module writes it.
 */
const PG_TIME = /^(\d{4,})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(\.\d{1,9})?)?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?( BC)?$/;

export function parsePgTime(text: string): Date {
  const m = PG_TIME.exec(text);
  if (!m) return new Date(Number.NaN);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, sign, oh = '0', om = '0', os = '0', bc] = m;
  // year 1 BC is year 0 in the proleptic Gregorian calendar Date counts in
  const year = bc ? 1 - Number(y) : Number(y);
  // (milliseconds from the digits, not Number(frac) * 1000: .057 * 1000 is 57.00000000000001, and some round down)
  const ms = frac ? Number(frac.slice(1, 4).padEnd(3, '0')) : 0;
  // (PostgreSQL keeps microseconds: the three digits past the milliseconds, kept for Go's text of the time)
  const micros = frac ? Number(frac.slice(4, 7).padEnd(3, '0')) : 0;
  const out = new Date(0);
  // (setUTCFullYear, not Date.UTC: Date.UTC also maps the years 0–99 to 19xx)
  out.setUTCFullYear(year, Number(mo) - 1, Number(d));
  out.setUTCHours(Number(h), Number(mi), Number(s), ms);
  const offsetS = (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * (sign === '-' ? -1 : 1);
  return new DbInstant(out.getTime() - offsetS * 1000, micros);
}

/**
 * postgres.js `types` entries that read these three types with parsePgTime (no array types: we read none) and
 * send a string parameter as written (postgres.js's own would pass it through `new Date` too).
 */
export const PG_TIME_TYPES = {
  pg_time: {
    to: 1184,
    from: [1082, 1114, 1184],
    serialize: (x: Date | string) => (x instanceof Date ? x.toISOString() : String(x)),
    parse: parsePgTime,
  },
};
