import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { answersData, normalizedAnswers, NOW, snapshotOf } from '../helpers/chart-repo-arbitraries.ts';
import { expectGoWire } from '../helpers/go-wire.ts';

/**
 * Fuzzed Chart Repo answers through the normalizer, the merge and the store: whatever the Chart Repo sends
 * (unfamiliar enumerated values, times that are not RFC 3339, durations in any form, missing fields, wrong
 * types), every snapshot the store serves decodes as a Go client decodes it, filtered or not.
 */
describe('Chart Repo payloads, fuzzed, as a Go client sees them', () => {
  it('every snapshot decodes with Go\'s rules, whole and filtered by user, source or app', () => {
    fc.assert(fc.property(answersData, (pairs) => {
      const store = snapshotOf(normalizedAnswers(pairs));
      expectGoWire(store.state({}));
      expectGoWire(store.state({ user_id: 'alice' }));
      expectGoWire(store.state({ source_id: 'local', app_name: 'wiki' }));
    }), {
      numRuns: 150,
      // found in CI (seed 722371851): two pairs' counters, each a safe integer, summed past 2^53
      examples: [[[['alice', 'market', { tasks: { hydrator: { worker_count: 16 } } }], ['bob', 'market', { tasks: { hydrator: { worker_count: 9007199254740976 } } }]]]],
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

describe('the zero time, however the Chart Repo spells it', () => {
  const spellings = ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00+00:00', '0001-01-01T00:00:00.000Z', '0001-01-01T01:00:00+01:00'];

  it.each(spellings)('%s: left out of an omitempty time key, written as Go\'s zero time where the key is always sent', (zero) => {
    const r = normalizeAnswer({ success: true, data: {
      apps: [{ app_name: 'wiki', timestamps: { created_at: zero, last_updated_at: NOW }, current_step: { started_at: zero } }],
      images: [{ image_name: 'i', analyzed_at: zero, error_message: zero }],
      tasks: { image_analyzer: { last_check: zero, recent_completed: [{ task_id: 't', created_at: zero, started_at: zero, completed_at: zero }] } },
    } }, NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.answer.bad_times).toBe(0);
    expect(r.answer.apps[0].timestamps!.created_at).toBe('0001-01-01T00:00:00Z');
    expect(r.answer.apps[0].current_step!.started_at).toBe('0001-01-01T00:00:00Z');
    expect(r.answer.images[0]).not.toHaveProperty('analyzed_at');
    // a string key is a string: the zero time's text in it is not empty
    expect(r.answer.images[0].error_message).toBe(zero);
    const analyzer = r.answer.image_analyzer!;
    expect(analyzer.last_check).toBe('0001-01-01T00:00:00Z');
    expect(analyzer.recent_completed![0]).toEqual({ task_id: 't', app_name: '', app_dir: '', status: '', created_at: '0001-01-01T00:00:00Z', images_count: 0 });
    expectGoWire(snapshotOf([{ user: 'alice', source: 'market', answer: r.answer }]).state({}));
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
    // Go's lenient decoder takes these, but what we send is RFC 3339 (goTimeText rewrites them)
    ['a one-digit hour', withChart({ last_update: '2026-12-01T1:00:00Z' }), /last_update: not an RFC 3339 time/],
    ['a comma before the fraction', { ...good, timestamp: '2026-12-01T10:00:00,5Z' }, /timestamp: not an RFC 3339 time/],
    ['an offset of 24 hours', { ...good, tasks: { t: { ...task, created_at: '2026-12-01T10:00:00+24:00' } } }, /created_at: not an RFC 3339 time/],
    ['ten fractional digits', withChart({ apps: [{ ...app, last_update: '2026-12-01T10:00:00.1234567891Z' }] }), /last_update/],
    ['a fraction in an integer', withChart({ apps: [{ ...app, current_step: { name: '', index: 1.5, total: 5, status: '', started_at: NOW, updated_at: NOW, retry_count: 0 } }] }), /index/],
    ['a missing always-present key', withChart({ apps: [{ ...app, current_step: { name: '', total: 5, status: '', started_at: NOW, updated_at: NOW, retry_count: 0 } }] }), /index/],
    ['a summary count missing', { ...good, summary: { ...good.summary, total_apps: undefined } }, /total_apps/],
    // omitempty keys present with their zero value: Go would have left them out
    ['a task\'s progress of 0', { ...good, tasks: { t: { ...task, progress: 0 } } }, /tasks\.t\.progress: an omitempty key/],
    ['a task\'s empty metadata map', { ...good, tasks: { t: { ...task, metadata: {} } } }, /tasks\.t\.metadata/],
    ['a task\'s started_at of Go\'s zero time', { ...good, tasks: { t: { ...task, started_at: '0001-01-01T00:00:00Z' } } }, /started_at/],
    ['a task\'s started_at of the zero time with +00:00', { ...good, tasks: { t: { ...task, started_at: '0001-01-01T00:00:00+00:00' } } }, /tasks\.t\.started_at: an omitempty key/],
    ['an image\'s analyzed_at of the zero time with milliseconds', withChart({ images: [{ image_name: 'i', status: 's', last_update: NOW, analyzed_at: '0001-01-01T00:00:00.000Z' }] }), /images\.0\.analyzed_at: an omitempty key/],
    // Go metric keys our sources always tell are required: a collector that stopped sending one fails
    ['a cache without total_users', { ...good, components: { cache: { name: 'cache', healthy: true, status: 'running', last_check: NOW, metrics: { total_apps: 1, total_app_info_latest: 1, total_app_state_latest: 1, total_app_info_pending: 0, total_sources: 1 } } } }, /components\.cache\.metrics\.total_users: /],
    ['a hydrator without queue_length', { ...good, components: { hydrator: { name: 'hydrator', healthy: true, status: 'running', last_check: NOW, metrics: { completed_tasks_count: 1, failed_tasks_count: 0 } } } }, /components\.hydrator\.metrics\.queue_length: /],
    ['a task_module without running_tasks', { ...good, components: { task_module: { name: 'task_module', healthy: true, status: 'running', last_check: NOW, metrics: { pending_tasks: 0 } } } }, /components\.task_module\.metrics\.running_tasks: /],
    ['a component\'s empty message', { ...good, components: { c: { name: 'c', healthy: false, status: 'error', last_check: NOW, message: '' } } }, /components\.c\.message/],
    ['an image\'s total_size of 0', withChart({ images: [{ image_name: 'i', status: 's', last_update: NOW, total_size: 0 }] }), /images\.0\.total_size/],
    ['an empty image list', withChart({ images: [] }), /chart_repo\.images/],
    ['an entrance\'s skip of false', { ...good, app_states: { 'u:s:w': goApp({ entranceStatuses: [{ name: 'e', port: 0, invisible: false, skip: false }] }) } }, /entranceStatuses\.0\.skip/],
  ])('rejects %s', (_n, snapshot, path) => {
    expect(() => expectGoWire(snapshot)).toThrow(path);
  });

  it('takes a string key holding the zero time\'s text for a string, not a time', () => {
    expect(() => expectGoWire(withChart({ images: [{ image_name: 'i', status: 's', last_update: NOW, error_message: '0001-01-01T00:00:00Z' }] }))).not.toThrow();
  });

  it('accepts our additive keys', () => {
    expect(() => expectGoWire({ ...good, version: 3, sources: {}, extra: { x: 1 } })).not.toThrow();
  });

  it('accepts what Go sends always with its zero value, and omitempty keys that are set', () => {
    const set = { ...good, tasks: { t: { ...task, progress: 10, metadata: { a: 1 } } }, app_states: { 'u:s:w': goApp({ entranceStatuses: [{ name: 'e', port: 0, invisible: false, skip: true }] }) } };
    expect(() => expectGoWire(set)).not.toThrow();
    expect(() => expectGoWire(withChart({ images: [{ image_name: '', status: '', last_update: NOW, total_size: 1 }] }))).not.toThrow();
  });
});
