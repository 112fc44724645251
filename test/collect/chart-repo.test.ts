import { describe, expect, it } from 'vitest';
import { chartRepoComponent, mergeAnswers, normalizeAnswer } from '../../src/collect/chart-repo.ts';
import type { ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { LIMITS } from '../../src/model/index.ts';

const NOW = '2025-01-02T03:04:05.000Z';
const app = (name: string, extra: object = {}) =>
  ({ app_id: `id-${name}`, app_name: name, user_id: 'alice', source_id: 'market', state: 'completed', ...extra });
const image = (name: string, extra: object = {}) => ({ image_name: name, status: 'fully_downloaded', ...extra });
const htask = (id: string, extra: object = {}) => ({ task_id: id, app_name: 'wiki', ...extra });
const ok = (data: unknown) => ({ success: true, message: 'ok', data });

function answer(json: unknown): ChartRepoAnswer {
  const r = normalizeAnswer(json);
  if (!r.ok) throw new Error(r.error);
  return r.answer;
}

describe('normalizeAnswer: the envelope', () => {
  it.each([
    ['an array', [1, 2], 'not the envelope'],
    ['an object without success', { foo: 1 }, 'not the envelope: success'],
    ['success as a string', { success: 'yes', data: {} }, 'not the envelope: success'],
    ['data as a string', { success: true, data: 'x' }, 'not the envelope: data'],
    ['data as a list', { success: true, data: [] }, 'not the envelope: data'],
    ['a number', 42, 'not the envelope'],
    ['null', null, 'not the envelope'],
    ['success false', { success: false, message: 'db down' }, 'chart repo answered success=false: db down'],
  ])('fails the whole answer for %s', (_name, json, error) => {
    const r = normalizeAnswer(json);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(error);
  });

  it.each([
    ['no data', { success: true, message: 'ok' }],
    ['null data', { success: true, message: 'ok', data: null }],
    ['empty data', { success: true, data: {} }],
    ['null lists (Go nil slices)', ok({ apps: null, images: null, tasks: null, system: null })],
  ])('reads %s as an empty answer', (_name, json) => {
    expect(answer(json)).toEqual({ apps: [], images: [], dropped: 0 });
  });
});

describe('normalizeAnswer: items', () => {
  it('keeps items whose optional fields are omitted or null', () => {
    const a = answer(ok({
      apps: [app('wiki'), app('blog', { current_step: null, error: { message: 'x', step: null } })],
      images: [image('nginx:1'), image('redis:7', { nodes: null, total_size: null })],
    }));
    expect(a.apps.map((x) => x.app_name)).toEqual(['wiki', 'blog']);
    expect(a.apps[1]).toEqual({ ...app('blog'), error: { message: 'x' } });
    expect(a.images).toEqual([image('nginx:1'), image('redis:7')]);
    expect(a.dropped).toBe(0);
  });

  it.each([
    ['an app with state as a number', { apps: [app('ok'), app('bad', { state: 3 })] }, 'apps'],
    ['an app with an unknown state', { apps: [app('ok'), app('bad', { state: 'queued' })] }, 'apps'],
    ['an app without app_name', { apps: [app('ok'), { ...app('bad'), app_name: undefined }] }, 'apps'],
    ['an app whose current_step.index is a string', { apps: [app('ok'), app('bad', { current_step: { name: 'SourceChartStep', index: 'one' } })] }, 'apps'],
    ['an app that is a string', { apps: [app('ok'), 'bad'] }, 'apps'],
    ['an app_name of 1 MB', { apps: [app('ok'), app('x'.repeat(1 << 20))] }, 'apps'],
    ['an image with total_size as a string', { images: [image('ok'), image('bad', { total_size: '12' })] }, 'images'],
  ])('drops only %s, and counts it', (_name, data, list) => {
    const a = answer(ok(data)) as unknown as Record<string, Array<{ app_name?: string; image_name?: string }>>;
    expect(a[list]).toHaveLength(1);
    expect(a[list][0].app_name ?? a[list][0].image_name).toBe('ok');
    expect(answer(ok(data)).dropped).toBe(1);
  });

  it('drops a bad image node but keeps its image', () => {
    const a = answer(ok({ images: [image('nginx', { nodes: [{ node_name: 'n1' }, { node_name: 'n2', progress: 'half' }] })] }));
    expect(a.images).toEqual([image('nginx', { nodes: [{ node_name: 'n1' }] })]);
    expect(a.dropped).toBe(1);
  });

  it('counts a list that is not a list as one dropped item', () => {
    const a = answer(ok({ apps: { wiki: app('wiki') }, images: 'none' }));
    expect(a).toEqual({ apps: [], images: [], dropped: 2 });
  });

  it(`keeps at most ${LIMITS.listItems} items of one list and counts the rest`, () => {
    const many = Array.from({ length: LIMITS.listItems + 3 }, (_, i) => image(`img${i}`));
    const a = answer(ok({ images: many }));
    expect(a.images).toHaveLength(LIMITS.listItems);
    expect(a.dropped).toBe(3);
  });
});

describe('normalizeAnswer: blocks', () => {
  it('drops only the bad field of the system block', () => {
    const a = answer(ok({ system: { uptime: 'long', version: '1.2', hostname: 'cr-0', components: { db: 'ok' } } }));
    expect(a.system).toEqual({ version: '1.2', hostname: 'cr-0', components: { db: 'ok' } });
    expect(a.dropped).toBe(1);
  });

  it('keeps hydrator tasks when a counter has the wrong type, and drops bad tasks alone', () => {
    const a = answer(ok({
      tasks: {
        hydrator: {
          queue_length: 'many', active_tasks: 2,
          tasks: [htask('t1'), htask('t2', { retry_count: 'x' })],
          recent_failed: [htask('f1', { last_error: 'render failed' })],
        },
      },
    }));
    expect(a.hydrator).toEqual({
      active_tasks: 2, tasks: [htask('t1')], recent_failed: [htask('f1', { last_error: 'render failed' })],
    });
    expect(a.dropped).toBe(2);
  });

  it('validates the image analyzer task lists item by item', () => {
    const a = answer(ok({
      tasks: {
        image_analyzer: {
          is_running: true, health_status: 'healthy', queue_length: 1,
          queued_tasks: [{ task_id: 'q1', images: ['a', 'b'] }, { task_id: 'q2', images: [1] }],
          recent_failed: null,
        },
      },
    }));
    expect(a.image_analyzer).toEqual({
      is_running: true, health_status: 'healthy', queue_length: 1, queued_tasks: [{ task_id: 'q1', images: ['a', 'b'] }],
    });
    expect(a.dropped).toBe(1);
  });

  it('treats a block with no valid field as absent, so it does not hide a later pair\'s block', () => {
    const broken = answer(ok({ system: { uptime: 'x', hostname: 7 } }));
    expect(broken.system).toBeUndefined();
    const fine = answer(ok({ system: { hostname: 'cr-1' } }));
    expect(mergeAnswers([broken, fine], NOW).system).toEqual({ hostname: 'cr-1' });
  });

  it('counts a tasks block that is not an object', () => {
    expect(answer(ok({ tasks: 'busy' })).dropped).toBe(1);
  });
});

describe('normalizeAnswer: hostile input', () => {
  const deep = (n: number) => JSON.parse(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
  const deepList = (n: number) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`);

  it('drops JSON nested 100 000 deep without crashing', () => {
    const a = answer(ok({
      system: { hostname: 'cr', components: deep(100_000) },
      apps: [app('wiki', { current_step: deep(100_000) }), deepList(100_000)],
    }));
    expect(a.system).toEqual({ hostname: 'cr' });
    expect(a.apps).toEqual([]);
    expect(a.dropped).toBe(3);
  });

  it('drops a number too large to be finite', () => {
    const a = answer(JSON.parse('{"success":true,"data":{"images":[{"image_name":"x","status":"registry_error","total_size":1e400}]}}'));
    expect(a).toMatchObject({ images: [], dropped: 1 });
  });

  it('ignores fields it does not know', () => {
    const a = answer(ok({ apps: [app('wiki', { extra: { deep: deep(1000) } })], surprise: 1 }));
    expect(a.apps).toEqual([app('wiki')]);
    expect(a.dropped).toBe(0);
  });
});

describe('mergeAnswers', () => {
  const alice = answer(ok({
    system: { version: '1.0', hostname: 'first' },
    apps: [app('wiki')],
    images: [image('wiki:1')],
    tasks: {
      hydrator: { queue_length: 2, active_tasks: 1, completed_tasks: 10, worker_count: 4, tasks: [htask('a1')] },
      image_analyzer: { health_status: 'healthy', total_analyzed: 5 },
    },
  }));
  const bob = answer(ok({
    system: { version: '2.0', hostname: 'second' },
    apps: [app('blog', { user_id: 'bob' })],
    images: [image('blog:1')],
    tasks: {
      hydrator: { queue_length: 3, failed_tasks: 1, worker_count: 4, recent_failed: [htask('b1')] },
      image_analyzer: { health_status: 'degraded', total_analyzed: 7 },
    },
  }));
  const empty = answer(ok({}));

  it('concatenates apps, images and hydrator tasks, sums the counters, keeps the first system and analyzer', () => {
    expect(mergeAnswers([empty, alice, bob], NOW)).toEqual({
      system: { version: '1.0', hostname: 'first' },
      apps: [app('wiki'), app('blog', { user_id: 'bob' })],
      images: [image('wiki:1'), image('blog:1')],
      tasks: {
        hydrator: {
          queue_length: 5, active_tasks: 1, completed_tasks: 10, failed_tasks: 1, worker_count: 8,
          tasks: [htask('a1')], recent_failed: [htask('b1')],
        },
        image_analyzer: { health_status: 'healthy', total_analyzed: 5 },
      },
      last_update: NOW,
    });
  });

  it('takes the system block of the first answer that has one', () => {
    expect(mergeAnswers([empty, bob, alice], NOW).system?.hostname).toBe('second');
  });

  it('is an empty view when there are no answers', () => {
    expect(mergeAnswers([], NOW)).toEqual({ apps: [], images: [], last_update: NOW });
  });

  it('has no tasks block when no answer had one', () => {
    expect(mergeAnswers([empty, empty], NOW).tasks).toBeUndefined();
  });
});

describe('chartRepoComponent', () => {
  it('is running and healthy when every pair answered', () => {
    expect(chartRepoComponent({ pairs: 3, failures: [], dropped: 0, now: NOW })).toEqual({
      name: 'chart_repo', healthy: true, status: 'running', last_check: NOW,
      metrics: { pairs: 3, failed_pairs: 0, dropped_items: 0 },
    });
  });

  it('says how many items were dropped when all answered', () => {
    expect(chartRepoComponent({ pairs: 1, failures: [], dropped: 4, now: NOW }).message).toBe('4 invalid items dropped');
  });

  it('is degraded when some pairs failed, naming them and their errors', () => {
    const c = chartRepoComponent({
      pairs: 3, dropped: 0, now: NOW, failures: [{ user: 'bob', source: 'market', error: 'HTTP 500' }],
    });
    expect(c).toMatchObject({ healthy: true, status: 'degraded', message: '1/3 requests failed: bob/market: HTTP 500' });
    expect(c.metrics).toMatchObject({ failed_pairs: 1 });
  });

  it('is an unhealthy error when every pair failed', () => {
    const failures = [{ user: 'a', source: 's', error: 'connection refused' }];
    expect(chartRepoComponent({ pairs: 1, failures, dropped: 0, now: NOW })).toMatchObject({ healthy: false, status: 'error' });
  });

  it('bounds the message however many pairs failed', () => {
    const failures = Array.from({ length: 500 }, (_, i) => ({ user: `user${i}`, source: 'market', error: 'timeout after 5000 ms' }));
    const c = chartRepoComponent({ pairs: 500, failures, dropped: 0, now: NOW });
    expect(c.message!.length).toBeLessThanOrEqual(1024);
    expect(c.message).toMatch(/^500\/500 requests failed: user0\/market: timeout after 5000 ms; /);
  });

  it('is running with zero pairs', () => {
    expect(chartRepoComponent({ pairs: 0, failures: [], dropped: 0, now: NOW })).toMatchObject({ healthy: true, status: 'running' });
  });
});
