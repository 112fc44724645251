import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AppFlowState, ChartRepoStatus, ComponentStatus, TaskState,
} from '../../src/model/index.ts';
import type { CollectorSpec, StoreStep } from '../../src/protocol.ts';
import type { AppStateInput } from '../../src/collect/app-flow.ts';
import { normalizeAnswer } from '../../src/collect/chart-repo.ts';
import { mergeAnswers } from '../../src/collect/chart-repo-merge.ts';
import { fake } from '../helpers/sidecar.ts';
import { expectGoWireItems } from '../helpers/go-wire.ts';
import { chartRepoView, goStatusOf } from '../helpers/store-fixtures.ts';

/** Strings that would run script if any page rendered data as markup. */
export const HOSTILE_APP = '<img src=x onerror="window.__pwned=1">';
export const HOSTILE_ERROR = '</script><script>window.__pwned=1</script>';
export const HOSTILE_ICON = 'https://x/"><img src=x onerror="window.__pwned=1">.png';
export const HOSTILE_URL = 'javascript:window.__pwned=1//<b>app</b>.alice.example';
export const HOSTILE_SOURCE_ERROR = '<svg onload="window.__pwned=1">database on fire';

/** A Chart Repo data block as the sidecar holds it: converted into Go's shapes by the real normalizer. */
function goShapes(raw: Record<string, unknown> & { last_update: string }): ChartRepoStatus {
  const r = normalizeAnswer({ success: true, data: raw }, raw.last_update);
  if (!r.ok) throw new Error(r.error);
  return mergeAnswers([r.answer], raw.last_update);
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const MIN = 60_000;

export type Sources = 'app_flow' | 'tasks' | 'components' | 'chart_repo';

/** One JSON file per fake collector ('file' mode re-reads it every pass); write() changes what the next pass sees. */
export class FixtureFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'dash-'));

  path(source: Sources): string {
    return join(this.dir, `${source}.json`);
  }

  write(source: Sources, steps: StoreStep[] | { throw: string }): void {
    const tmp = this.path(source) + '.tmp';
    writeFileSync(tmp, JSON.stringify(steps));
    // rename is atomic: a pass never reads half a file
    renameSync(tmp, this.path(source));
  }

  writeAll(d: Dataset): void {
    // what the fake collectors send is what real ones would: every item decodes with Go's structs as Go sends it
    expectGoWireItems({ app_states: d.apps, tasks: d.tasks, components: d.components });
    this.write('app_flow', [{ op: 'replace', domain: 'app_states', items: d.apps }]);
    this.write('tasks', [{ op: 'replace', domain: 'tasks', items: d.tasks }]);
    this.write('components', [{ op: 'replace', domain: 'components', items: d.components }]);
    this.write('chart_repo', [chartRepoView(d.chartRepo)]);
  }

  collectors(): CollectorSpec[] {
    return (['app_flow', 'tasks', 'components', 'chart_repo'] as const)
      .map((s) => fake(s, { mode: 'file', file: this.path(s) }));
  }
}

export interface Dataset {
  apps: AppFlowState[];
  tasks: TaskState[];
  components: ComponentStatus[];
  chartRepo: ChartRepoStatus;
}

/** One app as the app-flow collector sends it (metadata.status built from its row), running and healthy unless `extra` says. */
export function fixtureApp(user: string, source: string, name: string, extra: Partial<AppFlowState> = {}, row: Partial<AppStateInput> = {}): AppFlowState {
  const a: AppFlowState = {
    app_id: name, app_name: name, user_id: user, source_id: source, stage: 'running',
    health: 'healthy', version: '1.0.0', last_update: ago(2 * MIN), ...extra,
  };
  return { ...a, metadata: { status: goStatusOf(a, row) } };
}

/** A small market with one of everything the pages show, hostile strings included. */
export function smallDataset(): Dataset {
  const apps: AppFlowState[] = [
    fixtureApp('alice', 'market.olares', 'firefox', { version: '1.2.0' }),
    fixtureApp('alice', 'market.olares', HOSTILE_APP, {
      stage: 'failed', health: 'unhealthy', stage_detail: `install failed: ${HOSTILE_ERROR}`,
    }, {
      // title, icon and entrance URLs are upstream strings too (the manifest's entrance, its runtime state by position)
      app_id: 'cat-1', title: `Title ${HOSTILE_APP}`, icon: HOSTILE_ICON,
      manifest_entrances: [{ name: 'web', port: 80, invisible: false, url: HOSTILE_URL }],
      runtime_entrances: [{ name: 'web', port: 80, invisible: false, state: 'crashed' }],
    }),
    fixtureApp('bob', 'market.olares', 'nextcloud', {
      stage: 'installing', health: 'unknown', stage_detail: 'pulling images',
      // issue 8 fields (additive; the pages must cope with and without them)
      ...({ stuck: true, stage_since: ago(45 * MIN), stuck_reason: 'installing for 45m (limit 30m)' } as object),
    }),
    fixtureApp('bob', 'upload', 'gitea', { version: '1.21.0' }),
    fixtureApp('carol', 'market.olares', 'jellyfin', { stage: 'hydrating', health: 'unknown', stage_detail: 'rendering chart' }),
    fixtureApp('carol', 'market.olares', 'hydr-only', { stage: 'hydrating', health: 'unknown' }),
  ];
  for (let i = 0; i < 24; i++) {
    apps.push(fixtureApp(`user${i % 4}`, i % 3 === 0 ? 'upload' : 'market.olares', `bulk-app-${String(i).padStart(2, '0')}`,
      { stage: (['running', 'stopped', 'upgrading', 'running'] as const)[i % 4] }));
  }
  const task = (id: string, status: TaskState['status'], extra: Partial<TaskState> = {}): TaskState => ({
    task_id: id, type: 'install', status, app_name: 'firefox', user_id: 'alice', created_at: ago(10 * MIN), ...extra,
  });
  const tasks: TaskState[] = [
    task('t-pend-1', 'pending', { app_name: 'nextcloud', user_id: 'bob' }),
    task('t-pend-2', 'pending', { app_name: 'gitea', user_id: 'bob', type: 'upgrade' }),
    task('t-run-1', 'running', { app_name: 'jellyfin', user_id: 'carol', progress: 40, started_at: ago(5 * MIN) }),
    task('t-run-2', 'running', { app_name: 'bulk-app-01', user_id: 'user1', progress: 75, started_at: ago(3 * MIN), type: 'uninstall' }),
    task('t-done-1', 'completed', { started_at: ago(9 * MIN), completed_at: ago(8 * MIN), progress: 100, result: 'ok' }),
    task('t-done-2', 'completed', { app_name: 'gitea', user_id: 'bob', completed_at: ago(7 * MIN) }),
    task('t-done-3', 'completed', { app_name: 'bulk-app-02', user_id: 'user2', completed_at: ago(6 * MIN), type: 'clone' }),
    task('t-fail-1', 'failed', { app_name: HOSTILE_APP, error_msg: HOSTILE_ERROR, completed_at: ago(4 * MIN) }),
    task('t-fail-2', 'failed', { app_name: 'bulk-app-03', user_id: 'user3', error_msg: 'chart not found', completed_at: ago(3 * MIN) }),
    task('t-cancel-1', 'canceled', { app_name: 'bulk-app-04', user_id: 'user0', type: 'cancel', completed_at: ago(2 * MIN) }),
  ];
  const now = new Date().toISOString();
  const components: ComponentStatus[] = [
    { name: 'task_module', healthy: true, status: 'running', last_check: now, metrics: { pending_tasks: 2, running_tasks: 2, oldest_pending_since: ago(10 * MIN) } },
    {
      name: 'hydrator', healthy: false, status: 'running', last_check: now, message: `renders failing: 3 apps, 3 consecutive failures ${HOSTILE_ERROR}`,
      metrics: {
        pending: 2, success: 25, failed: 3, total: 30, consecutive_failures: 3, last_failure_at: ago(MIN),
        queue_length: 2, completed_tasks_count: 25, failed_tasks_count: 3,
      },
    },
    {
      name: 'syncer', healthy: false, status: 'degraded', last_check: now, message: 'catalog not updated: market.stale (42 min)',
      metrics: {
        staleness_bound_s: 1800, stale_sources: 1, last_sync_time: ago(3 * MIN),
        sources: {
          'market.olares': { source_type: 'remote', is_active: true, apps: 412, newest_update: ago(3 * MIN), stale: false },
          'market.stale': { source_type: 'remote', is_active: true, apps: 17, newest_update: ago(42 * MIN), stale: true },
          upload: { source_type: 'local', is_active: true, apps: 3, newest_update: ago(600 * MIN), stale: false },
        },
      },
    },
    {
      name: 'cache', healthy: true, status: 'running', last_check: now,
      metrics: {
        users: 6, user_applications: 30, app_states: 28, pairs: 8, pairs_truncated: false,
        by_user: { alice: { 'market.olares': { user_applications: 2, states: 2 } }, bob: { 'market.olares': { user_applications: 1, states: 1 }, upload: { user_applications: 1, states: 1 } } },
        // over every pair (by_user lists the largest only): the per-source counts the page shows
        by_source: { 'market.olares': { user_applications: 25, users: 5 }, upload: { user_applications: 5, users: 1 } },
        total_users: 6, total_sources: 2, total_apps: 30, total_app_state_latest: 28, total_app_info_latest: 25, total_app_info_pending: 2,
      },
    },
    { name: 'postgres', healthy: true, status: 'running', last_check: now, metrics: { server_version: '16.4' } },
  ];
  const chartRepo = goShapes({
    last_update: now,
    system: { uptime: 7200, version: 'v0.9.3-test', hostname: 'chart-repo-0', components: { redis: { status: 'healthy' } } },
    apps: [
      {
        app_id: 'id-jellyfin', app_name: 'jellyfin', user_id: 'carol', source_id: 'market.olares', state: 'processing',
        current_step: { name: 'RenderedChartStep', index: 1, total: 5, status: 'running', started_at: ago(MIN), updated_at: ago(10_000), retry_count: 1 },
        processing: { task_id: 'h-1', duration: 65e9 }, timestamps: { created_at: ago(3 * MIN), last_updated_at: ago(10_000) },
      },
      {
        app_id: 'id-hostile', app_name: HOSTILE_APP, user_id: 'alice', source_id: 'market.olares', state: 'failed',
        current_step: { name: 'ImageAnalysisStep', index: 3, total: 5, status: 'failed', retry_count: 3 },
        error: { message: `image pull failed ${HOSTILE_ERROR}`, step: 'ImageAnalysisStep' },
        timestamps: { last_updated_at: ago(4 * MIN) },
      },
      { app_id: 'id-nextcloud', app_name: 'nextcloud', user_id: 'bob', source_id: 'market.olares', state: 'completed', timestamps: { last_updated_at: ago(20 * MIN) } },
      { app_id: 'id-orphan', app_name: 'orphan-app', user_id: 'dave', source_id: 'market.olares', state: 'pending' },
    ],
    images: [
      {
        image_name: 'docker.io/library/nginx:1.27', app_name: 'firefox', status: 'fully_downloaded', architecture: 'amd64',
        total_size: 70_000_000, downloaded_size: 70_000_000, download_progress: 100, layer_count: 7, downloaded_layers: 7,
        analysis_status: 'completed', nodes: [{ node_name: 'node-a', architecture: 'amd64', total_size: 70_000_000, downloaded_size: 70_000_000, progress: 100 }],
      },
      {
        image_name: 'ghcr.io/jellyfin/jellyfin:10.9', app_name: 'jellyfin', status: 'partially_downloaded', total_size: 400_000_000,
        downloaded_size: 120_000_000, download_progress: 30, layer_count: 12, downloaded_layers: 4,
        nodes: [
          { node_name: 'node-a', downloaded_size: 200_000_000, progress: 50, layer_count: 12, downloaded_layers: 6 },
          { node_name: 'node-b', downloaded_size: 40_000_000, progress: 10, layer_count: 12, downloaded_layers: 2 },
        ],
      },
      { image_name: `evil.example/${HOSTILE_APP}`, status: 'registry_error', error_message: HOSTILE_ERROR },
    ],
    tasks: {
      hydrator: {
        queue_length: 1, active_tasks: 2, completed_tasks: 120, failed_tasks: 4, worker_count: 4,
        tasks: [
          { task_id: 'h-1', user_id: 'carol', source_id: 'market.olares', app_id: 'id-jellyfin', app_name: 'jellyfin', status: 'running', step_name: 'RenderedChartStep', total_steps: 5, retry_count: 1, created_at: ago(3 * MIN), updated_at: ago(10_000) },
          { task_id: 'h-2', user_id: 'carol', source_id: 'market.olares', app_id: 'id-hydr-only', app_name: 'hydr-only', status: 'running', step_name: 'CustomParamsUpdateStep', total_steps: 5, created_at: ago(2 * MIN), updated_at: ago(5_000) },
        ],
        recent_failed: [
          { task_id: 'h-0', user_id: 'alice', source_id: 'market.olares', app_name: HOSTILE_APP, status: 'failed', step_name: 'ImageAnalysisStep', total_steps: 5, retry_count: 3, last_error: HOSTILE_ERROR, updated_at: ago(4 * MIN) },
        ],
      },
      image_analyzer: {
        is_running: true, health_status: 'healthy', last_check: now, queue_length: 1, active_workers: 1, cached_images: 3, analyzing_count: 1,
        queued_tasks: [{ task_id: 'a-3', app_name: 'gitea', status: 'queued', images_count: 2, created_at: ago(MIN) }],
        processing_tasks: [{ task_id: 'a-2', app_name: 'jellyfin', status: 'processing', images_count: 3, analyzed_count: 1, worker_id: 0, created_at: ago(2 * MIN), started_at: ago(MIN) }],
        recent_completed: [{ task_id: 'a-1', app_name: 'firefox', status: 'completed', images_count: 1, analyzed_count: 1, duration: 2500, completed_at: ago(5 * MIN) }],
        recent_failed: [{ task_id: 'a-0', app_name: HOSTILE_APP, status: 'failed', images_count: 1, error: HOSTILE_ERROR, error_step: 'inspect' }],
        total_analyzed: 40, successful_analyzed: 38, failed_analyzed: 2, average_analysis_time: '1.8s',
      },
    },
  });
  return { apps, tasks, components, chartRepo };
}

/** A market of `n` apps (and a proportional Chart Repo) for the render-time check. */
export function largeDataset(n: number): Dataset {
  const stages = ['running', 'running', 'running', 'stopped', 'installing', 'upgrading', 'failed', 'hydrating'] as const;
  const apps: AppFlowState[] = [];
  for (let i = 0; i < n; i++) {
    apps.push(fixtureApp(`user${i % 97}`, `source${i % 5}`, `app-${String(i).padStart(5, '0')}`, {
      stage: stages[i % stages.length], health: i % 11 === 0 ? 'unhealthy' : 'healthy', version: `1.${i % 30}.0`,
      stage_detail: i % 7 === 0 ? `detail for app ${i}` : undefined,
    }));
  }
  const statuses = ['pending', 'running', 'completed', 'failed'] as const;
  const tasks: TaskState[] = Array.from({ length: 400 }, (_, i) => ({
    task_id: `task-${i}`, type: 'install', status: statuses[i % 4], app_name: `app-${String(i).padStart(5, '0')}`,
    user_id: `user${i % 97}`, created_at: ago(i * 1000), ...((i * 7) % 100 === 0 ? {} : { progress: (i * 7) % 100 }),
  }));
  const crStates = ['processing', 'completed', 'failed', 'pending'] as const;
  const chartRepo = goShapes({
    last_update: new Date().toISOString(),
    apps: Array.from({ length: Math.floor(n / 2) }, (_, i) => ({
      app_id: `id-app-${i}`, app_name: `app-${String(i * 2).padStart(5, '0')}`, user_id: `user${(i * 2) % 97}`, source_id: `source${(i * 2) % 5}`,
      state: crStates[i % 4],
      current_step: { name: 'ImageAnalysisStep', index: 3, total: 5, status: 'running', retry_count: i % 3 },
      timestamps: { last_updated_at: ago(i * 100) },
    })),
    images: Array.from({ length: Math.floor(n / 10) }, (_, i) => ({
      image_name: `registry.example/app-${i}:1.0`, app_name: `app-${String(i).padStart(5, '0')}`, status: 'partially_downloaded' as const,
      total_size: 1e8, downloaded_size: 5e7, download_progress: 50,
    })),
  });
  return { apps, tasks, components: smallDataset().components, chartRepo };
}

/** Chart Repo values the pages have never seen (Go keeps any string): the dashboards show them as sent, as text. */
// (markup in it: the page that shows only the state, /dashboard-app, must show that as text too)
export const UNFAMILIAR_APP_STATE = '<b>frozen</b>';
export const UNFAMILIAR_IMAGE_STATUS = 'quarantined';
export const UNFAMILIAR_STEP_STATUS = '<b>paused</b>';
/** hydrator task statuses that name what every JS object inherits: a plain-object lookup would find something */
export const INHERITED_NAME_STATUSES = ['constructor', '__proto__'] as const;

/**
 * `d` with one Chart Repo app (alice's firefox) and one image in unfamiliar states, through the real normalizer;
 * and dave's apps inherited-0, inherited-1 hydrating, whose hydrator tasks' statuses are INHERITED_NAME_STATUSES.
 */
export function withUnfamiliarValues(d: Dataset): Dataset {
  const extra = goShapes({
    last_update: d.chartRepo.last_update,
    apps: [{
      app_id: 'id-firefox', app_name: 'firefox', user_id: 'alice', source_id: 'market.olares', state: UNFAMILIAR_APP_STATE,
      current_step: { name: 'SourceChartStep', index: 0, total: 5, status: UNFAMILIAR_STEP_STATUS },
    }],
    images: [{ image_name: 'docker.io/library/firefox:128', app_name: 'firefox', status: UNFAMILIAR_IMAGE_STATUS }],
  });
  const hydrator = goShapes({
    last_update: d.chartRepo.last_update,
    tasks: {
      hydrator: {
        tasks: INHERITED_NAME_STATUSES.map((status, i) => ({
          task_id: `h-inherited-${i}`, user_id: 'dave', source_id: 'market.olares', app_id: `id-inherited-${i}`,
          app_name: `inherited-${i}`, status, step_name: 'RenderedChartStep', total_steps: 5,
        })),
      },
    },
  }).tasks?.hydrator?.tasks ?? [];
  const chartRepo = { ...d.chartRepo };
  if (chartRepo.tasks?.hydrator) {
    chartRepo.tasks = { ...chartRepo.tasks, hydrator: { ...chartRepo.tasks.hydrator, tasks: [...(chartRepo.tasks.hydrator.tasks ?? []), ...hydrator] } };
  }
  chartRepo.apps = [...(d.chartRepo.apps ?? []), ...(extra.apps ?? [])];
  chartRepo.images = [...(d.chartRepo.images ?? []), ...(extra.images ?? [])];
  const apps = [...d.apps, ...INHERITED_NAME_STATUSES.map((_, i) => fixtureApp('dave', 'market.olares', `inherited-${i}`, { stage: 'hydrating', health: 'unknown' }))];
  return { ...d, apps, chartRepo };
}
