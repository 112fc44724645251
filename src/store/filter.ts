import { appHealth } from '../model/index.ts';
import type {
  AppFlowState, ChartRepoApp, ChartRepoImage, ChartRepoOrigin, ChartRepoStatus, HydratorTask, TaskState,
} from '../model/index.ts';
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

type ChartItem = { user_id?: string; source_id?: string; app_name?: string };

/**
 * chart_repo narrowed by user, source and app: its apps, images and hydrator task lists. Each item counts
 * as the (user, source) of the Chart Repo answer it came from (`origins`, kept beside the merged view), so
 * a user keeps exactly the images and tasks of that user's answers; without origins, by the item's own
 * fields (images by the app names kept). The system block and the counters stay whole.
 */
export function filterChartRepo(c: ChartRepoStatus, f: StateFilter, origins?: readonly ChartRepoOrigin[]): ChartRepoStatus {
  const pairMatches = (o: { user: string; source: string }) =>
    (f.user_id === undefined || o.user === f.user_id) && (f.source_id === undefined || o.source === f.source_id);
  const itemMatches = (x: ChartItem) => chartItemMatches(x, f);
  const nameMatches = (x: ChartItem) => f.app_name === undefined || x.app_name === f.app_name;
  const hydrator = c.tasks?.hydrator;
  const out: ChartRepoStatus = { ...c };
  let lists: { apps?: ChartRepoApp[]; images?: ChartRepoImage[]; tasks?: HydratorTask[]; recent_failed?: HydratorTask[] };
  if (origins && fitsOrigins(c, origins)) {
    const keep = <T extends ChartItem>(items: T[] | undefined, count: (o: ChartRepoOrigin) => number): T[] | undefined => {
      if (items === undefined) return undefined;
      const kept: T[] = [];
      let at = 0;
      for (const o of origins) {
        const n = count(o);
        if (pairMatches(o)) for (let i = at; i < at + n; i++) if (nameMatches(items[i])) kept.push(items[i]);
        at += n;
      }
      return kept;
    };
    lists = {
      apps: keep(c.apps, (o) => o.apps),
      images: keep(c.images, (o) => o.images),
      tasks: keep(hydrator?.tasks, (o) => o.tasks),
      recent_failed: keep(hydrator?.recent_failed, (o) => o.recent_failed),
    };
  } else {
    const apps = c.apps?.filter(itemMatches);
    const keptNames = new Set(apps?.map((a) => a.app_name));
    const byUserOrSource = f.user_id !== undefined || f.source_id !== undefined;
    lists = {
      apps,
      images: c.images?.filter((i) => nameMatches(i)
        && (!byUserOrSource || (i.app_name !== undefined && keptNames.has(i.app_name)))),
      tasks: hydrator?.tasks?.filter(itemMatches),
      recent_failed: hydrator?.recent_failed?.filter(itemMatches),
    };
  }
  // Go omits empty lists
  const set = <O extends object, K extends keyof O>(o: O, k: K, x: O[K] | undefined) => {
    if (x === undefined || (Array.isArray(x) && x.length === 0)) delete o[k];
    else o[k] = x;
  };
  set(out, 'apps', lists.apps);
  set(out, 'images', lists.images);
  if (c.tasks) {
    out.tasks = { ...c.tasks };
    if (hydrator) {
      const h = { ...hydrator };
      set(h, 'tasks', lists.tasks);
      set(h, 'recent_failed', lists.recent_failed);
      out.tasks.hydrator = h;
    }
  }
  return out;
}

/** origins describe exactly the lists they sit beside (else they are ignored) */
export function fitsOrigins(c: ChartRepoStatus, origins: readonly ChartRepoOrigin[]): boolean {
  const total = (k: 'apps' | 'images' | 'tasks' | 'recent_failed') => origins.reduce((n, o) => n + o[k], 0);
  return total('apps') === (c.apps?.length ?? 0) && total('images') === (c.images?.length ?? 0)
    && total('tasks') === (c.tasks?.hydrator?.tasks?.length ?? 0)
    && total('recent_failed') === (c.tasks?.hydrator?.recent_failed?.length ?? 0);
}
