import {
  TASK_STATUS, catalogKey, imageNamesFor, removeTask, type CatalogApp, type Install, type MarketModel,
} from './market-model.ts';
import {
  INSTALLING, RETRYABLE, advance, advanceTask, bump, cancel, cloneApp, flapEntrance, install, render, resume,
  retry, stop, uninstall, upgrade,
} from './market-flows.ts';
import { stepChart } from './market-chart.ts';

/** Upper bound of user events in one step, whatever the gap since the last one. */
const MAX_EVENTS_PER_STEP = 1000;
const TRIES = 12;

export interface StepReport { events: number; installs: number; tasks: number }

/**
 * Moves the market to `now` (ms): timers that came due fire, catalogs sync on schedule, and users act at
 * `eventsPerSecond` (fractional events carry over, so the result depends only on the seed and the times).
 */
export function stepMarket(m: MarketModel, now: number): StepReport {
  const dt = Math.max(0, now - m.now);
  m.now = Math.max(m.now, now);
  for (const inst of m.installs.values()) {
    if ((inst.nextAt !== null && inst.nextAt <= m.now) || (inst.healAt !== null && inst.healAt <= m.now)) advance(m, inst);
  }
  for (const task of m.tasks.values()) if (task.nextAt !== null) advanceTask(m, task);
  for (const source of m.sources) {
    if (m.now - (m.lastSyncAt.get(source.source_id) ?? 0) >= m.options.syncEveryMs) syncCatalog(m, source.source_id);
  }
  m.eventCarry += (m.options.eventsPerSecond * dt) / 1000;
  const events = Math.min(MAX_EVENTS_PER_STEP, Math.floor(m.eventCarry));
  m.eventCarry -= Math.floor(m.eventCarry);
  if (events > 0) {
    const pool = [...m.installs.values()];
    const bySource = catalogBySource(m);
    // installs on their way out no longer count, so the market hovers near its target instead of swinging
    let size = 0;
    for (const i of pool) if (i.state.state !== 'uninstalling' && i.state.state !== 'uninstalled') size++;
    const below = size < m.options.users * m.options.appsPerUser;
    for (let i = 0; i < events; i++) userEvent(m, pool, bySource, below);
  }
  stepChart(m, dt);
  pruneTasks(m);
  return { events, installs: m.installs.size, tasks: m.tasks.size };
}

/** The syncer refreshes a source's catalog; now and then an app gets a new version (upgrades follow). */
function syncCatalog(m: MarketModel, sourceId: string): void {
  m.lastSyncAt.set(sourceId, m.now);
  for (const app of m.catalog.values()) {
    if (app.source_id !== sourceId) continue;
    app.updated_at = m.now;
    if (m.rng.chance(0.04)) {
      app.app_version = bump(app.app_version);
      app.images = imageNamesFor(app, app.images.length);
    }
    m.changes.catalog.add(catalogKey(app));
  }
  const source = m.sources.find((s) => s.source_id === sourceId);
  if (source) {
    source.updated_at = m.now;
    m.changes.sources.add(sourceId);
  }
}

function catalogBySource(m: MarketModel): Map<string, CatalogApp[]> {
  const out = new Map<string, CatalogApp[]>();
  for (const app of m.catalog.values()) {
    let list = out.get(app.source_id);
    if (!list) out.set(app.source_id, (list = []));
    list.push(app);
  }
  return out;
}

type Act = (inst: Install) => boolean | Install | null | void;

/** One thing a user does. Actions re-check the install's state, so a stale pick is a harmless no-op. */
function userEvent(m: MarketModel, pool: Install[], bySource: Map<string, CatalogApp[]>, below: boolean): void {
  const kind = m.rng.weighted([
    ['install', below ? 1.5 : 0.4], ['uninstall', below ? 0.3 : 1], ['upgrade', 0.6],
    ['stop', 0.5], ['resume', 1.5], ['cancel', 0.4], ['clone', 0.15], ['retry', 0.5], ['flap', 1.5],
    ['render', 1.2], ['sync', 0.1],
  ] as const);
  if (kind === 'install') {
    for (let i = 0; i < TRIES; i++) {
      const source = m.rng.weighted(m.sources.map((s) => [s.source_id, s.source_type === 'local' ? 1 : 3] as const));
      const apps = bySource.get(source);
      if (apps && install(m, m.rng.pick(m.users), m.rng.pick(apps))) return;
    }
    return;
  }
  if (kind === 'sync') {
    syncCatalog(m, m.rng.pick(m.sources).source_id);
    return;
  }
  if (pool.length === 0) return;
  const acts: Record<string, [(i: Install) => boolean, Act]> = {
    uninstall: [(i) => !i.taskId && ['running', 'stopped', 'uninstallFailed'].includes(i.state.state), (i) => uninstall(m, i)],
    upgrade: [(i) => i.state.state === 'running' && !i.taskId, (i) => upgrade(m, i)],
    stop: [(i) => i.state.state === 'running' && !i.taskId, (i) => stop(m, i)],
    resume: [(i) => i.state.state === 'stopped', (i) => resume(m, i)],
    cancel: [(i) => INSTALLING.has(i.state.state) && !!i.taskId, (i) => cancel(m, i)],
    clone: [(i) => i.state.state === 'running' && i.app_name === i.app_raw_name, (i) => cloneApp(m, i)],
    retry: [(i) => RETRYABLE.has(i.state.state), (i) => retry(m, i)],
    flap: [(i) => i.state.state === 'running' && i.healAt === null, (i) => flapEntrance(m, i)],
    render: [(i) => m.installs.has(i.key), (i) => render(m, i)],
  };
  const [fits, act] = acts[kind];
  for (let i = 0; i < TRIES; i++) {
    const inst = m.rng.pick(pool);
    if (m.installs.has(inst.key) && fits(inst)) {
      act(inst);
      return;
    }
  }
}

/** Keeps the task history bounded: the oldest finished tasks go first (Map order is creation order). */
function pruneTasks(m: MarketModel): void {
  const limit = Math.max(300, m.installs.size * 3);
  let excess = m.tasks.size - limit;
  if (excess <= 0) return;
  for (const task of m.tasks.values()) {
    if (excess <= 0) break;
    if (task.status >= TASK_STATUS.completed) {
      removeTask(m, task.task_id);
      excess -= 1;
    }
  }
}
