import { describe, expect, it } from 'vitest';
import {
  TASK_STATUS_BY_INT, TASK_TYPE_BY_INT, clip, normalizeTasks, parseMetadata, taskProgress,
} from '../../src/collect/tasks.ts';
import type { TaskRow } from '../../src/sources/market-rows.ts';
import { DbInstant } from '../../src/model/go-time.ts';
import { goText } from '../helpers/go-text.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const minutesAgo = (m: number): Date => new Date(NOW.getTime() - m * 60_000);

function row(over: Partial<TaskRow> = {}): TaskRow {
  return {
    active: false, task_id: 't1', type: 1, status: 3, app_name: 'app', user_account: 'alice', op_id: '',
    metadata: '{}', result: '', error_msg: '', created_at: minutesAgo(30), started_at: null, completed_at: null,
    ...over,
  };
}

describe('task type and status maps', () => {
  it.each([[1, 'install'], [2, 'uninstall'], [3, 'cancel'], [4, 'upgrade'], [5, 'clone']])('type %i -> %s', (n, s) => {
    expect(TASK_TYPE_BY_INT[n]).toBe(s);
    expect(normalizeTasks([row({ type: n })], NOW).items[0].type).toBe(s);
  });

  it.each([[1, 'pending'], [2, 'running'], [3, 'completed'], [4, 'failed'], [5, 'canceled']])('status %i -> %s', (n, s) => {
    expect(TASK_STATUS_BY_INT[n]).toBe(s);
    expect(normalizeTasks([row({ status: n })], NOW).items[0].status).toBe(s);
  });

  it('integers outside the tables map to unknown and are counted', () => {
    const { items, counters } = normalizeTasks([row({ type: 9, status: 0 }), row({ task_id: 't2', type: -1 })], NOW);
    expect(items.map((t) => [t.type, t.status])).toEqual([['unknown', 'unknown'], ['unknown', 'completed']]);
    expect(counters).toMatchObject({ unknown_type: 2, unknown_status: 1 });
    expect(items[0].progress).toBeUndefined();
  });
});

describe('progress', () => {
  it.each([
    [0, 0], [0.4, 0], [0.5, 10], [1, 20], [1.4, 20], [2.5, 50], [4.4, 80], [4.5, 90], [5, 90], [60, 90],
  ])('running for %f min -> %i (steps of 10: the clock alone changes it at most every 30 s)', (minutes, expected) => {
    expect(taskProgress('running', minutesAgo(minutes), NOW)).toBe(expected);
  });

  it('every running task steps at the same 30 s mark of the clock, whenever it started (one version for all)', () => {
    const startedA = new Date(NOW.getTime() - 60_000 + 3_000);
    const startedB = new Date(NOW.getTime() - 60_000 + 17_000);
    const at = (s: number) => new Date(NOW.getTime() + s * 1000);
    // started 14 s apart, read from 12:00:00 on: both step at 12:00:30 and at 12:01:00, never in between
    const steps = (started: Date) => [0, 10, 20, 29, 30, 45, 59, 60].map((s) => taskProgress('running', started, at(s)));
    expect(steps(startedA)).toEqual([10, 10, 10, 10, 20, 20, 20, 30]);
    expect(steps(startedB)).toEqual([10, 10, 10, 10, 20, 20, 20, 30]);
  });

  it('running without started_at, or started in the future (clock skew), is 0', () => {
    expect(taskProgress('running', null, NOW)).toBe(0);
    expect(taskProgress('running', minutesAgo(-3), NOW)).toBe(0);
  });

  it.each([['completed', 100], ['failed', 0], ['canceled', 0], ['pending', 0]] as const)('%s -> %i', (status, p) => {
    expect(taskProgress(status, minutesAgo(3), NOW)).toBe(p);
  });
});

describe('metadata', () => {
  it('parses a JSON object', () => {
    expect(parseMetadata('{"source":"market","n":1}')).toEqual({ value: { source: 'market', n: 1 }, bad: false });
  });

  it.each(['{', 'not json', '[1,2]', '"text"', '42', 'null'])('%s is bad metadata', (text) => {
    expect(parseMetadata(text)).toEqual({ bad: true });
  });

  it('an empty object, empty text or NULL is simply no metadata', () => {
    expect(parseMetadata('{}')).toEqual({ bad: false });
    expect(parseMetadata('')).toEqual({ bad: false });
    expect(parseMetadata(null)).toEqual({ bad: false });
  });

  it('nesting past the depth bound is bad metadata', () => {
    let deep = '1';
    for (let i = 0; i < 12; i++) deep = `{"a":${deep}}`;
    expect(parseMetadata(deep)).toEqual({ bad: true });
  });

  it('a row with invalid metadata keeps the task, drops only the metadata, and is counted', () => {
    const { items, counters } = normalizeTasks([row({ metadata: '{oops', error_msg: 'boom' })], NOW);
    expect(items).toHaveLength(1);
    expect(items[0].metadata).toBeUndefined();
    expect(items[0].error_msg).toBe('boom');
    expect(counters.bad_metadata).toBe(1);
  });
});

describe('normalizeTasks', () => {
  it('builds the full TaskState with RFC 3339 times and omits empty fields', () => {
    const started = minutesAgo(2);
    const { items } = normalizeTasks([row({
      task_id: 'x', type: 4, status: 2, app_name: 'wiki', user_account: 'bob', op_id: 'op-7',
      metadata: '{"version":"2.0"}', created_at: minutesAgo(3), started_at: started,
    })], NOW);
    expect(items).toEqual([{
      task_id: 'x', type: 'upgrade', status: 'running', app_name: 'wiki', user_id: 'bob', op_id: 'op-7',
      progress: 40, created_at: goText(minutesAgo(3)), started_at: goText(started),
      metadata: { version: '2.0' },
    }]);
    const done = normalizeTasks([row({ user_account: '', status: 3, completed_at: minutesAgo(1), result: 'ok' })], NOW);
    expect(done.items[0]).toEqual({
      task_id: 't1', type: 'install', status: 'completed', app_name: 'app', progress: 100,
      created_at: goText(minutesAgo(30)), completed_at: goText(minutesAgo(1)), result: 'ok',
    });
  });

  it('writes database times as Go does: to the microsecond PostgreSQL keeps, trailing zeros trimmed', () => {
    // (what src/sources/pg-time.ts reads from `2026-03-01 11:50:00.123456+00`, `…11:55:00.5+00`, `…11:58:00+00`)
    const at = (text: string, micros: number) => new DbInstant(Date.parse(text), micros);
    const { items } = normalizeTasks([row({
      status: 3, created_at: at('2026-03-01T11:50:00.123Z', 456), started_at: at('2026-03-01T11:55:00.500Z', 0),
      completed_at: at('2026-03-01T11:58:00.000Z', 0),
    })], NOW);
    expect(items[0]).toMatchObject({
      created_at: '2026-03-01T11:50:00.123456Z', started_at: '2026-03-01T11:55:00.5Z', completed_at: '2026-03-01T11:58:00Z',
    });
  });

  it('leaves out a progress of 0, as Go\'s omitempty does (pending, failed, canceled, just started)', () => {
    const rows = [
      row({ task_id: 'p', status: 1 }), row({ task_id: 'f', status: 4 }), row({ task_id: 'c', status: 5 }),
      row({ task_id: 'r', status: 2, started_at: minutesAgo(0.2) }), row({ task_id: 'n', status: 2 }),
    ];
    const { items } = normalizeTasks(rows, NOW);
    expect(items.map((t) => t.task_id)).toEqual(['p', 'f', 'c', 'r', 'n']);
    for (const t of items) expect(t, t.task_id).not.toHaveProperty('progress');
    expect(normalizeTasks([row({ status: 2, started_at: minutesAgo(1) })], NOW).items[0].progress).toBe(20);
  });

  it('cuts over-long free text instead of dropping the task', () => {
    const { items } = normalizeTasks([row({ error_msg: 'e'.repeat(20_000) })], NOW);
    expect(items[0].error_msg!.length).toBe(8192);
  });
});

describe('clip', () => {
  it('keeps short text, cuts long text to the limit with an ellipsis', () => {
    expect(clip('short', 10)).toBe('short');
    expect(clip('abcdefghijkl', 10)).toBe('abcdefghi…');
  });

  it('never leaves half of a surrogate pair (strict JSON decoders refuse a lone surrogate)', () => {
    const cut = clip(`${'E'.repeat(8)}😀tail`, 10);
    expect(cut).toBe(`${'E'.repeat(8)}…`);
    expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut)).toBe(false);
    expect(clip(`${'E'.repeat(7)}😀tail`, 10)).toBe(`${'E'.repeat(7)}😀…`);
  });
});
