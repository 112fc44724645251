import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GO_ZERO_TIME, daysIn, goDecodesTime, goTime, goTimeText, isGoZeroTime, isPlainRfc3339, isRfc3339Time, parseGoDuration,
} from '../../src/model/go-time.ts';

/**
 * Go's time.Time.UnmarshalJSON, as read from src/time/format_rfc3339.go (parseStrictRFC3339: the RFC 3339
 * fast path, else time.Parse(RFC3339) with its strict checks disabled) and format.go (parse).
 */
describe('goDecodesTime: the times a Go client decodes', () => {
  it.each([
    GO_ZERO_TIME, '2026-12-01T10:00:00Z', '2026-12-01T10:00:00.123456789+05:30', '2026-12-01T23:59:59-12:00',
    '2024-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '0000-02-29T00:00:00Z', '9999-12-31T23:59:59Z',
    '2026-04-30T00:00:00Z', '2026-01-31T00:00:00Z',
    // what only time.Parse takes: a one-digit hour, a comma, more than nine digits, an offset of 24:60
    '2026-12-01T9:00:00Z', '2026-12-01T10:00:00,5Z', '2026-12-01T10:00:00.1234567891234Z',
    '2026-12-01T10:00:00+24:00', '2026-12-01T10:00:00-05:60',
  ])('accepts %s', (s) => {
    expect(goDecodesTime(s)).toBe(true);
  });

  it.each([
    // impossible dates: the day is checked against the month, leap years included
    '2026-02-30T10:00:00Z', '2026-02-29T10:00:00Z', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z',
    '2026-06-31T00:00:00Z', '2026-09-31T00:00:00Z', '2026-11-31T00:00:00Z', '2026-01-32T00:00:00Z',
    '2026-00-10T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-00T00:00:00Z',
    '2026-12-01T24:00:00Z', '2026-12-01T10:60:00Z', '2026-12-01T10:00:60Z',
    '2026-12-01T10:00:00+25:00', '2026-12-01T10:00:00+05:61',
    // shapes Go does not take
    '2026-12-01T10:00:00', '2026-12-01 10:00:00Z', '2026-12-01t10:00:00Z', '2026-12-01T10:00:00z',
    '2026-12-01T10:00:00.Z', '2026-12-01T10:00:00+0530', '2026-12-01T10:00:00+5:30', '2026-1-01T10:00:00Z',
    '26-12-01T10:00:00Z', '+2026-12-01T10:00:00Z', '2026-12-01T100:00:00Z', '2026-12-01T10:0:00Z',
    '2026-12-01', '', 'yesterday', '1733047200', '２０２６-12-01T10:00:00Z',
  ])('rejects %s', (s) => {
    expect(goDecodesTime(s)).toBe(false);
  });

  it('checks every day against its month as the calendar does, years 0000 to 9999', () => {
    // the oracle: the last day of the month from JavaScript's proleptic Gregorian calendar
    const lastDay = (month: number, year: number): number => {
      const d = new Date(0);
      d.setUTCFullYear(year, month, 0);
      return d.getUTCDate();
    };
    fc.assert(fc.property(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }),
      (year, month, day) => {
        expect(daysIn(month, year)).toBe(lastDay(month, year));
        const s = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T10:00:00Z`;
        expect(goDecodesTime(s)).toBe(day <= lastDay(month, year));
      }));
  });
});

describe('isRfc3339Time: the times we send', () => {
  it.each([
    GO_ZERO_TIME, '2026-12-01T10:00:00Z', '2026-12-01T10:00:00.123456789+05:30', '2026-12-01T10:00:00.000Z',
    '2026-12-01T10:00:00+00:00', '2026-12-01T23:59:59-23:59', '2024-02-29T00:00:00Z',
  ])('takes %s', (s) => {
    expect(isRfc3339Time(s)).toBe(true);
  });

  it.each([
    // what Go's lenient decoder takes, but RFC 3339 does not
    '2026-12-01T1:00:00Z', '2026-12-01T10:00:00,5Z', '2026-12-01T10:00:00.1234567891Z', '2026-12-01T10:00:00+24:00',
    '2026-12-01T10:00:00-05:60',
    // what nobody takes
    '2026-02-30T10:00:00Z', '2026-12-01T10:00:00', 'yesterday', '',
  ])('refuses %s', (s) => {
    expect(isRfc3339Time(s)).toBe(false);
  });

  it('holds for whatever goTimeText writes', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
      (s, d) => {
        // (an RFC 3339 time is always written: the check below is not left to strings it refuses)
        expect(goTimeText(d.toISOString())).toBeDefined();
        for (const x of [s, d.toISOString(), d.toISOString().replace('T0', 'T').replace('.', ',')]) {
          const out = goTimeText(x);
          if (out !== undefined) expect(isRfc3339Time(out)).toBe(true);
        }
      }));
  });
});

describe('goTimeText: a time as we send it', () => {
  it.each([
    ['2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z'],
    ['2026-12-01T10:00:00+00:00', '2026-12-01T10:00:00+00:00'],
    ['2026-12-01T10:00:00.123456789+05:30', '2026-12-01T10:00:00.123456789+05:30'],
  ])('keeps RFC 3339 as sent: %s', (s, out) => {
    expect(goTimeText(s)).toBe(out);
  });

  it.each([
    ['2026-12-01T9:05:00Z', '2026-12-01T09:05:00Z'],
    ['2026-12-01T10:00:00,5Z', '2026-12-01T10:00:00.5Z'],
    ['2026-12-01T10:00:00.1234567891234Z', '2026-12-01T10:00:00.123456789Z'],
    ['2026-12-01T10:00:00.1000000000+02:00', '2026-12-01T10:00:00.1+02:00'],
    ['2026-12-01T10:00:00.0000000000Z', '2026-12-01T10:00:00Z'],
    ['2026-12-01T10:00:00-00:60', '2026-12-01T10:00:00-01:00'],
    // Go decodes an offset of 24 hours but cannot marshal it: the same instant in UTC
    ['2026-12-01T10:00:00+24:00', '2026-11-30T10:00:00Z'],
    ['2026-12-31T23:30:00-23:60', '2027-01-01T23:30:00Z'],
  ])('writes what only Go\'s lenient parser takes as Go marshals it: %s', (s, out) => {
    expect(goTimeText(s)).toBe(out);
  });

  it('leaves out what a Go client fails on, and what cannot be written in years 0000-9999', () => {
    expect(goTimeText('2026-02-30T10:00:00Z')).toBeUndefined();
    expect(goTimeText('9999-12-31T23:00:00-24:00')).toBeUndefined();
  });

  it('sends only RFC 3339 a Go client decodes, for the same instant, whatever form Go accepted', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const form = fc.record({
      year: fc.integer({ min: 1, max: 9998 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 23 }), oneDigitHour: fc.boolean(), minute: two(59), second: two(59),
      fraction: fc.option(fc.tuple(fc.constantFrom('.', ','), fc.stringMatching(/^\d{1,15}$/)), { nil: undefined }),
      zone: fc.option(fc.tuple(fc.constantFrom('+', '-'), two(24), two(60)), { nil: undefined }),
    });
    fc.assert(fc.property(form, (f) => {
      const hour = f.oneDigitHour && f.hour < 10 ? String(f.hour) : String(f.hour).padStart(2, '0');
      const frac = f.fraction === undefined ? '' : f.fraction.join('');
      const zone = f.zone === undefined ? 'Z' : `${f.zone[0]}${f.zone[1]}:${f.zone[2]}`;
      const s = `${String(f.year).padStart(4, '0')}-${String(f.month).padStart(2, '0')}-${String(f.day).padStart(2, '0')}T${hour}:${f.minute}:${f.second}${frac}${zone}`;
      expect(goDecodesTime(s)).toBe(true);
      const out = goTimeText(s);
      expect(out).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/);
      expect(goDecodesTime(out!)).toBe(true);
      // the instant, to the millisecond JavaScript keeps: the oracle builds it from the parts
      const d = new Date(0);
      d.setUTCFullYear(f.year, f.month - 1, f.day);
      const offset = f.zone === undefined ? 0 : (f.zone[0] === '-' ? -1 : 1) * (Number(f.zone[1]) * 60 + Number(f.zone[2]));
      d.setUTCHours(f.hour, Number(f.minute) - offset, Number(f.second), Number(frac.slice(1, 4).padEnd(3, '0')));
      expect(Date.parse(out!)).toBe(d.getTime());
    }), { numRuns: 500 });
  });
});

describe('the zero time, however it is spelled (Go\'s IsZero: the instant)', () => {
  const zeros = [
    GO_ZERO_TIME, '0001-01-01T00:00:00+00:00', '0001-01-01T00:00:00-00:00', '0001-01-01T00:00:00.000Z',
    '0001-01-01T00:00:00.000000000+00:00', '0001-01-01T01:00:00+01:00', '0000-12-31T23:00:00-01:00',
    // forms only Go's lenient parser takes; a fraction past the nanosecond is truncated, as Go does
    '0001-01-01T0:00:00Z', '0001-01-01T00:00:00,0Z', '0001-01-01T00:00:00.0000000001Z', '0000-12-31T23:00:00-00:60',
  ];

  it.each(zeros)('%s is the zero time, written as Go writes it', (s) => {
    expect(isGoZeroTime(s)).toBe(true);
    expect(goTimeText(s)).toBe(GO_ZERO_TIME);
    expect(goTime(s)).toEqual({ time: GO_ZERO_TIME, ok: true });
  });

  it.each([
    '0001-01-01T00:00:00.000000001Z', '0001-01-01T00:00:01Z', '0001-01-01T00:00:00+01:00', '0001-01-01T01:00:00Z',
    '1970-01-01T00:00:00Z', '0001-01-01T00:00:00', '', 'yesterday',
  ])('%j is not', (s) => {
    expect(isGoZeroTime(s)).toBe(false);
  });
});

describe('goTime: a Chart Repo time as Go converts it', () => {
  it('absent is the zero time; what Go would not decode is the zero time, counted', () => {
    expect(goTime(undefined)).toEqual({ time: GO_ZERO_TIME, ok: true });
    expect(goTime('2026-02-30T10:00:00Z')).toEqual({ time: GO_ZERO_TIME, ok: false });
    expect(goTime(1733047200)).toEqual({ time: GO_ZERO_TIME, ok: false });
  });

  it('keeps more than nine fractional digits, as Go does (to the nanosecond)', () => {
    expect(goTime('2026-12-01T10:00:00.12345678912Z')).toEqual({ time: '2026-12-01T10:00:00.123456789Z', ok: true });
  });
});

describe('isPlainRfc3339: the fast way for the form nearly every time comes in', () => {
  it.each(['2026-12-01T10:00:00Z', '2026-12-01T10:00:00.123456789+05:30', '2024-02-29T23:59:59-12:00', '9999-12-31T23:59:59.5Z'])('takes %s as sent', (s) => {
    expect(isPlainRfc3339(s)).toBe(true);
    expect(goTimeText(s)).toBe(s);
  });

  it('takes a string only where the full parse finds it RFC 3339 and not the zero instant', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const near = fc.tuple(
      fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')), two(13), two(32), fc.constantFrom('T', 't', ' '),
      two(25), two(61), two(61), fc.constantFrom('', '.', '.5', ',5', '.1234567890', '.123456789'), fc.constantFrom('Z', 'z', '+05:30', '-24:00', '+00:60', '+0530', ''),
    ).map(([y, mo, d, t, h, mi, se, f, z]) => `${y}-${mo}-${d}${t}${h}:${mi}:${se}${f}${z}`);
    fc.assert(fc.property(fc.oneof(near, fc.string({ maxLength: 36 })), (s) => {
      if (isPlainRfc3339(s)) expect(isRfc3339Time(s) && !isGoZeroTime(s)).toBe(true);
    }), { numRuns: 5000 });
  });
});

describe('parseGoDuration: Go\'s time.ParseDuration', () => {
  // each expected value printed by Go 1.19's time.ParseDuration
  it.each([
    ['1.5ns', 1], ['0.5ns', 0], ['-1.5ns', -1], ['1.9999999999s', 1_999_999_999], ['1.0000000001s', 1_000_000_000],
    ['1.123456789123456789123s', 1_123_456_789], ['3.0000000003ms', 3_000_000], ['0.3333333333h', 1_199_999_999_880],
    ['0.99999999999999999999h', 3_600_000_000_000], ['1m0.5ns', 60_000_000_000],
    ['2.5s', 2_500_000_000], ['150ms', 150_000_000], ['1h2m3.5s', 3_723_500_000_000], ['-3us', -3000],
    ['.5us', 500], ['1.s', 1_000_000_000], ['0.1µs', 100], ['0.1μs', 100], ['0', 0], ['+0', 0], ['-0', 0],
  ])('%s is %i ns: a fraction of a nanosecond is truncated, as Go truncates it', (s, ns) => {
    expect(parseGoDuration(s)).toBe(ns);
  });

  it.each(['1e3s', '5 minutes', '', '1', '.s', ' 1s', '2562048h',
    // Go decodes these, but the nanoseconds are past 2^53: not a number we can send exactly
    '2562047h', '9007199.254740993s',
  ])('%j is not a duration we send', (s) => {
    expect(parseGoDuration(s)).toBeUndefined();
  });
});
