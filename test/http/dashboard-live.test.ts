import { describe, expect, it } from 'vitest';

// the dashboards' own modules: plain browser JS without types, importable here (they touch the DOM only when called)
const { dataKey, etagHolds, opaqueOf, parseEventId } = await import('../../src/http/dashboard/version-tag.js' as string) as {
  parseEventId(id: unknown): { epoch: string; version: number; content: string } | null;
  opaqueOf(etag: unknown): string;
  etagHolds(etag: unknown, content: unknown): boolean;
  dataKey(epoch: unknown, etag: unknown): string;
};
const { balancedColumns } = await import('../../src/http/dashboard/card-grid.js' as string) as {
  balancedColumns(n: number, fit: number): number;
};

describe('dashboard version tags: content and epoch, never version numbers', () => {
  it('reads a stream event id <epoch>-<version>.<content> (the content may hold - and _)', () => {
    expect(parseEventId('0694a089-42.3f9c1e07a2b4d5c6-_x')).toEqual({ epoch: '0694a089', version: 42, content: '3f9c1e07a2b4d5c6-_x' });
    for (const bad of ['', '42', '0694a089-42', 'x-y.z', null, undefined, 7]) expect(parseEventId(bad), String(bad)).toBeNull();
  });

  it('an ETag holds a content when it names it, or a variant of it (query, encoding)', () => {
    expect(etagHolds('W/"abc"', 'abc')).toBe(true);
    expect(etagHolds('W/"abc.q1"', 'abc')).toBe(true);
    expect(etagHolds('W/"abc-br"', 'abc')).toBe(true);
    expect(etagHolds('"abc"', 'abc')).toBe(true);
    expect(etagHolds('W/"abd"', 'abc')).toBe(false);
    expect(etagHolds('W/"abcd"', 'abc')).toBe(false);
    expect(etagHolds(null, 'abc')).toBe(false);
    expect(etagHolds('W/"abc"', '')).toBe(false);
    expect(opaqueOf('W/"x-1"')).toBe('x-1');
  });

  it('two stores at the same version number with other content get other keys; the same content in one store one key', () => {
    expect(dataKey('e1', 'W/"abc"')).toBe(dataKey('e1', 'W/"abc"'));
    expect(dataKey('e1', 'W/"abc"')).not.toBe(dataKey('e2', 'W/"abc"'));
    expect(dataKey('e1', 'W/"abc"')).not.toBe(dataKey('e1', 'W/"abd"'));
    expect(dataKey(null, 'W/"abc"')).toBe(' abc');
  });
});

describe('dashboard summary cards: rows filled evenly', () => {
  it.each([
    [9, 10, 9], [9, 7, 5], [9, 4, 3], [6, 10, 6], [6, 4, 3], [11, 10, 6], [11, 5, 4], [6, 1, 1], [0, 5, 1], [3, 0, 1],
  ])('%i cards where %i fit: %i columns', (n, fit, cols) => {
    expect(balancedColumns(n, fit)).toBe(cols);
  });

  it('never more columns than fit, and the rows differ by one card at most', () => {
    for (let n = 1; n <= 30; n++) {
      for (let fit = 1; fit <= 15; fit++) {
        const cols = balancedColumns(n, fit);
        expect(cols).toBeLessThanOrEqual(fit);
        const rows = Math.ceil(n / cols);
        expect(rows).toBe(Math.ceil(n / Math.min(fit, n)));
        expect(cols * rows - n).toBeLessThan(rows);
      }
    }
  });
});
