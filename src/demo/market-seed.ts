import {
  TASK_STATUS, TASK_TYPE, addImage, createMarketModel, type CatalogApp, type Install, type MarketModel,
  type MarketOptions, type TaskStatusCode, type TaskTypeCode,
} from './market-model.ts';
import { bump, createTask, flapEntrance, newInstall, setState, setTaskStatus } from './market-flows.ts';
import { advanceAnalyzer, newImage, queueAnalyzerTask, startHydration } from './market-chart.ts';
import { HYDRATION_STEPS } from '../model/chart-repo.ts';

/**
 * Builds markets that already show variety: apps in every stage, tasks in every status, Chart Repo apps
 * mid-hydration and images mid-download. createMarket() is the lively demo; seedMarket() a market of an
 * exact size for benchmarks.
 */

export interface SeedSize {
  installedApps: number;
  /** rows of task_records (default 30% of installedApps) */
  tasks?: number;
  /** apps the Chart Repo reports (default 20% of installedApps) */
  chartRepoApps?: number;
  /** images the Chart Repo reports (default 10% of installedApps) */
  images?: number;
  nodesPerImage?: number;
}

export interface SeedOptions extends SeedSize {
  seed?: number;
  /** default: one user per 20 apps */
  users?: number;
  sources?: number;
  eventsPerSecond?: number;
  start?: number;
}

const STATE_MIX: readonly (readonly [string, number])[] = [
  ['running', 0.62], ['stopped', 0.08], ['pending', 0.03], ['downloading', 0.05], ['installing', 0.04],
  ['initializing', 0.03], ['upgrading', 0.03], ['stopping', 0.01], ['resuming', 0.02], ['uninstalling', 0.02],
  ['downloadFailed', 0.02], ['installFailed', 0.02], ['upgradeFailed', 0.01], ['installingCanceled', 0.02],
];

const HOUR = 3_600_000;

/** The lively demo market: `users` × `appsPerUser` installs and a history to go with them. */
export function createMarket(options: MarketOptions = {}): MarketModel {
  const m = createMarketModel(options);
  const n = m.options.users * m.options.appsPerUser;
  populate(m, { installs: n, tasks: Math.round(n * 1.5), hydrations: n, images: Math.ceil(n * 0.8) });
  return m;
}

/** A market of an exact size: installedApps installs, tasks rows, chartRepoApps and images (× nodes). */
export function seedMarket(options: SeedOptions): MarketModel {
  const n = Math.max(0, Math.floor(options.installedApps));
  const users = options.users ?? Math.max(1, Math.ceil(n / 20));
  const perUser = Math.ceil(n / users);
  const m = createMarketModel({
    seed: options.seed, users, sources: options.sources, appsPerUser: perUser, start: options.start,
    eventsPerSecond: options.eventsPerSecond ?? 0, nodes: options.nodesPerImage ?? 2,
    catalogSize: Math.max(48, perUser),
  });
  populate(m, {
    installs: n,
    tasks: options.tasks ?? Math.round(n * 0.3),
    hydrations: Math.min(n, options.chartRepoApps ?? Math.round(n * 0.2)),
    images: options.images ?? Math.round(n * 0.1),
  });
  return m;
}

interface Counts { installs: number; tasks: number; hydrations: number; images: number }

function populate(m: MarketModel, c: Counts): void {
  const now = m.now;
  const catalog = interleave(m);
  let taskBudget = c.tasks;
  const installs: Install[] = [];
  const perUser = new Map<string, number>();
  for (let i = 0; i < c.installs; i++) {
    const u = i % m.users.length;
    const user = m.users[u];
    const k = perUser.get(user) ?? 0;
    perUser.set(user, k + 1);
    const app = catalog[(u * 7 + k) % catalog.length];
    const inst = newInstall(m, user, app, 'running');
    inst.created_at = now - m.rng.int(1, 30 * 24) * HOUR;
    inst.state.created_at = inst.created_at;
    const state = m.rng.weighted(STATE_MIX);
    taskBudget -= seedState(m, inst, state, taskBudget > 0);
    installs.push(inst);
  }
  seedHistory(m, installs, Math.max(0, taskBudget));
  seedHydrations(m, installs, c.hydrations);
  seedImages(m, installs, c.images);
}

/** Catalog apps with sources interleaved, so each user's apps come from every source. */
function interleave(m: MarketModel): CatalogApp[] {
  const lists = m.sources.map((s) => [...m.catalog.values()].filter((a) => a.source_id === s.source_id));
  const out: CatalogApp[] = [];
  const longest = Math.max(...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

/** Puts an install into `state` the way the live flows would have; returns the tasks it created. */
function seedState(m: MarketModel, inst: Install, state: string, withTask: boolean): number {
  const app = m.catalog.get(inst.catalog_key) as CatalogApp;
  const type = taskTypeFor(state, inst);
  if (state === 'upgrading' || state === 'upgradeFailed') {
    inst.state.installed_version = app.app_version;
    inst.state.target_version = bump(app.app_version);
    inst.is_upgrade = state === 'upgrading';
  }
  let created = 0;
  if (type && withTask) {
    const task = createTask(m, inst, type, m.rng.hex(12));
    task.created_at = m.now - m.rng.int(2, 60) * 1000;
    inst.taskId = task.task_id;
    inst.state.op_id = task.op_id;
    if (state !== 'pending') setTaskStatus(m, task, TASK_STATUS.running);
    created = 1;
  }
  inst.render_status = ['pending', 'downloading'].includes(state) ? 'pending' : 'success';
  if (inst.render_status === 'success' && m.rng.chance(0.04)) {
    inst.render_status = 'failed';
    inst.render_consecutive_failures = m.rng.int(1, 5);
    inst.render_error = 'template: values.yaml:12: nil pointer evaluating .Values.gpu';
  }
  setState(m, inst, state);
  if (state === 'downloading') inst.state.progress = String(m.rng.int(0, 90));
  if (state === 'running' && m.rng.chance(0.08)) flapEntrance(m, inst);
  return created;
}

function taskTypeFor(state: string, inst: Install): TaskTypeCode | null {
  const clone = inst.app_name !== inst.app_raw_name;
  if (['pending', 'downloading', 'installing', 'initializing', 'downloadFailed', 'installFailed',
    'installingCanceled'].includes(state)) return clone ? TASK_TYPE.clone : TASK_TYPE.install;
  if (state === 'upgrading' || state === 'upgradeFailed') return TASK_TYPE.upgrade;
  if (state === 'uninstalling') return TASK_TYPE.uninstall;
  return null;
}

/** Finished tasks of the past week, oldest first (the live market prunes from the front). */
function seedHistory(m: MarketModel, installs: Install[], count: number): void {
  if (installs.length === 0) return;
  const times = Array.from({ length: count }, () => m.now - m.rng.int(60, 7 * 24 * 3600) * 1000).sort((a, b) => a - b);
  for (const created of times) {
    const inst = m.rng.pick(installs);
    const type = m.rng.weighted<TaskTypeCode>([[TASK_TYPE.install, 0.5], [TASK_TYPE.upgrade, 0.2],
      [TASK_TYPE.uninstall, 0.15], [TASK_TYPE.clone, 0.05], [TASK_TYPE.cancel, 0.1]]);
    const status = type === TASK_TYPE.cancel ? TASK_STATUS.completed
      : m.rng.weighted<TaskStatusCode>([[TASK_STATUS.completed, 0.75], [TASK_STATUS.failed, 0.15], [TASK_STATUS.canceled, 0.1]]);
    const task = createTask(m, inst, type, m.rng.hex(12));
    // created before the current tasks, so insertion order stays roughly chronological for pruning
    m.tasks.delete(task.task_id);
    m.tasks.set(task.task_id, task);
    task.created_at = created;
    task.started_at = created + m.rng.int(1, 5) * 1000;
    task.completed_at = task.started_at + m.rng.int(10, 120) * 1000;
    task.updated_at = task.completed_at;
    task.status = status;
    if (status === TASK_STATUS.completed) {
      task.result = JSON.stringify({ version: inst.state.installed_version });
      task.metadata = { ...task.metadata, progress: 100 };
    }
    if (status === TASK_STATUS.failed) task.error_msg = 'installFailed: helm install: timed out waiting for the condition';
    if (status === TASK_STATUS.canceled) task.error_msg = 'canceled by user';
  }
}

function seedHydrations(m: MarketModel, installs: Install[], count: number): void {
  for (let k = 0; k < count && installs.length > 0; k++) {
    const inst = installs[Math.floor((k * installs.length) / count)];
    const state = m.rng.weighted([['completed', 0.55], ['processing', 0.25], ['pending', 0.1], ['failed', 0.1]] as const);
    const h = startHydration(m, inst, state);
    h.created_at = inst.created_at;
    const pair = `${inst.user_id}\n${inst.source_id}`;
    const counters = m.hydratorCounters.get(pair) ?? { completed: 0, failed: 0 };
    m.hydratorCounters.set(pair, counters);
    if (state === 'completed') {
      h.step = HYDRATION_STEPS.length - 1;
      h.step_status = 'completed';
      h.nextAt = Number.POSITIVE_INFINITY;
      counters.completed += 1;
    } else if (state === 'processing') {
      h.step = m.rng.int(0, HYDRATION_STEPS.length - 1);
      h.step_status = 'running';
      h.retry_count = m.rng.chance(0.2) ? 1 : 0;
      h.started_at = m.now - m.rng.int(1, 20) * 1000;
      h.step_started_at = m.now - m.rng.int(0, 3) * 1000;
      // an analyzer task without creating images, so seeded image counts stay exact
      if (HYDRATION_STEPS[h.step] === 'ImageAnalysisStep') {
        queueAnalyzerTask(m, inst, m.catalog.get(inst.catalog_key)?.images ?? []);
      }
    } else if (state === 'failed') {
      h.step = m.rng.int(0, HYDRATION_STEPS.length - 1);
      h.step_status = 'failed';
      h.retry_count = 3;
      h.error = { message: 'render chart: timeout', step: HYDRATION_STEPS[h.step] };
      h.nextAt = m.now + m.rng.int(10_000, 40_000);
      counters.failed += 1;
    }
  }
  advanceAnalyzer(m);
}

function seedImages(m: MarketModel, installs: Install[], count: number): void {
  if (installs.length === 0) return;
  // owners: apps the Chart Repo has hydrated first, then the rest
  const owners = [...installs.filter((i) => m.hydrations.has(i.key)), ...installs.filter((i) => !m.hydrations.has(i.key))];
  let made = 0;
  for (let round = 0; made < count && round < count + 1; round++) {
    for (const inst of owners) {
      if (made >= count) break;
      const app = m.catalog.get(inst.catalog_key) as CatalogApp;
      const base = app.images[0].replace(/:[^:]*$/, '');
      const name = round === 0 ? app.images[0] : `${base}-layer${round}:${app.app_version}`;
      if (m.images.has(name)) continue;
      const status = m.rng.weighted([['full', 0.6], ['partial', 0.25], ['none', 0.1], ['error', 0.05]] as const);
      const frac = status === 'full' ? 1 : status === 'partial' ? m.rng.int(10, 90) / 100 : 0;
      const img = newImage(m, inst, name, frac);
      img.registry_error = status === 'error' ? 'registry unavailable: dial tcp: i/o timeout' : null;
      if (status === 'partial') img.nodes[img.nodes.length - 1].downloaded_size = Math.floor(img.total_size * frac / 2);
      if (status === 'full') {
        img.analysis_status = m.rng.chance(0.95) ? 'completed' : 'failed';
        img.analyzed_at = m.now - m.rng.int(60, 86_400) * 1000;
        m.analyzer.total += 1;
        if (img.analysis_status === 'completed') m.analyzer.successful += 1;
        else m.analyzer.failed += 1;
        m.analyzer.totalNs += m.rng.int(800, 6000) * 1e6;
      }
      addImage(m, img);
      made += 1;
    }
  }
}
