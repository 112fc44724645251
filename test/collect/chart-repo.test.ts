import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { mergeAnswers } from '../../src/collect/chart-repo-merge.ts';
import { chartRepoComponent, PartialFailureHold } from '../../src/collect/chart-repo-component.ts';
import type { ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { ChartRepoStatus, GO_ZERO_TIME, LIMITS } from '../../src/model/index.ts';

const NOW = '2025-01-02T03:04:05.000Z';
const T = '2025-01-02T03:00:00Z';
const Z = GO_ZERO_TIME;
const app = (name: string, extra: object = {}) =>
  ({ app_id: `id-${name}`, app_name: name, user_id: 'alice', source_id: 'market', state: 'completed', ...extra });
/** what Go makes of app(name): the same keys, plus last_update = the conversion time */
const goApp = (name: string, extra: object = {}) => ({ ...app(name), last_update: NOW, ...extra });
const image = (name: string, extra: object = {}) => ({ image_name: name, status: 'fully_downloaded', ...extra });
const goImage = (name: string, extra: object = {}) => ({ ...image(name), last_update: NOW, ...extra });
const htask = (id: string, extra: object = {}) => ({ task_id: id, app_name: 'wiki', ...extra });
const goHtask = (id: string, extra: object = {}) => ({
  task_id: id, user_id: '', source_id: '', app_id: '', app_name: 'wiki', status: '', step_name: '', total_steps: 0,
  retry_count: 0, created_at: Z, updated_at: Z, ...extra,
});
const ok = (data: unknown) => ({ success: true, message: 'ok', data });
const ZERO_COUNTS = { dropped: 0, unfamiliar_values: 0, bad_times: 0, bad_durations: 0, clipped_values: 0 };

function answer(json: unknown): ChartRepoAnswer {
  const r = normalizeAnswer(json, NOW);
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
    const r = normalizeAnswer(json, NOW);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(error);
  });

  it.each([
    // (Go decodes a nil data as its zero struct: no items, as the market's own module shows such a pair)
    ['no data', { success: true, message: 'ok' }],
    ['null data', { success: true, message: 'ok', data: null }],
    ['empty data', { success: true, data: {} }],
    ['null lists (Go nil slices)', ok({ apps: null, images: null, tasks: null, system: null })],
    ['empty lists', ok({ apps: [], images: [] })],
  ])('reads %s as an empty answer', (_name, json) => {
    expect(answer(json)).toEqual({ apps: [], images: [], ...ZERO_COUNTS });
  });
});

describe('normalizeAnswer: items in Go\'s shapes', () => {
  it('keeps items whose optional fields are omitted or null; last_update is the conversion time', () => {
    const a = answer(ok({
      apps: [app('wiki'), app('blog', { current_step: null, error: { message: 'x', step: null } })],
      images: [image('nginx:1'), image('redis:7', { nodes: null, total_size: null })],
    }));
    expect(a.apps).toEqual([goApp('wiki'), goApp('blog', { error: { message: 'x' } })]);
    expect(a.images).toEqual([goImage('nginx:1'), goImage('redis:7')]);
    expect(a.dropped).toBe(0);
  });

  it('current_step always has index and retry_count, also when 0 or absent; absent times are Go\'s zero time', () => {
    const a = answer(ok({ apps: [app('wiki', { current_step: { name: 'SourceChartStep', status: 'running' } })] }));
    expect(a.apps[0].current_step).toEqual({
      name: 'SourceChartStep', index: 0, total: 0, status: 'running', started_at: Z, updated_at: Z, retry_count: 0,
    });
  });

  it('missing identifying fields are Go\'s zero values, not a reason to drop', () => {
    const a = answer(ok({ apps: [{ state: 'pending' }], images: [{}] }));
    expect(a.apps).toEqual([{ app_id: '', app_name: '', user_id: '', source_id: '', state: 'pending', last_update: NOW }]);
    expect(a.images).toEqual([{ image_name: '', status: '', last_update: NOW }]);
  });

  it('omits zero values of omitempty fields the Chart Repo sent anyway', () => {
    const a = answer(ok({ images: [image('x', { total_size: 0, app_id: '', nodes: [] })] }));
    expect(a.images).toEqual([goImage('x')]);
  });

  it.each([
    ['an app state', { apps: [app('wiki', { state: 'queued' })] }, (x: ChartRepoAnswer) => x.apps[0].state, 'queued'],
    ['an image status', { images: [image('n', { status: 'evicted' })] }, (x: ChartRepoAnswer) => x.images[0].status, 'evicted'],
    ['an analysis status', { images: [image('n', { analysis_status: 'skipped' })] }, (x: ChartRepoAnswer) => x.images[0].analysis_status, 'skipped'],
    ['a step status', { apps: [app('w', { current_step: { name: 's', status: 'paused' } })] }, (x: ChartRepoAnswer) => x.apps[0].current_step?.status, 'paused'],
    ['a health status', { tasks: { image_analyzer: { health_status: 'sick' } } }, (x: ChartRepoAnswer) => x.image_analyzer?.health_status, 'sick'],
    ['a hydrator task status', { tasks: { hydrator: { tasks: [htask('t', { status: 'paused' })] } } }, (x: ChartRepoAnswer) => x.hydrator?.tasks?.[0]?.status, 'paused'],
    ['an analysis task status', { tasks: { image_analyzer: { queued_tasks: [{ task_id: 'a', status: 'deferred' }] } } }, (x: ChartRepoAnswer) => x.image_analyzer?.queued_tasks?.[0]?.status, 'deferred'],
  ])('keeps %s it has not seen as sent, and counts it', (_name, data, pick, value) => {
    const a = answer(ok(data));
    expect(pick(a)).toBe(value);
    expect(a).toMatchObject({ dropped: 0, unfamiliar_values: 1 });
  });

  it.each([
    ['an app state', { apps: [app('wiki', { state: 'q'.repeat(300) })] }, (x: ChartRepoAnswer) => x.apps[0]?.state],
    ['an image status', { images: [image('n', { status: 's'.repeat(LIMITS.text + 10) })] }, (x: ChartRepoAnswer) => x.images[0]?.status],
    ['a hydrator task status', { tasks: { hydrator: { tasks: [htask('t', { status: 'q'.repeat(300) })] } } }, (x: ChartRepoAnswer) => x.hydrator?.tasks?.[0]?.status],
  ])('keeps an item whose unfamiliar %s is long (Go keeps any string): clipped to the text limit, counted', (_name, data, pick) => {
    const a = answer(ok(data));
    expect(a).toMatchObject({ dropped: 0, unfamiliar_values: 1 });
    const value = pick(a)!;
    expect(value.length).toBeLessThanOrEqual(LIMITS.text);
    if (value.length < LIMITS.text) expect(value).toBe('q'.repeat(300));
    else expect(value.endsWith('…')).toBe(true);
  });

  it('a time that is not RFC 3339 becomes Go\'s zero time (counted); RFC 3339 is kept as sent', () => {
    const a = answer(ok({
      apps: [app('w', { timestamps: { created_at: 'yesterday', last_updated_at: '2025-01-02T03:00:00.5+02:00' } })],
      images: [image('n', { analyzed_at: '2025-13-01T00:00:00Z' })],
    }));
    expect(a.apps[0].timestamps).toEqual({ created_at: Z, last_updated_at: '2025-01-02T03:00:00.5+02:00' });
    expect(a.images[0]).not.toHaveProperty('analyzed_at');
    expect(a.bad_times).toBe(2);
  });

  it('durations: a Go duration string or milliseconds become nanoseconds; processing.duration is kept as sent', () => {
    const a = answer(ok({
      apps: [app('w', { processing: { task_id: 'p', duration: 1234 } })],
      tasks: {
        image_analyzer: {
          average_analysis_time: '2.5s',
          recent_completed: [{ task_id: 'a', duration: 150 }, { task_id: 'b', duration: '1m30s' }, { task_id: 'c', duration: 'soon' }],
        },
      },
    }));
    expect(a.apps[0].processing).toEqual({ task_id: 'p', duration: 1234 });
    expect(a.image_analyzer?.average_analysis_time).toBe(2_500_000_000);
    expect(a.image_analyzer?.recent_completed?.map((t) => t.duration)).toEqual([150_000_000, 90_000_000_000, undefined]);
    expect(a.bad_durations).toBe(1);
    expect(answer(ok({ tasks: { image_analyzer: { average_analysis_time: 12.5 } } })).image_analyzer?.average_analysis_time).toBe(12_500_000);
  });

  const step = (extra: object) => ({ name: 'S', index: 1, total: 5, status: 'running', started_at: T, updated_at: T, retry_count: 0, ...extra });
  it.each([
    ['an app with state as a number', { apps: [app('bad', { state: 3 })] }, { apps: [goApp('bad', { state: '' })] }],
    ['an app whose current_step.index is a string', { apps: [app('bad', { current_step: step({ index: 'one' }) })] },
      { apps: [goApp('bad', { current_step: step({ index: 0 }) })] }],
    ['an app whose current_step.index is a fraction', { apps: [app('bad', { current_step: step({ index: 1.5 }) })] },
      { apps: [goApp('bad', { current_step: step({ index: 0 }) })] }],
    ['an app whose current_step is a string', { apps: [app('bad', { current_step: 'rendering' })] }, { apps: [goApp('bad')] }],
    ['an app whose processing.duration is a string', { apps: [app('bad', { processing: { task_id: 'p', duration: '5' } })] },
      { apps: [goApp('bad', { processing: { task_id: 'p', duration: 0 } })] }],
    ['an image with total_size as a string', { images: [image('bad', { total_size: '12', layer_count: 3 })] },
      { images: [goImage('bad', { layer_count: 3 })] }],
    ['an image with a number too large to be finite', JSON.parse('{"images":[{"image_name":"bad","status":"registry_error","total_size":1e400}]}'),
      { images: [goImage('bad', { status: 'registry_error' })] }],
    ['a hydrator task with retry_count as a string', { tasks: { hydrator: { tasks: [htask('t', { retry_count: 'x', total_steps: 5 })] } } },
      { hydrator: { queue_length: 0, active_tasks: 0, completed_tasks: 0, failed_tasks: 0, worker_count: 0, tasks: [goHtask('t', { total_steps: 5 })] } }],
  ])('keeps %s, leaving out only that field (its zero value), counted', (_name, data, kept) => {
    const a = answer(ok(data));
    expect(a).toMatchObject({ ...kept, dropped: 1 });
  });

  it.each([
    ['an app that is a string', { apps: [app('ok'), 'bad'] }, 'apps'],
    ['an app whose app_name is a number', { apps: [app('ok'), app('x', { app_name: 7 })] }, 'apps'],
    ['an app whose user_id is an object', { apps: [app('ok'), app('x', { user_id: { id: 'alice' } })] }, 'apps'],
    ['an image whose image_name is a list', { images: [image('ok'), image('x', { image_name: ['nginx'] })] }, 'images'],
  ])('drops only %s (its identity cannot be told), and counts it', (_name, data, list) => {
    const a = answer(ok(data)) as unknown as Record<string, Array<{ app_name?: string; image_name?: string }>>;
    expect(a[list]).toHaveLength(1);
    expect(a[list][0].app_name ?? a[list][0].image_name).toBe('ok');
    expect(answer(ok(data)).dropped).toBe(1);
  });

  it.each([
    ['an app_name of 1 MB', { apps: [app('x'.repeat(1 << 20), { app_id: 'big' })] }, (x: ChartRepoAnswer) => x.apps[0]?.app_name, LIMITS.id],
    ['an app_id of 300 characters', { apps: [app('wiki', { app_id: 'i'.repeat(300) })] }, (x: ChartRepoAnswer) => x.apps[0]?.app_id, LIMITS.id],
    ['a current step name', { apps: [app('wiki', { current_step: { name: 's'.repeat(300) } })] }, (x: ChartRepoAnswer) => x.apps[0]?.current_step?.name, LIMITS.id],
    ['an image_name past 1,024', { images: [image('n'.repeat(2000))] }, (x: ChartRepoAnswer) => x.images[0]?.image_name, 1024],
    ['a hydrator task id', { tasks: { hydrator: { tasks: [htask('t'.repeat(300))] } } }, (x: ChartRepoAnswer) => x.hydrator?.tasks?.[0]?.task_id, LIMITS.id],
    ['a hydrator step_name', { tasks: { hydrator: { tasks: [htask('t', { step_name: 's'.repeat(300) })] } } }, (x: ChartRepoAnswer) => x.hydrator?.tasks?.[0]?.step_name, LIMITS.id],
    ['an analysis task\'s image', { tasks: { image_analyzer: { queued_tasks: [{ task_id: 'q', images: ['i'.repeat(1500)] }] } } }, (x: ChartRepoAnswer) => x.image_analyzer?.queued_tasks?.[0]?.images?.[0], 1024],
  ])('keeps an item with %s (Go keeps any string): clipped to its bound, counted', (_name, data, pick, max) => {
    const a = answer(ok(data));
    expect(a).toMatchObject({ dropped: 0, clipped_values: 1 });
    const value = pick(a)!;
    expect(value).toHaveLength(max);
    expect(value.endsWith('…')).toBe(true);
  });

  it('truncates a fractional processing.duration (Go converts the number to an integer) and keeps the app', () => {
    const a = answer(ok({ apps: [app('w', { processing: { task_id: 'p', duration: 1234.9 } }), app('v', { processing: { duration: -0.5 } })] }));
    expect(a.apps.map((x) => x.processing)).toEqual([{ task_id: 'p', duration: 1234 }, { task_id: '', duration: 0 }]);
    expect(a).toMatchObject({ dropped: 0, clipped_values: 0 });
  });

  it('a dropped item\'s unfamiliar values, bad times and bad fields are not counted', () => {
    const a = answer(ok({ apps: [app('bad', { state: 'odd', app_id: 'i'.repeat(300), timestamps: { created_at: 'x' }, current_step: 5, source_id: 9 })] }));
    expect(a).toMatchObject({ apps: [], dropped: 1, unfamiliar_values: 0, bad_times: 0, clipped_values: 0 });
  });

  it('keeps an image node with a bad field, and drops a node without a name', () => {
    const a = answer(ok({ images: [image('nginx', { nodes: [{ node_name: 'n1' }, { node_name: 'n2', progress: 'half', os: 'linux' }, { node_name: 3 }] })] }));
    expect(a.images).toEqual([goImage('nginx', { nodes: [{ node_name: 'n1' }, { node_name: 'n2', os: 'linux' }] })]);
    expect(a.dropped).toBe(2);
  });

  it.each([
    ['apps as an object', { apps: { wiki: app('wiki') } }, 'data.apps is not a list'],
    ['apps as a string', { apps: 'lots', images: [image('nginx')] }, 'data.apps is not a list'],
    ['images as a number', { apps: [app('wiki')], images: 3 }, 'data.images is not a list'],
    ['hydrator tasks as an object', { tasks: { hydrator: { tasks: { t1: htask('t1') } } } }, 'data.tasks.hydrator.tasks is not a list'],
    ['recent hydrator failures as a string', { tasks: { hydrator: { recent_failed: 'none' } } }, 'data.tasks.hydrator.recent_failed is not a list'],
  ])('fails the whole answer for a list of the pair\'s items that is not a list: %s', (_name, data, error) => {
    // (read as no items it would empty the pair while the source said ok: failed, the pair keeps its last answer)
    expect(normalizeAnswer(ok(data), NOW)).toEqual({ ok: false, error });
  });

  it('counts a list inside an item or the image analyzer that is not a list, keeping the answer', () => {
    const a = answer(ok({ images: [image('nginx', { nodes: 'many' })], tasks: { image_analyzer: { is_running: true, queued_tasks: { q: 1 } } } }));
    expect(a.images).toEqual([goImage('nginx')]);
    expect(a.image_analyzer?.is_running).toBe(true);
    expect(a.dropped).toBe(2);
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

  it('keeps hydrator tasks when a counter has the wrong type (0 then), and drops tasks without an id alone', () => {
    const a = answer(ok({
      tasks: {
        hydrator: {
          queue_length: 'many', active_tasks: 2,
          tasks: [htask('t1'), htask('t2', { task_id: 2 })],
          recent_failed: [htask('f1', { last_error: 'render failed' })],
        },
      },
    }));
    expect(a.hydrator).toEqual({
      queue_length: 0, active_tasks: 2, completed_tasks: 0, failed_tasks: 0, worker_count: 0,
      tasks: [goHtask('t1')], recent_failed: [goHtask('f1', { last_error: 'render failed' })],
    });
    expect(a.dropped).toBe(2);
  });

  it('converts the image analyzer and its task lists item by item', () => {
    const a = answer(ok({
      tasks: {
        image_analyzer: {
          is_running: true, health_status: 'healthy', queue_length: 1, last_check: T,
          queued_tasks: [{ task_id: 'q1', images: ['a', 'b'] }, { task_id: 'q2', images: [1] }, { task_id: null, status: 7 }, { task_id: 3 }],
          recent_failed: null,
        },
      },
    }));
    const task = (id: string, extra: object = {}) => ({ task_id: id, app_name: '', app_dir: '', status: '', created_at: Z, images_count: 0, ...extra });
    expect(a.image_analyzer).toEqual({
      is_running: true, health_status: 'healthy', last_check: T, queue_length: 1, active_workers: 0, cached_images: 0,
      analyzing_count: 0, total_analyzed: 0, successful_analyzed: 0, failed_analyzed: 0, average_analysis_time: 0,
      // q2's images (not strings) and the third task's status are left out; the task whose id is a number is dropped
      queued_tasks: [task('q1', { images: ['a', 'b'] }), task('q2'), task('')],
    });
    expect(a.dropped).toBe(3);
  });

  it('treats a block with no valid field as absent, so it does not hide a later pair\'s block', () => {
    const broken = answer(ok({ system: { uptime: 'x', hostname: 7 } }));
    expect(broken.system).toBeUndefined();
    const fine = answer(ok({ system: { hostname: 'cr-1' } }));
    expect(mergeAnswers([broken, fine], NOW).system).toEqual({ hostname: 'cr-1' });
  });

  it('an idle hydrator, sent empty (the Chart Repo leaves zeros out), is zeros, as Go decodes it', () => {
    const idle = answer(ok({ tasks: { hydrator: {} } }));
    expect(idle.hydrator).toEqual({ queue_length: 0, active_tasks: 0, completed_tasks: 0, failed_tasks: 0, worker_count: 0 });
    expect(mergeAnswers([idle, idle], NOW).tasks?.hydrator).toEqual({ queue_length: 0, active_tasks: 0, completed_tasks: 0, failed_tasks: 0, worker_count: 0 });
  });

  it('counts a tasks block that is not an object', () => {
    expect(answer(ok({ tasks: 'busy' })).dropped).toBe(1);
  });
});

describe('normalizeAnswer: hostile input', () => {
  const deep = (n: number) => JSON.parse(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
  const deepList = (n: number) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`);

  it('leaves out JSON nested 100 000 deep without crashing', () => {
    const a = answer(ok({
      system: { hostname: 'cr', components: deep(100_000) },
      apps: [app('wiki', { current_step: { name: deep(100_000) } }), deepList(100_000)],
    }));
    expect(a.system).toEqual({ hostname: 'cr' });
    expect(a.apps).toEqual([goApp('wiki', { current_step: { name: '', index: 0, total: 0, status: '', started_at: Z, updated_at: Z, retry_count: 0 } })]);
    expect(a.dropped).toBe(3);
  });

  it('takes a duration string longer than any text as bad, unread (the parser\'s pattern overflows the stack on millions of parts)', () => {
    const a = answer(ok({ tasks: { image_analyzer: { is_running: true, average_analysis_time: '1s'.repeat(5_000_000) } } }));
    expect(a.image_analyzer?.average_analysis_time).toBe(0);
    expect(a.bad_durations).toBe(1);
  });

  it('ignores fields it does not know', () => {
    const a = answer(ok({ apps: [app('wiki', { extra: { deep: deep(1000) } })], surprise: 1 }));
    expect(a.apps).toEqual([goApp('wiki')]);
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

  it('concatenates apps, images and hydrator tasks, sums the counters (worker_count as Go: 0, the sum in worker_count_total), keeps the first system and analyzer', () => {
    const merged = mergeAnswers([empty, alice, bob], NOW);
    expect(merged).toEqual({
      system: { version: '1.0', hostname: 'first' },
      apps: [goApp('wiki'), goApp('blog', { user_id: 'bob' })],
      images: [goImage('wiki:1'), goImage('blog:1')],
      tasks: {
        hydrator: {
          queue_length: 5, active_tasks: 1, completed_tasks: 10, failed_tasks: 1, worker_count: 0, worker_count_total: 8,
          tasks: [goHtask('a1')], recent_failed: [goHtask('b1')],
        },
        image_analyzer: alice.image_analyzer,
      },
      last_update: NOW,
    });
    expect(v.safeParse(ChartRepoStatus, merged).issues).toBeUndefined();
  });

  it('takes the system block of the first answer that has one', () => {
    expect(mergeAnswers([empty, bob, alice], NOW).system?.hostname).toBe('second');
  });

  it('is an empty view when there are no answers (Go omits empty lists)', () => {
    expect(mergeAnswers([], NOW)).toEqual({ last_update: NOW });
  });

  it('has no tasks block when no answer had one', () => {
    expect(mergeAnswers([empty, empty], NOW).tasks).toBeUndefined();
  });
});

describe('chartRepoComponent', () => {
  it('is running and healthy when every pair answered', () => {
    expect(chartRepoComponent({ pairs: 3, failures: [], dropped: 0, now: NOW })).toEqual({
      name: 'chart_repo', healthy: true, status: 'running', last_check: NOW,
      metrics: { pairs: 3, dropped_items: 0 },
    });
  });

  it('says how many items were dropped when all answered', () => {
    expect(chartRepoComponent({ pairs: 1, failures: [], dropped: 4, now: NOW }).message).toBe('4 invalid items or fields left out');
  });

  it('is degraded when some pairs failed, naming the causes: the same whichever pairs and how many failed this pass', () => {
    const c = chartRepoComponent({
      pairs: 3, dropped: 0, now: NOW, failures: [{ user: 'bob', source: 'market', error: 'HTTP 500' }],
    });
    expect(c).toMatchObject({ healthy: true, status: 'degraded', message: 'some requests failed: HTTP 500' });
    expect(c.metrics).toEqual({ pairs: 3, dropped_items: 0 });
    // a Chart Repo failing at random: other pairs fail on the next pass, the component reads the same (no version)
    const next = chartRepoComponent({
      pairs: 3, dropped: 0, now: NOW, failures: [
        { user: 'carol', source: 'market', error: 'timeout after 5000 ms' },
        { user: 'alice', source: 'market', error: 'HTTP 500' },
      ],
    });
    const again = chartRepoComponent({
      pairs: 3, dropped: 0, now: NOW, failures: [
        { user: 'bob', source: 'market', error: 'HTTP 500' }, { user: 'alice', source: 'market', error: 'timeout after 5000 ms' },
      ],
    });
    expect(next.message).toBe('some requests failed: HTTP 500; timeout after 5000 ms');
    expect(again).toEqual(next);
  });

  it('is an unhealthy error when every pair failed', () => {
    const failures = [{ user: 'a', source: 's', error: 'connection refused' }];
    expect(chartRepoComponent({ pairs: 1, failures, dropped: 0, now: NOW })).toMatchObject({ healthy: false, status: 'error' });
  });

  it('bounds the message however many pairs failed', () => {
    const failures = Array.from({ length: 500 }, (_, i) => ({ user: `user${i}`, source: 'market', error: 'timeout after 5000 ms' }));
    const c = chartRepoComponent({ pairs: 500, failures, dropped: 0, now: NOW });
    expect(c.message!.length).toBeLessThanOrEqual(1024);
    expect(c.message).toBe('500/500 requests failed: timeout after 5000 ms (500 pairs: user0/market, user1/market, user2/market, …)');
  });

  it('names pairs failing alike once, the commonest cause first, and a lone failure with its pair, once every one failed', () => {
    const failures = [
      { user: 'alice', source: 'market', error: 'HTTP 500' },
      { user: 'bob', source: 'market', error: 'connection refused' },
      { user: 'carol', source: 'market', error: 'connection refused' },
    ];
    expect(chartRepoComponent({ pairs: 3, failures, dropped: 0, now: NOW }).message)
      .toBe('3/3 requests failed: connection refused (2 pairs: bob/market, carol/market); alice/market: HTTP 500');
    expect(chartRepoComponent({ pairs: 4, failures, dropped: 0, now: NOW }).message)
      .toBe('some requests failed: connection refused; HTTP 500');
  });

  it('stays degraded, as it read, until 3 clean passes in a row: a pass clean by chance mints no version', () => {
    const hold = new PartialFailureHold();
    const pass = (failed: number, pairs = 4) => hold.settle(chartRepoComponent({
      pairs, dropped: 0, now: NOW, failures: Array.from({ length: failed }, (_, i) => ({ user: `u${i}`, source: 's', error: 'HTTP 500' })),
    }));
    const degraded = pass(1);
    expect(degraded.status).toBe('degraded');
    expect([pass(0), pass(0)]).toEqual([degraded, degraded]);
    // a failure again starts the count over
    expect(pass(2)).toEqual(degraded);
    expect([pass(0), pass(0)].map((c) => c.status)).toEqual(['degraded', 'degraded']);
    expect(pass(0)).toEqual({ name: 'chart_repo', healthy: true, status: 'running', last_check: NOW, metrics: { pairs: 4, dropped_items: 0 } });
    // every request failing is an error at once, and its end is not held either
    expect(pass(4).status).toBe('error');
    expect(pass(0).status).toBe('running');
  });

  it('is running with zero pairs', () => {
    expect(chartRepoComponent({ pairs: 0, failures: [], dropped: 0, now: NOW })).toMatchObject({ healthy: true, status: 'running' });
  });
});
