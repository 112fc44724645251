import { describe, expect, it } from 'vitest';

// the dashboards' own modules: plain browser JS without types, importable here (they touch the DOM only when called)
const { dataKey, etagHolds, opaqueOf, parseEventId } = await import('../../src/http/dashboard/version-tag.js' as string) as {
  parseEventId(id: unknown): { epoch: string; version: number; content: string } | null;
  opaqueOf(etag: unknown): string;
  etagHolds(etag: unknown, content: unknown): boolean;
  dataKey(epoch: unknown, etag: unknown): string;
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
