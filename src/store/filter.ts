import { appHealth } from '../model/index.ts';
import type { AppFlowState, ChartRepoStatus, TaskState } from '../model/index.ts';
import type { AppFilter, Facets, StateFilter } from '../protocol.ts';

/** The Go module's filter semantics: user/source/app narrow app_states; status/type/user/app narrow tasks. */
export function appMatches(a: Pick<AppFlowState, 'user_id' | 'source_id' | 'app_name' | 'stuck'> | Facets, f: StateFilter): boolean {
  return (f.user_id === undefined || a.user_id === f.user_id)
    && (f.source_id === undefined || a.source_id === f.source_id)
    && (f.app_name === undefined || a.app_name === f.app_name)
    && (f.stuck === undefined || (a.stuck === true) === f.stuck);
}

/** …/apps: the filters of /state and the app's own stage and health (the change stream's facets carry neither). */
export function appPageMatches(a: AppFlowState, f: AppFilter): boolean {
  return appMatches(a, f) && (f.stage === undefined || a.stage === f.stage) && (f.health === undefined || appHealth(a) === f.health);
}

export function taskMatches(t: Pick<TaskState, 'status' | 'type' | 'user_id' | 'app_name' | 'stuck'> | Facets, f: StateFilter): boolean {
  return (f.task_status === undefined || t.status === f.task_status)
    && (f.task_type === undefined || t.type === f.task_type)
    && (f.user_id === undefined || t.user_id === f.user_id)
    && (f.app_name === undefined || t.app_name === f.app_name)
    && (f.stuck === undefined || (t.stuck === true) === f.stuck);
}

/** A Chart Repo app or hydrator task kept by a user/source/app filter. */
export function chartItemMatches(x: { user_id?: string; source_id?: string; app_name?: string }, f: StateFilter): boolean {
  return (f.user_id === undefined || x.user_id === f.user_id)
    && (f.source_id === undefined || x.source_id === f.source_id)
    && (f.app_name === undefined || x.app_name === f.app_name);
}

export function hasChartFilter(f: StateFilter): boolean {
  return f.user_id !== undefined || f.source_id !== undefined || f.app_name !== undefined;
}

/**
 * A change event's Chart Repo frame (the view without apps, images and hydrator tasks: ChartIndex.frame) narrowed by
 * user, source and app: the hydrator's recent failures by their own fields, as the stream narrows the items it
 * sends one by one (the frame holds no other list). The system block, the image analyzer and the counters stay whole.
 */
export function filterChartFrame(frame: ChartRepoStatus, f: StateFilter): ChartRepoStatus {
  const hydrator = frame.tasks?.hydrator;
  if (hydrator?.recent_failed === undefined) return frame;
  const h = { ...hydrator };
  const kept = hydrator.recent_failed.filter((t) => chartItemMatches(t, f));
  // Go omits empty lists
  if (kept.length > 0) h.recent_failed = kept;
  else delete h.recent_failed;
  return { ...frame, tasks: { ...frame.tasks, hydrator: h } };
}
