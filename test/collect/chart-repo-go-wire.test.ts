import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeAnswers, normalizeAnswer, originsOf } from '../../src/collect/chart-repo.ts';
import type { ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { expectGoWire } from '../helpers/go-wire.ts';
import { pass } from '../helpers/store-fixtures.ts';

/**
 * Fuzzed Chart Repo answers through the normalizer, the merge and the store: whatever the Chart Repo sends
 * (unfamiliar enumerated values, times that are not RFC 3339, durations in any form, missing fields, wrong
 * types), every snapshot the store serves decodes as a Go client decodes it, filtered or not.
 */
const NOW = '2026-12-01T10:00:00.000Z';

const time = fc.oneof(
  fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('0001-01-01T00:00:00Z', '2026-12-01T10:00:00.123456789+05:30', 'yesterday', '2026-13-40T99:00:00Z',
    '2026-12-01 10:00:00', '', '1733047200',
    // impossible dates, and the forms only Go's lenient parser takes
    '2026-02-30T10:00:00Z', '2025-02-29T00:00:00Z', '2026-04-31T23:59:59+02:00', '1900-02-29T00:00:00Z',
    '2026-12-01T9:00:00Z', '2026-12-01T10:00:00,5Z', '2026-12-01T10:00:00.123456789123Z', '2026-12-01T10:00:00+24:00'),
  // any day 1-31 of any month: a Go client fails on a day past the month's end
  fc.tuple(fc.integer({ min: 1900, max: 2100 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }))
    .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T10:00:00Z`),
  fc.string({ maxLength: 30 }), fc.integer(),
);
const str = (known: string[]) => fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 12 }), fc.constant('x'.repeat(300)));
const int = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 1e9 }) }, fc.double(), fc.string({ maxLength: 4 }));
const duration = fc.oneof(fc.integer({ min: 0, max: 1e7 }), fc.double({ min: 0, max: 1e7, noNaN: true }),
  fc.constantFrom('2.5s', '150ms', '1h2m3.5s', '0', '-3us', 'soon', '5 minutes'));
/** any field may be missing, null, or of the wrong type now and then */
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: a }, fc.constant(null), fc.anything());
const rec = (shape: Record<string, fc.Arbitrary<unknown>>) =>
  fc.record(Object.fromEntries(Object.entries(shape).map(([k, a]) => [k, maybe(a)])), { requiredKeys: [] });

const users = ['alice', 'bob', 'carol'];
const app = rec({
  app_id: fc.string({ maxLength: 8 }), app_name: fc.constantFrom('wiki', 'blog', 'chat'), user_id: fc.constantFrom(...users),
  source_id: fc.constantFrom('market', 'local'), state: str(['pending', 'processing', 'completed', 'failed']),
  current_step: rec({ name: fc.string(), index: int, total: int, status: str(['running', 'retrying']), started_at: time, updated_at: time, retry_count: int }),
  processing: rec({ task_id: fc.string(), duration: int }),
  timestamps: rec({ created_at: time, last_updated_at: time }),
  error: rec({ message: fc.string(), step: fc.string() }),
});
const node = rec({ node_name: fc.string(), architecture: fc.string(), total_size: int, progress: fc.double() });
const image = rec({
  image_name: fc.string({ maxLength: 20 }), app_name: fc.constantFrom('wiki', 'blog'), status: str(['fully_downloaded', 'registry_error']),
  total_size: int, download_progress: fc.double({ noNaN: true }), analysis_status: str(['completed', 'failed']),
  analyzed_at: time, nodes: fc.array(node, { maxLength: 3 }),
});
const htask = rec({ task_id: fc.string(), user_id: fc.constantFrom(...users), status: fc.string(), total_steps: int, retry_count: int, created_at: time, updated_at: time });
const atask = rec({ task_id: fc.string(), status: fc.string(), created_at: time, started_at: time, duration, images_count: int, images: fc.array(fc.string(), { maxLength: 3 }) });
const data = rec({
  system: rec({ uptime: int, version: fc.string(), hostname: fc.string(), components: fc.dictionary(fc.string(), fc.jsonValue()) }),
  apps: fc.array(app, { maxLength: 5 }),
  images: fc.array(image, { maxLength: 5 }),
  tasks: rec({
    hydrator: rec({ queue_length: int, active_tasks: int, worker_count: int, tasks: fc.array(htask, { maxLength: 3 }), recent_failed: fc.array(htask, { maxLength: 2 }) }),
    image_analyzer: rec({
      is_running: fc.boolean(), health_status: str(['healthy']), last_check: time, queue_length: int,
      average_analysis_time: duration, recent_completed: fc.array(atask, { maxLength: 3 }), processing_tasks: fc.array(atask, { maxLength: 2 }),
    }),
  }),
});

function snapshotOf(answers: { user: string; source: string; answer: ChartRepoAnswer }[]): RuntimeStore {
  const store = new RuntimeStore(() => new Date(NOW));
  store.apply(pass('chart_repo', [
    { op: 'chart_repo', value: mergeAnswers(answers.map((a) => a.answer), NOW), origins: originsOf(answers) },
  ], { finished_at: NOW }));
  store.commit();
  return store;
}

describe('Chart Repo payloads, fuzzed, as a Go client sees them', () => {
  it('every snapshot decodes with Go\'s rules, whole and filtered by user, source or app', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(...users), fc.constantFrom('market', 'local'), data), { maxLength: 4 }), (pairs) => {
      const answers = pairs.flatMap(([user, source, d]) => {
        const r = normalizeAnswer({ success: true, data: d }, NOW);
        return r.ok ? [{ user, source, answer: r.answer }] : [];
      });
      const store = snapshotOf(answers);
      expectGoWire(store.state({}));
      expectGoWire(store.state({ user_id: 'alice' }));
      expectGoWire(store.state({ source_id: 'local', app_name: 'wiki' }));
    }), {
      numRuns: 150,
      // found in CI (seed 722371851): two pairs' counters, each a safe integer, summed past 2^53
      examples: [[[['alice', 'market', { tasks: { hydrator: { worker_count: 16 } } }], ['alice', 'market', { tasks: { hydrator: { worker_count: 9007199254740976 } } }]]]],
    });
  });

  it('counts what it converted: an unfamiliar state, a bad time and a bad duration', () => {
    const r = normalizeAnswer({ success: true, data: {
      apps: [{ app_name: 'wiki', state: 'frozen', timestamps: { created_at: 'last week' } }],
      tasks: { image_analyzer: { average_analysis_time: 'a while' } },
    } }, NOW);
    expect(r.ok && r.answer).toMatchObject({ unfamiliar_values: 1, bad_times: 1, bad_durations: 1, dropped: 0 });
    if (r.ok) expectGoWire(snapshotOf([{ user: 'alice', source: 'market', answer: r.answer }]).state({}));
  });

  it('an impossible date is a bad time (the zero time); what Go decodes leniently is kept, as Go marshals it', () => {
    const r = normalizeAnswer({ success: true, data: {
      apps: [{ app_name: 'wiki', timestamps: { created_at: '2026-02-30T10:00:00Z', last_updated_at: '2026-12-01T10:00:00.1234567891Z' } }],
    } }, NOW);
    expect(r.ok && r.answer.bad_times).toBe(1);
    expect(r.ok && r.answer.apps[0].timestamps)
      .toEqual({ created_at: '0001-01-01T00:00:00Z', last_updated_at: '2026-12-01T10:00:00.123456789Z' });
  });
});

describe('the Go-client check itself', () => {
  const good = JSON.parse(snapshotOf([]).state({}));
  const withChart = (chart: object) => ({ ...good, chart_repo: { last_update: NOW, ...chart } });
  const app = { app_id: '', app_name: 'w', user_id: '', source_id: '', state: 'completed', last_update: NOW };
  const task = { task_id: 't', type: 'install', status: 'pending', app_name: 'w', created_at: NOW };
  const goApp = (status: object) => ({
    app_id: 'w', app_name: 'w', user_id: 'u', source_id: 's', stage: 'running', last_update: NOW,
    metadata: { status: { name: 'w', rawAppName: 'w', isSysApp: false, title: '', state: 'running', updateTime: '', statusTime: '', lastTransitionTime: '', entranceStatuses: null, ...status } },
  });

  it.each([
    ['a time that is not RFC 3339', withChart({ apps: [{ ...app, last_update: 'yesterday' }] }), /last_update/],
    ['an impossible date (30 February)', withChart({ apps: [{ ...app, last_update: '2026-02-30T10:00:00Z' }] }), /last_update/],
    ['29 February of a common year', withChart({ last_update: '2025-02-29T10:00:00Z' }), /last_update/],
    ['a fraction in an integer', withChart({ apps: [{ ...app, current_step: { name: '', index: 1.5, total: 5, status: '', started_at: NOW, updated_at: NOW, retry_count: 0 } }] }), /index/],
    ['a missing always-present key', withChart({ apps: [{ ...app, current_step: { name: '', total: 5, status: '', started_at: NOW, updated_at: NOW, retry_count: 0 } }] }), /index/],
    ['a summary count missing', { ...good, summary: { ...good.summary, total_apps: undefined } }, /total_apps/],
    // omitempty keys present with their zero value: Go would have left them out
    ['a task\'s progress of 0', { ...good, tasks: { t: { ...task, progress: 0 } } }, /tasks\.t\.progress: an omitempty key/],
    ['a task\'s empty metadata map', { ...good, tasks: { t: { ...task, metadata: {} } } }, /tasks\.t\.metadata/],
    ['a task\'s started_at of Go\'s zero time', { ...good, tasks: { t: { ...task, started_at: '0001-01-01T00:00:00Z' } } }, /started_at/],
    ['a component\'s empty message', { ...good, components: { c: { name: 'c', healthy: false, status: 'error', last_check: NOW, message: '' } } }, /components\.c\.message/],
    ['an image\'s total_size of 0', withChart({ images: [{ image_name: 'i', status: 's', last_update: NOW, total_size: 0 }] }), /images\.0\.total_size/],
    ['an empty image list', withChart({ images: [] }), /chart_repo\.images/],
    ['an entrance\'s skip of false', { ...good, app_states: { k: goApp({ entranceStatuses: [{ name: 'e', port: 0, invisible: false, skip: false }] }) } }, /entranceStatuses\.0\.skip/],
  ])('rejects %s', (_n, snapshot, path) => {
    expect(() => expectGoWire(snapshot)).toThrow(path);
  });

  it('accepts our additive keys', () => {
    expect(() => expectGoWire({ ...good, version: 3, sources: {}, extra: { x: 1 } })).not.toThrow();
  });

  it('accepts what Go sends always with its zero value, and omitempty keys that are set', () => {
    const set = { ...good, tasks: { t: { ...task, progress: 10, metadata: { a: 1 } } }, app_states: { k: goApp({ entranceStatuses: [{ name: 'e', port: 0, invisible: false, skip: true }] }) } };
    expect(() => expectGoWire(set)).not.toThrow();
    expect(() => expectGoWire(withChart({ images: [{ image_name: '', status: '', last_update: NOW, total_size: 1 }] }))).not.toThrow();
  });
});
