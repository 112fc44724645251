/**
 * A Chart Repo answer that says what it said before needs no parse (issue 20: cost follows change): its text
 * less the members that only tell time passing is the key. Equal keys must mean equal content.
 */
import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { splitAnswer } from '../../src/collect/chart-repo-answer-key.ts';
import {
  bodyContentKey, keepAnswerTimes, RESOURCE_COUNTERS, sameItemContent, sharedAnswerText, splitMeasurements,
} from '../../src/collect/chart-repo-content.ts';
import { LIMITS } from '../../src/model/index.ts';

const body = (over: { uptime?: unknown; state?: string; duration?: unknown; check?: unknown; note?: string } = {}) => JSON.stringify({
  success: true, message: 'ok', data: {
    system: { hostname: 'repo-1', uptime: over.uptime ?? 100 },
    apps: [{ app_name: 'wiki', state: over.state ?? 'processing', note: over.note ?? '', processing: { task_id: 'h1', duration: over.duration ?? 5e9 } }],
    tasks: { image_analyzer: { is_running: true, last_check: over.check ?? '2026-12-01T10:00:00Z', queue_length: 0 } },
  },
});

describe('bodyContentKey', () => {
  it.each([
    ['the uptime', { uptime: 101 }],
    ['the image analyzer\'s last_check', { check: '2026-12-01T10:00:05Z' }],
  ])('is the same when only %s moved', (_what, over) => {
    expect(bodyContentKey(body(over))).toBe(bodyContentKey(body()));
  });

  it.each([
    ['an item\'s state', { state: 'completed' }],
    // (the pattern keys the Chart Repo's own blocks, where every duration is content; a running app's
    // processing.duration is left out by answerKey: chart-repo-answer-key.test.ts)
    ['a duration', { duration: '7.5s' }],
    ['a string that merely contains a time-passing member', { note: ',"uptime":1' }],
    ['the same string with other text in it', { note: '{"duration":2}' }],
  ])('differs when %s differs', (_what, over) => {
    expect(bodyContentKey(body(over))).not.toBe(bodyContentKey(body()));
  });

  it('leaves a string value alone even when it spells a member', () => {
    const a = body({ note: ',"uptime":1}' });
    const b = body({ note: ',"uptime":2}' });
    expect(bodyContentKey(a)).not.toBe(bodyContentKey(b));
  });

  it('keys a time-passing value of millions of characters (the pattern once overflowed the stack on it)', () => {
    const long = 'x'.repeat(20_000_000);
    expect(bodyContentKey(body({ check: long }))).toBe(bodyContentKey(body()));
    expect(bodyContentKey(body({ check: `"${long}\\` }))).toBe(bodyContentKey(body()));
  });
});

describe('splitAnswer', () => {
  const answer = {
    success: true, data: {
      system: { hostname: 'repo-1', resource_usage: { memory_mb: 211 } },
      apps: [{ app_name: 'wiki', system: { keep: 'me' }, note: '"system":{"x":1}' }],
      images: [{ image_name: 'wiki:1', nodes: [{ node_name: 'n1' }] }],
      tasks: { hydrator: { queue_length: 2 }, image_analyzer: { queue_length: 375, queued_tasks: [{ task_id: 'a', images: ['x'] }] } },
    },
  };
  const text = JSON.stringify(answer);

  it('takes out data.system and data.tasks.image_analyzer, and nothing else', () => {
    const { pair, shared } = splitAnswer(Buffer.from(text));
    expect(JSON.parse(pair)).toEqual({ ...answer, data: { ...answer.data, system: null, tasks: { ...answer.data.tasks, image_analyzer: null } } });
    expect(JSON.parse(shared.system!)).toEqual(answer.data.system);
    expect(JSON.parse(shared.image_analyzer!)).toEqual(answer.data.tasks.image_analyzer);
    expect(JSON.parse(sharedAnswerText(shared))).toEqual({ success: true, data: { system: answer.data.system, tasks: { image_analyzer: answer.data.tasks.image_analyzer } } });
  });

  it.each([
    ['pretty-printed', JSON.stringify(answer, null, 2)],
    ['with escapes in names and strings', JSON.stringify({ data: { 'sys\"tem': {}, system: { h: 'a\\"b}' } } })],
  ])('reads %s text', (_what, t) => {
    const { pair, shared } = splitAnswer(Buffer.from(t));
    expect(JSON.parse(shared.system!)).toEqual((JSON.parse(t) as { data: { system: unknown } }).data.system);
    expect((JSON.parse(pair) as { data: { system: unknown } }).data.system).toBeNull();
  });

  it.each([
    ['no shared blocks', '{"success":true,"data":{"apps":[]}}'],
    ['a shared block that is not an object', '{"success":true,"data":{"system":"up"}}'],
    ['not JSON', '<html>oops'],
    ['cut short inside a shared block', text.slice(0, 60)],
  ])('leaves the text whole with %s', (_what, t) => {
    expect(splitAnswer(Buffer.from(t)).pair).toBe(t);
  });
});

describe('sameItemContent (an item kept at its last change)', () => {
  it('passes over the time-passing members of every app and image normalizeAnswer builds, and only those', () => {
    const t = '2026-12-01T10:00:00Z';
    const r = normalizeAnswer({ success: true, data: {
      apps: [{
        app_id: 'wiki', app_name: 'wiki', user_id: 'alice', source_id: 'market', state: 'processing',
        current_step: { name: 'render', index: 1, total: 3, status: 'running', started_at: t, updated_at: t, retry_count: 1 },
        processing: { task_id: 'h1', duration: 5e9 }, timestamps: { created_at: t, last_updated_at: t },
        error: { message: 'slow', step: 'render' },
      }],
      images: [{
        image_name: 'nginx:1', status: 'downloading', app_id: 'wiki', app_name: 'wiki', architecture: 'amd64', total_size: 10,
        downloaded_size: 5, download_progress: 50, layer_count: 2, downloaded_layers: 1, analysis_status: 'completed',
        analyzed_at: t, error_message: '', nodes: [{ node_name: 'n1', architecture: 'amd64', os: 'linux', total_size: 10, downloaded_size: 5, layer_count: 2, downloaded_layers: 1, progress: 50 }],
      }],
    } }, t);
    expect(r.ok).toBe(true);
    const answer = r.ok ? r.answer : null;
    const app = answer!.apps[0]!;
    const image = answer!.images[0]!;
    // time passing: a new conversion time, a running app's longer processing
    expect(sameItemContent(app, { ...app, last_update: '2026-12-01T10:00:05Z', processing: { task_id: 'h1', duration: 9e9 } })).toBe(true);
    expect(sameItemContent(image, { ...image, last_update: '2026-12-01T10:00:05Z' })).toBe(true);
    // a finished app's duration no longer grows: it is content
    const finished = { ...app, state: 'completed' };
    expect(sameItemContent(finished, { ...finished, processing: { task_id: 'h1', duration: 9e9 } })).toBe(false);
    // everything else is content: any other member changed, taken away or added makes another item
    for (const item of [app, image] as Record<string, unknown>[]) {
      for (const k of Object.keys(item).filter((k) => k !== 'last_update')) {
        const changed = k === 'processing' ? { task_id: 'h2', duration: 5e9 } : typeof item[k] === 'object' ? { other: 1 } : `${String(item[k])}x`;
        expect(sameItemContent(item, { ...item, [k]: changed }), k).toBe(false);
        const { [k]: _gone, ...less } = item;
        expect(sameItemContent(item, less), `${k} taken away`).toBe(false);
      }
      expect(sameItemContent(item, { ...item, added: 1 })).toBe(false);
    }
  });

  it('keeps an unchanged item of a changed answer as the earlier object, found by its key when the list moved', () => {
    const t = '2026-12-01T10:00:00Z';
    const app = (name: string, state = 'processing') => ({ app_id: name, app_name: name, user_id: 'alice', source_id: 'market', state, processing: { task_id: 'h', duration: 1e9 } });
    const convert = (apps: object[], now: string) => {
      const r = normalizeAnswer({ success: true, data: { apps } }, now, { user: 'alice', source: 'market' });
      if (!r.ok) throw new Error(r.error);
      return r.answer;
    };
    const before = convert([app('wiki'), app('blog')], t);
    const now = keepAnswerTimes(before, convert([app('new'), { ...app('wiki'), processing: { task_id: 'h', duration: 3e9 } }, app('blog', 'completed')], '2026-12-01T10:00:30Z'));
    expect(now.apps[0]!.last_update).toBe('2026-12-01T10:00:30Z');
    expect(now.apps[1]).toBe(before.apps[0]);
    expect(now.apps[2]).not.toBe(before.apps[1]);
    expect(now.apps[2]!.last_update).toBe('2026-12-01T10:00:30Z');
  });
});

describe('splitMeasurements: the Chart Repo\'s uptime and resource usage are measurements, moved out of its system block', () => {
  it.each([
    ['the uptime, in whole seconds', '{"version":"1","uptime":4321.7}', '{"version":"1"}', { chart_repo_uptime: 4321 }],
    ['an uptime that is no count of seconds: dropped', '{"uptime":"long"}', '{}', {}],
    ['usage numbers, top level and one down', '{"hostname":"h","uptime":5,"resource_usage":{"memory_mb":12,"cpu":{"user_s":3.5,"name":"x"},"tags":["a"]}}',
      '{"hostname":"h"}', { chart_repo_uptime: 5, chart_repo_resource_usage_memory_mb: 12, chart_repo_resource_usage_cpu_user_s: 3.5 }],
    ['names made counter-safe', '{"resource_usage":{"Heap In-Use (MB)":7}}', '{}', { chart_repo_resource_usage_heap_in_use_mb: 7 }],
    ['not an object: dropped, the block kept', '{"version":"1","resource_usage":"lots"}', '{"version":"1"}', {}],
    ['no measurement: the text as it came', '{ "hostname" : "h" }', '{ "hostname" : "h" }', {}],
    ['a name only inside a string: the text as it came', '{"hostname":"\\"uptime\\""}', '{"hostname":"\\"uptime\\""}', {}],
    ['not JSON: left for the parse to count', '{"resource_usage":', '{"resource_usage":', {}],
  ])('%s', (_name, text, system, counters) => {
    expect(splitMeasurements(text)).toEqual({ system, counters, dropped: 0 });
  });

  // (values JSON.stringify cannot write: the test builds them as text, as the Chart Repo would send them)
  const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  it.each([
    ['a list 200,000 deep beside the uptime', `{"uptime":5,"hostname":"h","deep":${nested(200_000)}}`, '{"hostname":"h"}', { chart_repo_uptime: 5 }, 1],
    ['components 200,000 deep', `{"uptime":5,"components":{"db":${deepObject(200_000)}},"version":"1"}`, '{"version":"1"}', { chart_repo_uptime: 5 }, 1],
    ['deep members and no measurement', `{"hostname":"h","deep":${nested(200_000)},"components":${deepObject(9)}}`, '{"hostname":"h"}', {}, 2],
    ['one level past the bound', `{"uptime":5,"components":${deepObject(LIMITS.jsonDepth + 1)}}`, '{}', { chart_repo_uptime: 5 }, 1],
    ['at the bound: kept', `{"uptime":5,"components":${deepObject(LIMITS.jsonDepth)}}`, `{"components":${deepObject(LIMITS.jsonDepth)}}`, { chart_repo_uptime: 5 }, 0],
    ['a deep usage: its numbers read, the rest dropped as always', `{"uptime":5,"resource_usage":{"mb":3,"deep":${nested(200_000)}}}`, '{}', { chart_repo_uptime: 5, chart_repo_resource_usage_mb: 3 }, 0],
  ])('leaves out and counts each member nested past the depth bound: %s', (_name, text, system, counters, dropped) => {
    expect(splitMeasurements(text)).toEqual({ system, counters, dropped });
  });

  it(`keeps at most ${RESOURCE_COUNTERS} counters, whatever the Chart Repo sends`, () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`m${i}`, i]));
    const { counters } = splitMeasurements(JSON.stringify({ resource_usage: many }));
    expect(Object.keys(counters)).toHaveLength(RESOURCE_COUNTERS);
  });
});
