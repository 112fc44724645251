/**
 * An answer's pieces become its UTF-8 bytes: joined into runs first (fewer encode calls), the bytes are those
 * of the whole text, whatever the pieces' sizes and characters.
 */
import { describe, expect, it } from 'vitest';
import { runsOf, utf8Of } from '../../src/store/utf8-answer.ts';

const bytes = (b: ArrayBuffer) => Buffer.from(b).toString('utf8');

describe('utf8Of', () => {
  it.each([
    ['no pieces', []],
    ['empty pieces', ['', '', '']],
    ['small pieces', ['{"apps":[', '{"a":1}', ',', '{"a":2}', ']}']],
    ['characters of two, three and four bytes', ['{"n":"é"', ',"m":"名前"', ',"e":"😀"}']],
    ['a piece longer than a run between small ones', ['[', 'x'.repeat(70_000), ',', '"ü'.repeat(40_000) + '"', ']']],
    ['pieces that add up to several runs', Array.from({ length: 5_000 }, (_, i) => `{"i":${i},"s":"${'é'.repeat(i % 40)}"},`)],
  ])('is the UTF-8 of the whole text: %s', (_what, parts) => {
    expect(bytes(utf8Of(parts))).toBe(parts.join(''));
    expect(utf8Of(parts).byteLength).toBe(Buffer.byteLength(parts.join(''), 'utf8'));
  });
});

describe('runsOf', () => {
  it('joins pieces in order into runs of at least the size, a long piece a run of its own', () => {
    expect(runsOf(['ab', 'cd', 'e', 'fghij', 'k'], 4)).toEqual(['abcd', 'efghij', 'k']);
    expect(runsOf(['abcdef', 'g'], 4)).toEqual(['abcdef', 'g']);
    expect(runsOf([], 4)).toEqual([]);
  });
});
