/**
 * An answer's pieces become its UTF-8 bytes: a small answer joined first into runs (an encode call a run), a large
 * one piece by piece (no second copy of it); the bytes are those of the whole text either way.
 */
import { describe, expect, it } from 'vitest';
import { JOIN_UP_TO_CHARS, RUN_CHARS, utf8Of } from '../../src/store/utf8-answer.ts';

describe('utf8Of', () => {
  it.each([
    ['no pieces', []],
    ['empty pieces', ['', '', '']],
    ['small pieces', ['{"apps":[', '{"a":1}', ',', '{"a":2}', ']}']],
    ['characters of two, three and four bytes', ['{"n":"é"', ',"m":"名前"', ',"e":"😀"}']],
    ['runs: pieces across the end of a run, a piece longer than a run', ['[', 'a'.repeat(RUN_CHARS - 1), 'bc', 'é'.repeat(3 * RUN_CHARS), '😀', ']']],
    ['runs of two-byte characters', Array.from({ length: 5_000 }, (_, i) => `"名前${i}",`)],
    ['exactly the size joined', ['[', 'é'.repeat(JOIN_UP_TO_CHARS - 2), ']']],
    ['past the size joined, piece by piece', ['[', 'x'.repeat(JOIN_UP_TO_CHARS), ',', '"ü😀'.repeat(1000) + '"', ']']],
    ['many pieces past the size', Array.from({ length: 40_000 }, (_, i) => `{"i":${i},"s":"${'é'.repeat(i % 40)}"},`)],
  ])('is the UTF-8 of the whole text: %s', (_what, parts) => {
    const text = parts.join('');
    const bytes = utf8Of(parts);
    expect(bytes.byteLength).toBe(Buffer.byteLength(text, 'utf8'));
    expect(Buffer.from(bytes).toString('utf8')).toBe(text);
  });
});
