/**
 * What collectors hand the store, built with defaults a test overrides where it matters: an app, a task, a run's
 * outcome, a collection pass, a message that is none and the Chart Repo's step. One copy for the store's tests, the collectors' tests
 * that feed a store, and the HTTP harness (test/http/store-harness.ts).
 */
import { answerKey } from '../../src/collect/chart-repo-answer-key.ts';
import { bodyContentKey, pairKey, sharedAnswerText } from '../../src/collect/chart-repo-content.ts';
import { normalizeAnswer, type ChartRepoAnswer } from '../../src/collect/chart-repo.ts';
import { renderPairPart } from '../../src/collect/chart-repo-part.ts';
import { sha256 } from '../../src/content-digest.ts';
import { statusMetadata, type AppStateInput } from '../../src/collect/app-flow.ts';
import type { AppFlowState, AppStage, ChartRepoStatus, HydratorStatus, HydratorTask, TaskState } from '../../src/model/index.ts';
import type { ChartRepoFrame, PassMessage, PassOutcome, StoreStep } from '../../src/protocol.ts';

export const T0 = '2026-11-25T10:00:00.000Z';

/** An app running and healthy, last seen at T0, with metadata.status as the app-flow collector builds it. */
export function app(user_id: string, source_id: string, app_name: string, over: Partial<AppFlowState> = {}): AppFlowState {
  return withGoStatus({ app_id: app_name, app_name, user_id, source_id, stage: 'running', health: 'healthy', last_update: T0, ...over });
}

/**
 * `a` with the metadata.status every app the app-flow collector sends carries (Go clients read it: issue 19);
 * `a` itself when it has metadata. What fake collectors hand the store goes through here too.
 */
export function withGoStatus(a: AppFlowState): AppFlowState {
  // (no event time: a fixture's last_update tells when the store saw it, and an event time would order it
  // against pushed events; the market's row without one gives Go's empty status times)
  return a.metadata ? a : { ...a, metadata: { status: goStatusOf(a, { event_create_time: undefined, updated_at: T0 }) } };
}

/** The app-service state a fixture's stage comes from (src/collect/stage-table.ts): metadata.status.state. */
const STATE_OF_STAGE: Record<AppStage, string> = {
  unknown: 'unknown', fetching: 'downloading', hydrating: 'pending', installing: 'installing', running: 'running',
  upgrading: 'upgrading', uninstalling: 'uninstalling', failed: 'installFailed', stopped: 'stopped',
};

/**
 * metadata.status as the app-flow collector builds it (statusMetadata) from the market's row of `a`; `row`
 * gives what the row holds beyond the app (title, icon, entrances: upstream strings).
 */
export function goStatusOf(a: AppFlowState, row: Partial<AppStateInput> = {}): Record<string, unknown> {
  return statusMetadata({
    user_id: a.user_id, source_id: a.source_id, app_id: `cat-${a.app_name}`.slice(0, 200), app_name: a.app_name,
    raw_app_name: a.app_name, cfg_type: 'app', is_sys_app: false, title: a.app_name, icon: '',
    state: STATE_OF_STAGE[a.stage], installed_version: a.version ?? '', target_version: '', reason: '', message: '',
    progress: '', op_id: '', op_type: '', entrances: [], manifest_entrances: [], runtime_entrances: [], shared_entrances: [],
    event_create_time: a.last_update, updated_at: a.last_update, ...row,
  });
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

/** One (user, source) pair's answer in Go's shapes: the lists that are the pair's own, as the Chart Repo collector keeps them. */
export interface PairAnswer {
  user: string;
  source: string;
  answer: Pick<ChartRepoAnswer, 'apps' | 'images' | 'hydrator'>;
}

export type ChartRepoPairsStep = Extract<StoreStep, { op: 'chart_repo_pairs' }>;

/**
 * The Chart Repo's step as its collector makes it (src/collect/collectors/chart-repo.ts) on a full pass: every pair
 * in order, with its part rendered (renderPairPart) and keyed by answerKey over its own lists (what only tells time
 * passing left out), and the Chart Repo's own blocks (`frame`) keyed as the collector keys them.
 */
export function chartRepoPairs(answers: readonly PairAnswer[], frame: ChartRepoFrame = { last_update: T0 }): ChartRepoPairsStep {
  // (a block the frame lacks stringifies to undefined: absent, as in an answer without it)
  const shared = sharedAnswerText({ system: JSON.stringify(frame.system), image_analyzer: JSON.stringify(frame.image_analyzer) });
  return {
    op: 'chart_repo_pairs', frame, shared_content: sha256(bodyContentKey(shared), 'base64'),
    pairs: answers.map(({ user, source, answer: { apps, images, hydrator } }) => ({
      user, source,
      content: answerKey(Buffer.from(JSON.stringify({ success: true, data: { apps, images, tasks: { hydrator } } }))).key,
      part: renderPairPart({ apps, images, hydrator }),
    })),
  };
}

/**
 * A merged view (Go's chart_repo block, as a test writes it) as the step of the pairs it merges: each app, image and
 * hydrator task in the pair its own user_id and source_id name (an image that names none: the pair of no user,
 * which no user or source filter keeps), the hydrator's counters on the first pair (the store sums the pairs';
 * the view's worker_count_total is that sum), the system and image analyzer blocks in the frame.
 */
export function chartRepoView(view: ChartRepoStatus): ChartRepoPairsStep {
  const pairs = new Map<string, PairAnswer>();
  const answerOf = (x: { user_id?: string; source_id?: string }) => {
    const pair = { user: x.user_id ?? '', source: x.source_id ?? '' };
    let held = pairs.get(pairKey(pair));
    if (!held) pairs.set(pairKey(pair), (held = { ...pair, answer: { apps: [], images: [] } }));
    return held.answer;
  };
  for (const a of view.apps ?? []) answerOf(a).apps.push(a);
  for (const i of view.images ?? []) answerOf(i).images.push(i);
  const h = view.tasks?.hydrator;
  if (h) {
    const none = { queue_length: 0, active_tasks: 0, completed_tasks: 0, failed_tasks: 0, worker_count: 0 };
    const lists = (t: HydratorTask) => (answerOf(t).hydrator ??= { ...none, tasks: [], recent_failed: [] });
    for (const t of h.tasks ?? []) lists(t).tasks!.push(t);
    for (const t of h.recent_failed ?? []) lists(t).recent_failed!.push(t);
    const first = pairs.size > 0 ? [...pairs.values()][0]!.answer : answerOf({});
    const { queue_length, active_tasks, completed_tasks, failed_tasks } = h;
    const counters: HydratorStatus = { queue_length, active_tasks, completed_tasks, failed_tasks, worker_count: h.worker_count_total ?? h.worker_count };
    first.hydrator = { ...first.hydrator, ...counters };
  }
  return chartRepoPairs([...pairs.values()], chartFrameOf(view));
}

/** A merged view's own blocks (what the collector sends as the step's frame). */
export function chartFrameOf(view: ChartRepoStatus): ChartRepoFrame {
  const analyzer = view.tasks?.image_analyzer;
  return { last_update: view.last_update, ...(view.system ? { system: view.system } : {}), ...(analyzer ? { image_analyzer: analyzer } : {}) };
}

/**
 * alice's answer with these apps (and one image), converted at the pass time `at` as the collector converts it, so its
 * items' last_update is that time, as the Chart Repo's step.
 */
export function aliceChartRepo(apps: Array<{ state: string; duration: number }>, at: string): ChartRepoPairsStep {
  const n = normalizeAnswer({ success: true, message: 'ok', data: {
    apps: apps.map((a, i) => ({
      app_id: `app${i}`, app_name: `app${i}`, user_id: 'alice', source_id: 'market', state: a.state,
      processing: { task_id: `h${i}`, duration: a.duration },
    })),
    images: [{ image_name: 'docker.io/app0:1', app_name: 'app0', status: 'fully_downloaded' }],
  } }, at, { user: 'alice', source: 'market' });
  if (!n.ok) throw new Error(n.error);
  return chartRepoPairs([{ user: 'alice', source: 'market', answer: n.answer }], { last_update: T0, system: { hostname: 'chart-repo-1' } });
}
