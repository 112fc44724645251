/**
 * What collectors hand the store, built with defaults a test overrides where it matters: an app, a task, and
 * a collection pass. One copy for the store's tests and the HTTP harness (test/http/store-harness.ts).
 */
import type { AppFlowState, TaskState } from '../../src/model/index.ts';
import type { PassMessage, PassOutcome, StoreStep } from '../../src/protocol.ts';

export const T0 = '2026-11-25T10:00:00.000Z';

/** An app running and healthy, last seen at T0. */
export function app(user_id: string, source_id: string, app_name: string, over: Partial<AppFlowState> = {}): AppFlowState {
  return { app_id: app_name, app_name, user_id, source_id, stage: 'running', health: 'healthy', last_update: T0, ...over };
}

/** A completed install task created at T0 (`user_id` undefined: a row without one). */
export function task(task_id: string, app_name: string, user_id: string | undefined, over: Partial<TaskState> = {}): TaskState {
  return { task_id, type: 'install', status: 'completed', app_name, ...(user_id === undefined ? {} : { user_id }), created_at: T0, ...over };
}

/** A collection pass of `source` that went well, finished at T0 (`outcome` overrides; `seq` 1 unless given). */
export function pass(source: PassMessage['source'], steps: StoreStep[], outcome: Partial<PassOutcome> = {}, seq = 1): PassMessage {
  return { type: 'pass', seq, source, steps, outcome: { ok: true, error: null, duration_ms: 1, finished_at: T0, ...outcome } };
}
