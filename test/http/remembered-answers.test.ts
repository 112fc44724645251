import { describe, expect, it } from 'vitest';
import type { CurrentVersion } from '../../src/http/app.ts';
import { FRESH_AS_OF, FreshnessHolder } from '../../src/http/freshness.ts';
import { RememberedAnswers } from '../../src/http/remembered-answers.ts';

const version = (v: number): CurrentVersion => ({ epoch: 'e', version: v, content: `c${v}`, ready: true, body: new Uint8Array(), sizeHint: 0, etag: `W/"c${v}"` });
const bytes = (n: number) => new Uint8Array(n);

describe('RememberedAnswers', () => {
  it('gives back an answer only at the version it was computed at', () => {
    const r = new RememberedAnswers();
    const v1 = version(1);
    r.remember('/tasks/t1', v1, '/tasks/:task_id', '"e-1-x"', bytes(10));
    expect(r.lookup('/tasks/t1', v1)).toMatchObject({ route: '/tasks/:task_id', etag: '"e-1-x"' });
    expect(r.lookup('/tasks/t2', v1)).toBeUndefined();
    const v2 = version(2);
    expect(r.lookup('/tasks/t1', v2)).toBeUndefined();
    expect(r.size).toBe(0);
    // a late remember of the older version's answer is not kept either
    r.remember('/tasks/t1', v1, '/tasks/:task_id', '"e-1-x"', bytes(10));
    expect(r.lookup('/tasks/t1', v2)).toBeUndefined();
  });

  it('prepares the headers the API sends, as Hono\'s answers spell and order them: data headers, tag, length', () => {
    const r = new RememberedAnswers();
    const v1 = version(1);
    r.remember('/q', v1, '/q', '"e-1-q"', bytes(42));
    const a = r.lookup('/q', v1)!;
    // node's flat list: name, value, name, value, ...
    const names = (list: string[]) => list.filter((_, i) => i % 2 === 0);
    const asObject = (list: string[]) => Object.fromEntries(list.flatMap((v, i) => (i % 2 ? [] : [[v, list[i + 1]]])));
    expect(asObject(a.ok.get())).toMatchObject({ etag: '"e-1-q"', 'cache-control': 'no-cache', 'Content-Length': '42', 'x-content-type-options': 'nosniff' });
    // lower-case names in order (a fetch Headers object), then the length @hono/node-server adds
    expect(names(a.ok.get()).slice(0, -1)).toEqual([...names(a.ok.get()).slice(0, -1)].sort());
    expect(names(a.ok.get()).at(-1)).toBe('Content-Length');
    // HEAD: the length among the others, as Hono's HEAD sets it on the Headers
    expect(names(a.okHead.get())).toEqual([...names(a.okHead.get())].sort());
    expect(asObject(a.okHead.get())).toMatchObject({ 'content-length': '42' });
    expect(asObject(a.notModified.get())).toMatchObject({ etag: '"e-1-q"', 'cache-control': 'no-cache' });
    expect(names(a.notModified.get()).map((n) => n.toLowerCase())).not.toContain('content-length');
  });

  it('adds the freshness header as it moves, without forgetting the answer', () => {
    const fresh = new FreshnessHolder();
    const r = new RememberedAnswers(8, 8000, fresh);
    const v1 = version(1);
    r.remember('/q', v1, '/q', '"e-1-q"', bytes(42));
    expect(r.lookup('/q', v1)!.notModified.get()).not.toContain(FRESH_AS_OF.toLowerCase());
    for (const at of ['2026-12-01T10:00:00.000Z', '2026-12-01T10:00:05.000Z']) {
      fresh.onMessage({ type: 'freshness', epoch: 'e', sources: '{}', fresh_as_of: at });
      const a = r.lookup('/q', v1)!;
      // at its place among the sorted names (the last of them), before the length Hono's server adds
      expect(a.notModified.get().slice(-2)).toEqual([FRESH_AS_OF.toLowerCase(), at]);
      expect(a.ok.get().slice(-4)).toEqual([FRESH_AS_OF.toLowerCase(), at, 'Content-Length', '42']);
    }
  });

  it('keeps at most its entries and bytes: when full, those it holds serve the rest of the version', () => {
    const r = new RememberedAnswers(3, 8000);
    const v1 = version(1);
    // five targets asked in turn, again and again: the first three are served every round, not none of them
    for (let round = 0; round < 3; round += 1) {
      for (let i = 0; i < 5; i += 1) if (!r.lookup(`/q${i}`, v1)) r.remember(`/q${i}`, v1, '/q', `"t${i}"`, bytes(100));
    }
    expect(r.size).toBe(3);
    expect(['/q0', '/q1', '/q2'].every((t) => r.lookup(t, v1))).toBe(true);
    expect(r.lookup('/q4', v1)).toBeUndefined();
    const bytesBound = new RememberedAnswers(100, 8000);
    bytesBound.remember('/big', v1, '/q', '"big"', bytes(1001)); // more than an eighth of the budget: never kept
    expect(bytesBound.lookup('/big', v1)).toBeUndefined();
    for (let i = 0; i < 9; i += 1) bytesBound.remember(`/m${i}`, v1, '/q', `"m${i}"`, bytes(1000));
    expect(bytesBound.size).toBe(8);
    expect(bytesBound.lookup('/m8', v1)).toBeUndefined();
    // a new version starts with room for its own answers
    const v2 = version(2);
    bytesBound.remember('/m8', v2, '/q', '"m8"', bytes(1000));
    expect(bytesBound.lookup('/m8', v2)).toBeDefined();
    expect(bytesBound.size).toBe(1);
  });
});
