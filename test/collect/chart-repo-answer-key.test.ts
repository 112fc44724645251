/**
 * The content key of a Chart Repo answer, read from its bytes (answerKey), says exactly what the text rules
 * say (bodyContentKey of splitAnswerText's pair part): the same text digested, the same shared blocks, the same
 * uptime. Checked on answers shaped like the Chart Repo's and on arbitrary JSON using the names that matter.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerKey, answerKeyText } from '../../src/collect/chart-repo-answer-key.ts';
import { bodyContentKey, splitAnswerText, uptimeIn } from '../../src/collect/chart-repo-content.ts';

function expectSameAsText(text: string): void {
  const body = Buffer.from(text);
  const reference = splitAnswerText(text);
  const kept = bodyContentKey(reference.pair);
  expect(answerKeyText(body)).toBe(kept);
  const read = answerKey(body);
  expect(read.key).toBe(createHash('sha256').update(kept).digest('base64'));
  expect(read.shared).toEqual(reference.shared);
  expect(read.uptime).toBe(uptimeIn(text));
  expect(read.pair()).toBe(reference.pair);
}

const answer = (over: Record<string, unknown> = {}) => ({
  success: true, message: 'ok', data: {
    system: { hostname: 'repo-1', uptime: 100, resource_usage: { memory_mb: 211 } },
    apps: [{ app_name: 'wiki', state: 'processing', note: ',"uptime":1}', processing: { task_id: 'h1', duration: 5e9 }, last_update: '2026-12-01T10:00:00Z' }],
    images: [{ image_name: 'wiki:1', status: 'downloading', nodes: [{ node_name: 'n1', duration: '2.5s' }] }],
    tasks: { hydrator: { queue_length: 2, last_check: null }, image_analyzer: { queue_length: 375, last_check: '2026-12-01T10:00:00Z' } },
    ...over,
  },
});

describe('answerKey reads what the text rules read', () => {
  it.each([
    ['an answer', JSON.stringify(answer())],
    ['pretty-printed', JSON.stringify(answer(), null, 2)],
    ['with a unicode title', JSON.stringify(answer({ apps: [{ app_name: 'wiki', title: 'Wiki — 百科 🐙', uptime: 'x' }] }))],
    ['with uptime as a string and a number later', '{"data":{"a":{"uptime":"up"},"b":{"uptime": 12.7 }}}'],
    ['with escapes in names and strings', JSON.stringify({ data: { 'sys"tem': {}, system: { h: 'a\\"b}' }, 'up\\time': 3 } })],
    ['with no shared blocks', '{"success":true,"data":{"apps":[]}}'],
    ['with a shared block that is not an object', '{"success":true,"data":{"system":"up","uptime":5}}'],
    ['cut short inside a shared block', JSON.stringify(answer()).slice(0, 70)],
    ['with odd values', '{"uptime":-1,"duration":1e9,"last_check":nul,"last_update":true , "x":1}'],
  ])('%s', (_what, text) => expectSameAsText(text));

  it('text that is not JSON still has one key (its parse fails later, as it always did)', () => {
    const text = '<html>oops, "uptime": 4}</html>';
    expect(answerKey(Buffer.from(text)).key).toBe(answerKey(Buffer.from(text)).key);
    expect(answerKey(Buffer.from(text)).key).not.toBe(answerKey(Buffer.from('<html>oops</html>')).key);
  });

  it('on arbitrary JSON built from the names that matter', () => {
    const names = fc.constantFrom('data', 'system', 'tasks', 'image_analyzer', 'uptime', 'duration', 'last_check', 'last_update', 'apps', 'x', '');
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' },
        fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.boolean(), fc.constant(null)),
        fc.dictionary(names, tie('node'), { maxKeys: 5 }),
        fc.array(tie('node'), { maxLength: 3 })),
    })).node;
    fc.assert(fc.property(value, fc.constantFrom(0, 1, 2), (v, indent) => {
      expectSameAsText(JSON.stringify({ success: true, data: v }, null, indent));
    }), { numRuns: 500 });
  });
});
