import { describe, expect, it } from 'vitest';
import { parsePgTime } from '../../src/sources/pg-time.ts';
import { DbInstant } from '../../src/model/go-time.ts';

describe('parsePgTime reads PostgreSQL\'s text form of a time as written', () => {
  it.each([
    ['0001-01-01 00:00:00+00', '0001-01-01T00:00:00.000Z'], // Go's zero time, not 2001
    ['0049-03-01 12:00:00+00', '0049-03-01T12:00:00.000Z'], // not 2049
    ['0075-06-30 23:59:59.5+00', '0075-06-30T23:59:59.500Z'], // not 1975
    ['2026-12-01 10:00:00.123456+00', '2026-12-01T10:00:00.123Z'],
    ['2026-12-01 10:00:00.057+00', '2026-12-01T10:00:00.057Z'],
    ['2026-12-01 10:00:00.000999+00', '2026-12-01T10:00:00.000Z'],
    ['2026-12-01 10:00:00+05:30', '2026-12-01T04:30:00.000Z'],
    ['2026-12-01 10:00:00-08', '2026-12-01T18:00:00.000Z'],
    ['0001-01-01 00:17:30+00:17:30', '0001-01-01T00:00:00.000Z'], // a local mean time offset has seconds
    ['2026-12-01 10:00:00', '2026-12-01T10:00:00.000Z'], // timestamp without zone: UTC
    ['2026-12-01', '2026-12-01T00:00:00.000Z'], // date
    ['12026-01-01 00:00:00+00', '+012026-01-01T00:00:00.000Z'],
    ['0001-01-01 00:00:00+00 BC', '0000-01-01T00:00:00.000Z'],
  ])('%s', (text, iso) => {
    expect(parsePgTime(text).toISOString()).toBe(iso);
  });

  it.each([
    ['2026-12-01 10:00:00.123456+00', 456],
    ['2026-12-01 10:00:00.5+00', 0],
    ['2026-12-01 10:00:00.000010+00', 10],
    ['2026-12-01 10:00:00+00', 0],
  ])('%s keeps its microseconds past the milliseconds (%i)', (text, micros) => {
    const d = parsePgTime(text);
    expect(d).toBeInstanceOf(DbInstant);
    expect((d as DbInstant).micros).toBe(micros);
  });

  it.each(['infinity', '-infinity', '', 'yesterday', '2026-12-01T10:00:00Z'])('%s is an invalid Date', (text) => {
    expect(Number.isNaN(parsePgTime(text).getTime())).toBe(true);
  });
});
