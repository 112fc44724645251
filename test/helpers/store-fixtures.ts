/**
 * What collectors hand the store, built with defaults a test overrides where it matters: an app, a task, a run's
 * outcome, a collection pass, a message that is none and the Chart Repo's step. One copy for the store's tests, the collectors' tests
 * that feed a store, and the HTTP harness (test/http/store-harness.ts).
 */
import { answerKey } from '../../src/collect/chart-repo-answer-key.ts';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { renderPairPart } from '../../src/collect/chart-repo-part.ts';
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

/** How a collector's run ended: well, in 1 ms, at T0 unless `over` says otherwise (a failed run: `{ ok: false, error }`). */
export function outcome(over: Partial<PassOutcome> = {}): PassOutcome {
  return { ok: true, error: null, duration_ms: 1, finished_at: T0, ...over };
}

/** A collection pass of `source`: its steps and the run's `outcome` (`over` overrides; `seq` 1 unless given). */
export function pass(source: PassMessage['source'], steps: StoreStep[], over: Partial<PassOutcome> = {}, seq = 1): PassMessage {
  return { ...pushed(source, steps, seq), outcome: outcome(over) };
}

/**
 * A message of `source` without an outcome (`seq` 1 unless given): the store applies its steps but counts no run
 * of the source. What a source pushes between its runs (NATS app events), or sends ahead of its pass (items_ahead).
 */
export function pushed(source: PassMessage['source'], steps: StoreStep[], seq = 1): PassMessage {
  return { type: 'pass', seq, source, steps };
}

/**
 * The Chart Repo's step as its collector makes it (src/collect/collectors/chart-repo.ts): alice's answer with these
 * apps (and one image), keyed by answerKey and converted at the pass time `at`, so its items' last_update is that time.
 */
export function chartRepoPairs(apps: Array<{ state: string; duration: number }>, at: string): StoreStep {
  const body = JSON.stringify({ success: true, message: 'ok', data: {
    system: { hostname: 'chart-repo-1', uptime: Date.parse(at) / 1000 },
    apps: apps.map((a, i) => ({
      app_id: `app${i}`, app_name: `app${i}`, user_id: 'alice', source_id: 'market', state: a.state,
      processing: { task_id: `h${i}`, duration: a.duration },
    })),
    images: [{ image_name: 'docker.io/app0:1', app_name: 'app0', status: 'fully_downloaded' }],
  } });
  const n = normalizeAnswer(JSON.parse(body), at);
  if (!n.ok) throw new Error(n.error);
  return {
    op: 'chart_repo_pairs', frame: { last_update: T0, system: { hostname: 'chart-repo-1' } }, shared_content: 's1',
    pairs: [{ user: 'alice', source: 'market', content: answerKey(Buffer.from(body)).key, part: renderPairPart(n.answer) }],
  };
}
