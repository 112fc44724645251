import type { AppFlowState, ChartRepoStatus, TaskState } from '../model/index.ts';
import type { Facets, StateFilter } from '../protocol.ts';

/** The Go module's filter semantics: user/source/app narrow app_states; status/type/user/app narrow tasks. */
export function appMatches(a: Pick<AppFlowState, 'user_id' | 'source_id' | 'app_name' | 'stuck'> | Facets, f: StateFilter): boolean {
  return (f.user_id === undefined || a.user_id === f.user_id)
    && (f.source_id === undefined || a.source_id === f.source_id)
    && (f.app_name === undefined || a.app_name === f.app_name)
    && (f.stuck === undefined || (a.stuck === true) === f.stuck);
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
 * chart_repo narrowed by user, source and app: its apps and hydrator task lists; images by app name
 * (images carry no user, so a user/source filter keeps the images of the apps it kept). The system block
 * and the counters stay whole.
 */
export function filterChartRepo(c: ChartRepoStatus, f: StateFilter): ChartRepoStatus {
  const itemMatches = (x: { user_id?: string; source_id?: string; app_name?: string }) => chartItemMatches(x, f);
  const apps = c.apps?.filter(itemMatches);
  const keptNames = new Set(apps?.map((a) => a.app_name));
  const byUserOrSource = f.user_id !== undefined || f.source_id !== undefined;
  const images = c.images?.filter((i) =>
    (f.app_name === undefined || i.app_name === f.app_name)
    && (!byUserOrSource || (i.app_name !== undefined && keptNames.has(i.app_name))));
  const hydrator = c.tasks?.hydrator;
  const out: ChartRepoStatus = { ...c, apps, images };
  if (c.tasks) {
    out.tasks = {
      ...c.tasks,
      hydrator: hydrator && {
        ...hydrator,
        tasks: hydrator.tasks?.filter(itemMatches),
        recent_failed: hydrator.recent_failed?.filter(itemMatches),
      },
    };
  }
  return out;
}
