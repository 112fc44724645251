/**
 * The content key of a Chart Repo answer, read from its bytes (answerKey), says exactly what the text rules
 * say (bodyContentKey of splitAnswer's pair part, less a still-running app's processing.duration): the same
 * text digested, the same shared blocks, case by case. Checked on answers shaped like the
 * Chart Repo's and on arbitrary JSON using the names that matter. Then issue 17's ruling, key by key: which values
 * are freshness.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerKey, answerKeyText, splitAnswer, type AnswerKey } from '../../src/collect/chart-repo-answer-key.ts';
import { bodyContentKey, sharedAnswerText } from '../../src/collect/chart-repo-content.ts';

/** the shared blocks' texts, each decoded as the collector asks for it */
const sharedOf = (read: AnswerKey) => Object.fromEntries(read.sharedBlocks.map((b) => [b, read.sharedText(b)]));

/** `running`: the member texts of still-running apps' processing.duration, which the text rules keep */
function expectSameAsText(text: string, running: string[] = []): void {
  const body = Buffer.from(text);
  const reference = splitAnswer(body);
  let kept = bodyContentKey(reference.pair);
  for (const member of running) {
    expect(kept).toContain(member);
    kept = kept.replace(member, '');
  }
  expect(answerKeyText(body)).toBe(kept);
  const read = answerKey(body);
  expect(read.key).toBe(createHash('sha256').update(kept).digest('base64'));
  expect(sharedOf(read)).toEqual(reference.shared);
  expect(read.pair()).toBe(reference.pair);
}

const answer = (over: Record<string, unknown> = {}) => ({
  success: true, message: 'ok', data: {
    system: { hostname: 'repo-1', uptime: 100, resource_usage: { memory_mb: 211 } },
    apps: [
      { app_name: 'wiki', state: 'processing', note: ',"uptime":1}', processing: { task_id: 'h1', duration: 5e9 }, last_update: '2026-12-01T10:00:00Z' },
      { app_name: 'blog', processing: { duration: 7e9, task_id: 'h2' }, state: 'completed' },
    ],
    images: [{ image_name: 'wiki:1', status: 'downloading', nodes: [{ node_name: 'n1', duration: '2.5s' }] }],
    tasks: { hydrator: { queue_length: 2, last_check: null }, image_analyzer: { queue_length: 375, last_check: '2026-12-01T10:00:00Z' } },
    ...over,
  },
});

describe('answerKey reads what the text rules read', () => {
  it.each([
    ['an answer', JSON.stringify(answer()), ['"duration":5000000000']],
    ['pretty-printed', JSON.stringify(answer(), null, 2), ['"duration": 5000000000\n        ']],
    ['with a unicode title', JSON.stringify(answer({ apps: [{ app_name: 'wiki', title: 'Wiki — 百科 🐙', uptime: 'x' }] }))],
    ['with time-passing names holding a string and a number', '{"data":{"a":{"uptime":"up"},"b":{"uptime": 12.7 }}}'],
    ['with escapes in names and strings', JSON.stringify({ data: { 'sys"tem': {}, system: { h: 'a\\"b}' }, 'up\\time': 3 } })],
    ['with no shared blocks', '{"success":true,"data":{"apps":[]}}'],
    ['with a shared block that is not an object', '{"success":true,"data":{"system":"up","uptime":5}}'],
    ['cut short inside a shared block', JSON.stringify(answer()).slice(0, 70)],
    ['with odd values', '{"uptime":-1,"duration":1e9,"last_check":nul,"last_update":true , "x":1}'],
    ['with a running app\'s duration first, spaced, and its state last', '{"data":{"apps":[{"processing":{ "duration" : 1e9 ,"task_id":"h"},"state":"pending"}]}}', ['"duration" : 1e9 ']],
    ['with an app whose state is not a string', '{"data":{"apps":[{"state":3,"processing":{"duration":4}}]}}', ['"duration":4']],
    ['with a duration that is not a scalar', '{"data":{"apps":[{"state":"processing","processing":{"duration":{"ns":4}}}]}}'],
  ] as [string, string, string[]?][])('%s', (_what, text, running) => {
    expectSameAsText(text, running);
  });

  it('text that is not JSON still has one key (its parse fails later, as it always did)', () => {
    const text = '<html>oops, "uptime": 4}</html>';
    expect(answerKey(Buffer.from(text)).key).toBe(answerKey(Buffer.from(text)).key);
    expect(answerKey(Buffer.from(text)).key).not.toBe(answerKey(Buffer.from('<html>oops</html>')).key);
  });

  // (no `processing` or `state` among the names: the text rules alone are the reference here)
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

describe('what is freshness and what is content (issue 17)', () => {
  const T = '2026-12-01T10:00:00Z';
  const base = {
    system: { hostname: 'repo-1', uptime: 100 },
    apps: [
      { app_name: 'wiki', state: 'processing', processing: { task_id: 'h1', duration: 5e9 }, timestamps: { created_at: T, last_updated_at: T } },
      { app_name: 'blog', state: 'completed', processing: { task_id: 'h2', duration: 7e9 } },
      { app_name: 'chat', state: 'failed', processing: { task_id: 'h3', duration: 2e9 }, error: { message: 'render' } },
    ],
    images: [{ image_name: 'wiki:1', status: 'downloading', last_update: T, nodes: [{ node_name: 'n1', progress: 10 }] }],
    tasks: {
      hydrator: { queue_length: 1, active_tasks: 1 },
      image_analyzer: {
        is_running: true, last_check: T, queue_length: 0,
        processing_tasks: [{ task_id: 'a1', status: 'running', duration: 1500 }],
        recent_completed: [{ task_id: 'a0', status: 'completed', duration: 3000 }],
      },
    },
  };
  type Data = typeof base;
  /** the answer's text, the base edited */
  const answerText = (edit: (d: Data) => void = () => undefined) => {
    const data = structuredClone(base);
    edit(data);
    return JSON.stringify({ success: true, data });
  };
  /** the answer's two keys as the collector takes them: its pair's own part, and the Chart Repo's own blocks */
  const keys = (edit: (d: Data) => void = () => undefined) => {
    const read = answerKey(Buffer.from(answerText(edit)));
    return { pair: read.key, shared: bodyContentKey(sharedAnswerText(sharedOf(read))) };
  };

  it.each([
    ['a processing app\'s processing.duration', (d: Data) => { d.apps[0]!.processing.duration = 9e9; }],
    ['a pending app\'s processing.duration', (d: Data) => { d.apps[0]!.state = 'pending'; }, (d: Data) => { d.apps[0]!.state = 'pending'; d.apps[0]!.processing.duration = 9e9; }],
    ['the Chart Repo\'s uptime', (d: Data) => { d.system.uptime = 160; }],
    ['the image analyzer\'s last_check', (d: Data) => { d.tasks.image_analyzer.last_check = '2026-12-01T10:01:00Z'; }],
    ['an item\'s last_update', (d: Data) => { d.images[0]!.last_update = '2026-12-01T10:01:00Z'; }],
  ] as [string, (d: Data) => void, ((d: Data) => void)?][])('freshness: %s moving mints nothing', (_what, a, b = a) => {
    // (a: the base as the case has it, b: the same with the value moved)
    const before = keys(b === a ? undefined : a);
    // the edit really moved the answer's text: equal keys of equal texts would say nothing
    expect(answerText(b)).not.toBe(answerText(b === a ? undefined : a));
    expect(keys(b)).toEqual(before);
  });

  it.each([
    ['a completed app\'s processing.duration', (d: Data) => { d.apps[1]!.processing.duration = 8e9; }],
    ['a failed app\'s processing.duration', (d: Data) => { d.apps[2]!.processing.duration = 3e9; }],
    ['a finished analysis task\'s duration', (d: Data) => { d.tasks.image_analyzer.recent_completed[0]!.duration = 3100; }],
    ['a running analysis task\'s duration', (d: Data) => { d.tasks.image_analyzer.processing_tasks[0]!.duration = 1600; }],
    ['a duration outside processing', (d: Data) => { Object.assign(d.apps[0]!, { duration: 4 }); }],
    ['an app\'s state', (d: Data) => { d.apps[0]!.state = 'completed'; }],
    ['an app\'s timestamps', (d: Data) => { d.apps[0]!.timestamps!.last_updated_at = '2026-12-01T10:01:00Z'; }],
    ['an image node\'s progress', (d: Data) => { d.images[0]!.nodes[0]!.progress = 11; }],
  ] as [string, (d: Data) => void][])('content: %s changing is seen', (_what, edit) => {
    expect(keys(edit)).not.toEqual(keys());
  });

  it('a running app that finishes: its duration counts again, even when its state comes after it', () => {
    const app = (state: string, duration: number) => `{"success":true,"data":{"apps":[{"processing":{"duration":${duration}},"state":"${state}"}]}}`;
    const key = (text: string) => answerKey(Buffer.from(text)).key;
    expect(key(app('processing', 1))).toBe(key(app('processing', 2)));
    expect(key(app('completed', 1))).not.toBe(key(app('completed', 2)));
  });
});
