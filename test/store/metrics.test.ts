import { describe, expect, it } from 'vitest';
import { StoreActor } from '../../src/store/actor.ts';
import type { PassMessage } from '../../src/protocol.ts';
import { storeMetricsText } from '../../src/http/store-metrics.ts';
import { parseProm, sum, value } from '../helpers/prom.ts';
import { app, outcome, pass as passOf, T0, task } from '../helpers/store-fixtures.ts';

function pass(seq: number, ok: boolean, steps: PassMessage['steps'] = [], duration_ms = 120): PassMessage {
  return passOf('tasks', steps, { ok, error: ok ? null : 'connect ECONNREFUSED', duration_ms }, seq);
}

describe('store metrics (computed in the store thread from its state)', () => {
  it('counts apps by stage and health, tasks by status and type, and matches the summary', async () => {
    const actor = new StoreActor();
    actor.expectSources(['tasks', 'app_flow']);
    actor.receive(pass(1, true, [
      { op: 'replace', domain: 'tasks', items: [
        task('t1', 'a', undefined, { status: 'running' }),
        task('t2', 'a', undefined, { type: 'upgrade', status: 'failed' }),
        task('t3', 'b', undefined, { status: 'pending' }),
      ] },
      { op: 'replace', domain: 'app_states', items: [
        app('u', 's', 'a'),
        { app_id: 'b', app_name: 'b', user_id: 'u', source_id: 's', stage: 'installing', last_update: T0, stage_since: '2020-01-01T00:00:00.000Z' },
      ] },
    ]));
    const e = parseProm(await storeMetricsText(actor.queryApi.metrics()));
    const summary = actor.store.getSummary();
    expect(sum(e, 'market_runtime_apps_by_stage')).toBe(summary.total_apps);
    expect(sum(e, 'market_runtime_apps_by_health')).toBe(summary.total_apps);
    expect(value(e, 'market_runtime_apps_by_health', { health: 'healthy' })).toBe(summary.healthy_apps);
    expect(value(e, 'market_runtime_apps_by_health', { health: 'unknown' })).toBe(1);
    expect(value(e, 'market_runtime_apps_by_stage', { stage: 'installing' })).toBe(1);
    expect(value(e, 'market_runtime_apps_by_stage', { stage: 'failed' })).toBe(0);
    expect(sum(e, 'market_runtime_tasks_by_status')).toBe(summary.total_tasks);
    expect(value(e, 'market_runtime_tasks_by_status', { status: 'running' })).toBe(summary.running_tasks);
    expect(value(e, 'market_runtime_tasks_by_type', { type: 'install' })).toBe(2);
    expect(value(e, 'market_runtime_component_healthy', { component: 'collector_tasks' })).toBe(1);
    expect(value(e, 'market_runtime_store_version')).toBe(actor.store.version);
    expect(value(e, 'market_runtime_store_ready')).toBe(0);
    // installing since 2020 is stuck; t1 and t3 (created at T0, far in the past) are too
    expect(value(e, 'market_runtime_stuck_apps')).toBe(summary.stuck_apps);
    expect(summary.stuck_apps).toBe(1);
    expect(value(e, 'market_runtime_stuck_tasks')).toBe(summary.stuck_tasks);
    expect(summary.stuck_tasks).toBe(2);
    // one timeline entry per app and task seen (each history begins with its first state)
    expect(value(e, 'market_runtime_timeline_entries', { kind: 'app_states' })).toBe(2);
    expect(value(e, 'market_runtime_timeline_entries', { kind: 'tasks' })).toBeGreaterThanOrEqual(3);
    // an expected source that never ran already has its series
    expect(value(e, 'market_runtime_collection_failures_total', { source: 'app_flow' })).toBe(0);
    expect(value(e, 'market_runtime_collection_last_success_timestamp_seconds', { source: 'app_flow' })).toBe(0);
  });

  it('observes pass durations, failures and the last success per source', async () => {
    const actor = new StoreActor();
    actor.expectSources(['tasks']);
    actor.receive(pass(1, true, [], 40));
    actor.receive(pass(2, false, [], 2000));
    actor.reportOutcome('tasks', outcome({ ok: false, error: 'deadline', duration_ms: 7000 }));
    const e = parseProm(await storeMetricsText(actor.queryApi.metrics()));
    expect(value(e, 'market_runtime_collection_failures_total', { source: 'tasks' })).toBe(2);
    expect(value(e, 'market_runtime_collection_consecutive_failures', { source: 'tasks' })).toBe(2);
    expect(value(e, 'market_runtime_source_up', { source: 'tasks' })).toBe(0);
    expect(value(e, 'market_runtime_collection_last_success_timestamp_seconds', { source: 'tasks' })).toBe(Date.parse(T0) / 1000);
    expect(sum(e, 'market_runtime_collection_duration_seconds_count', { source: 'tasks' })).toBe(3);
    expect(value(e, 'market_runtime_collection_duration_seconds_bucket', { source: 'tasks', result: 'ok', le: '0.05' })).toBe(1);
    expect(value(e, 'market_runtime_collection_duration_seconds_sum', { source: 'tasks', result: 'error' })).toBeCloseTo(9);
    expect(e.types.get('market_runtime_collection_duration_seconds')).toBe('histogram');
  });
  it('exports each expected source\'s interval, and counts a source down until its first pass succeeds', async () => {
    const actor = new StoreActor();
    actor.expectSources(['tasks', 'app_flow'], 5000);
    actor.receive(pass(1, true));
    const e = parseProm(await storeMetricsText(actor.queryApi.metrics()));
    expect(value(e, 'market_runtime_collect_interval_seconds', { source: 'tasks' })).toBe(5);
    expect(value(e, 'market_runtime_collect_interval_seconds', { source: 'app_flow' })).toBe(5);
    expect(value(e, 'market_runtime_source_up', { source: 'tasks' })).toBe(1);
    expect(value(e, 'market_runtime_source_up', { source: 'app_flow' })).toBe(0);
  });
});
