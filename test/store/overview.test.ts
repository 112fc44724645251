import { describe, expect, it } from 'vitest';
import type { ChartRepoStatus } from '../../src/model/index.ts';
import { RuntimeStore } from '../../src/store/runtime-store.ts';
import { chartRepoView, app as storeApp, pass, T0 } from '../helpers/store-fixtures.ts';

/** …/overview and …/apps?include=chart_repo as the store answers them: what a dashboard reads beside a page of apps. */

const app = (user: string, name: string) => storeApp(user, 'market', name);
const crApp = (user: string, name: string, state: string) => ({ app_id: name, app_name: name, user_id: user, source_id: 'market', state });
const task = (id: string, user: string, name: string, status: string) => ({
  task_id: id, user_id: user, source_id: 'market', app_id: name, app_name: name, status, step_name: 'RenderedChartStep',
  total_steps: 5, retry_count: 0, created_at: T0, updated_at: T0,
});

function market(): RuntimeStore {
  const s = new RuntimeStore(() => new Date(T0));
  s.apply(pass('app_flow', [{ op: 'replace', domain: 'app_states', items: [app('alice', 'a1'), app('alice', 'a2'), app('bob', 'b1')] }]));
  const chart = {
    last_update: T0,
    apps: [crApp('alice', 'a1', 'failed'), crApp('bob', 'b1', 'processing'), crApp('dave', 'orphan', 'failed')],
    images: [{ image_name: 'nginx:1', app_name: 'a1', status: 'fully_downloaded' }, { image_name: 'x:2', status: 'registry_error' }],
    tasks: { hydrator: { queue_length: 1, active_tasks: 1, completed_tasks: 0, failed_tasks: 1, worker_count: 2,
      tasks: [task('h1', 'bob', 'b1', 'running')], recent_failed: [task('h0', 'alice', 'a1', 'failed')] } },
  } as unknown as ChartRepoStatus;
  s.apply(pass('chart_repo', [chartRepoView(chart)]));
  s.commit();
  return s;
}

describe('the overview', () => {
  it('holds tasks, components, summary and the Chart Repo frame, without app_states or Chart Repo apps and images', () => {
    const o = JSON.parse(market().overview());
    expect(o.app_states).toBeUndefined();
    expect(o.chart_repo.apps).toBeUndefined();
    expect(o.chart_repo.images).toBeUndefined();
    expect(o.chart_repo.tasks.hydrator.tasks.map((t: { task_id: string }) => t.task_id)).toEqual(['h1']);
    expect(o.chart_repo_counts).toEqual({ apps: { failed: 2, processing: 1 }, images: { fully_downloaded: 1, registry_error: 1 } });
    expect(o.summary.total_apps).toBe(3);
    expect(o).toHaveProperty('tasks');
    expect(o).toHaveProperty('components');
  });
});

describe('a page of apps with include=chart_repo', () => {
  it.each([
    [{ user_id: 'alice' }, ['alice:market:a1'], ['h0']],
    [{ user_id: 'bob' }, ['bob:market:b1'], ['h1']],
    [{ app_name: 'a2' }, [], []],
  ])('%j: the Chart Repo apps and hydrator tasks of the page\'s apps only', (f, apps, tasks) => {
    const p = JSON.parse(market().appsPage(f, 10, null, true));
    expect(p.chart_repo.apps.map((a: { user_id: string; app_name: string }) => `${a.user_id}:market:${a.app_name}`)).toEqual(apps);
    expect(p.chart_repo.hydrator_tasks.map((t: { task_id: string }) => t.task_id)).toEqual(tasks);
  });

  it('without it, a page has no chart_repo', () => {
    expect(JSON.parse(market().appsPage({}, 10, null)).chart_repo).toBeUndefined();
  });
});
