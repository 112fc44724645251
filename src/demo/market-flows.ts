import {
  TASK_STATUS, TASK_TYPE, addInstall, addTask, catalogKey, installKey, nextId, removeInstall, touchInstall,
  touchTask, type CatalogApp, type Entrance, type Install, type MarketModel, type Task, type TaskStatusCode,
  type TaskTypeCode,
} from './market-model.ts';
import { startHydration } from './market-chart.ts';
import { demoManifest } from './market-manifest.ts';

/**
 * app-service's state sequences, as the market records them in user_application_states.state, and the
 * market tasks that drive them. A state with an AUTO entry moves on by itself after a while; running and
 * stopped rest until a user acts.
 */
interface AutoStep { next: string; ms: readonly [number, number]; fail?: readonly [string, number] }

/** next: '' means the row is removed (the market forgets an uninstalled or abandoned app) */
const AUTO: Readonly<Record<string, AutoStep>> = {
  pending: { next: 'downloading', ms: [800, 2500] },
  downloading: { next: 'installing', ms: [500, 1200], fail: ['downloadFailed', 0.08] },
  installing: { next: 'initializing', ms: [1000, 4000], fail: ['installFailed', 0.06] },
  initializing: { next: 'running', ms: [800, 3000] },
  stopping: { next: 'stopped', ms: [500, 2000] },
  resuming: { next: 'running', ms: [800, 3000], fail: ['resumeFailed', 0.04] },
  upgrading: { next: 'running', ms: [2000, 6000], fail: ['upgradeFailed', 0.1] },
  uninstalling: { next: 'uninstalled', ms: [1000, 3000], fail: ['uninstallFailed', 0.04] },
  pendingCanceling: { next: 'pendingCanceled', ms: [300, 1200] },
  downloadingCanceling: { next: 'downloadingCanceled', ms: [500, 1500] },
  installingCanceling: { next: 'installingCanceled', ms: [800, 2000] },
  uninstalled: { next: '', ms: [3000, 8000] },
  pendingCanceled: { next: '', ms: [15_000, 40_000] },
  downloadingCanceled: { next: '', ms: [15_000, 40_000] },
  installingCanceled: { next: '', ms: [15_000, 40_000] },
  downloadFailed: { next: '', ms: [15_000, 40_000] },
  installFailed: { next: '', ms: [15_000, 40_000] },
  upgradeFailed: { next: 'running', ms: [5000, 15_000] },
  resumeFailed: { next: 'stopped', ms: [5000, 10_000] },
  uninstallFailed: { next: 'running', ms: [5000, 15_000] },
};

export const INSTALLING = new Set(['pending', 'downloading', 'installing']);
export const RETRYABLE = new Set(['downloadFailed', 'installFailed', 'pendingCanceled', 'downloadingCanceled',
  'installingCanceled']);

const FAILURE_MESSAGES: Readonly<Record<string, readonly string[]>> = {
  downloadFailed: ['pull image: context deadline exceeded', 'pull image: manifest unknown',
    'download chart: 502 Bad Gateway'],
  installFailed: ['helm install: timed out waiting for the condition', 'insufficient memory on node',
    'pvc pending: no storage class'],
  upgradeFailed: ['helm upgrade: another operation is in progress', 'readiness probe failed after upgrade'],
  resumeFailed: ['scale up: insufficient cpu'],
  uninstallFailed: ['namespace stuck terminating'],
};

function catalogOf(m: MarketModel, inst: Install): CatalogApp | undefined {
  return m.catalog.get(inst.catalog_key);
}

function entrancesFor(m: MarketModel, inst: Install, state: string): Entrance[] {
  const names = catalogOf(m, inst)?.entrances ?? [inst.app_name];
  const all = (s: string): Entrance[] => names.map((name) => ({ name, state: s }));
  switch (state) {
    case 'running': case 'upgradeFailed': return all('running');
    case 'initializing': case 'upgrading': return all('notReady');
    case 'stopping': case 'stopped': case 'resuming': case 'resumeFailed': case 'uninstalling':
    case 'uninstallFailed': case 'uninstalled':
      return all('stopped');
    default: return [];
  }
}

/** Moves an install to `state` and keeps its task, entrances and timers consistent with it. */
export function setState(m: MarketModel, inst: Install, state: string): void {
  const s = inst.state;
  s.state = state;
  s.event_create_time = m.now;
  s.status_entrances = entrancesFor(m, inst, state);
  s.progress = state === 'downloading' ? '0' : '';
  const failures = FAILURE_MESSAGES[state];
  s.reason = failures ? state.replace(/^./, (c) => c.toUpperCase()) : state.endsWith('Canceled') ? 'Canceled' : '';
  s.message = failures ? m.rng.pick(failures) : state.endsWith('Canceled') ? 'canceled by user' : '';
  const auto = AUTO[state];
  inst.nextAt = auto ? m.now + m.rng.int(auto.ms[0], auto.ms[1]) : null;
  inst.healAt = null;
  if (state === 'downloading' && inst.render_status === 'pending') inst.render_status = 'success';
  if (state === 'running') {
    if (s.target_version) s.installed_version = s.target_version;
    inst.manifest_version = s.installed_version;
    inst.is_upgrade = false;
  }
  if (state === 'upgradeFailed') s.target_version = s.installed_version;
  touchInstall(m, inst);
  followTask(m, inst, state);
}

function followTask(m: MarketModel, inst: Install, state: string): void {
  const task = inst.taskId ? m.tasks.get(inst.taskId) : undefined;
  if (!task) return;
  if (state === 'downloading' || state === 'upgrading' || state === 'uninstalling') {
    setTaskStatus(m, task, TASK_STATUS.running);
  } else if (state === 'running' || state === 'uninstalled') {
    task.result = JSON.stringify({ state, version: inst.state.installed_version });
    finish(m, inst, task, TASK_STATUS.completed);
  } else if (FAILURE_MESSAGES[state]) {
    task.error_msg = `${state}: ${inst.state.message}`;
    finish(m, inst, task, TASK_STATUS.failed);
  } else if (state.endsWith('Canceled')) {
    task.error_msg = 'canceled by user';
    finish(m, inst, task, TASK_STATUS.canceled);
  }
}

function finish(m: MarketModel, inst: Install, task: Task, status: TaskStatusCode): void {
  setTaskStatus(m, task, status);
  inst.taskId = null;
}

export function setTaskStatus(m: MarketModel, task: Task, status: TaskStatusCode): void {
  if (task.status === status) return;
  task.status = status;
  if (status === TASK_STATUS.running) task.started_at = m.now;
  if (status >= TASK_STATUS.completed) {
    task.started_at ??= m.now;
    task.completed_at = m.now;
    task.nextAt = null;
    if (status === TASK_STATUS.completed) task.metadata = { ...task.metadata, progress: 100 };
  }
  touchTask(m, task);
}

export function createTask(m: MarketModel, inst: Install, type: TaskTypeCode, opId: string): Task {
  const task: Task = {
    task_id: nextId(m, 'task'), type, status: TASK_STATUS.pending, app_name: inst.app_name,
    user_account: inst.user_id, op_id: opId,
    metadata: {
      source: inst.source_id, app_id: inst.app_id, version: inst.state.target_version || inst.state.installed_version,
      cfg_type: 'app', ...(inst.app_raw_name !== inst.app_name ? { raw_app_name: inst.app_raw_name } : {}),
    },
    result: '', error_msg: '', created_at: m.now, started_at: null, completed_at: null, updated_at: m.now,
    nextAt: null,
  };
  addTask(m, task);
  return task;
}

/** A new user_applications row for `app`, in `state`, with no task yet. */
export function newInstall(m: MarketModel, user: string, app: CatalogApp, state: string, cloneOf?: string): Install {
  const name = cloneOf ? `${cloneOf}${m.rng.hex(4)}` : app.app_name;
  const inst: Install = {
    key: installKey({ user_id: user, source_id: app.source_id, app_name: name }),
    user_id: user, source_id: app.source_id, app_id: cloneOf ? m.rng.hex(8) : app.app_id, app_name: name,
    app_raw_id: app.app_id, app_raw_name: app.app_name, catalog_key: catalogKey(app),
    manifest_version: app.app_version, manifest_type: app.app_type, render_status: 'pending', render_error: '',
    render_consecutive_failures: 0, is_upgrade: false, manifest: demoManifest(app, user, name),
    created_at: m.now, updated_at: m.now,
    state: {
      // middleware (databases, queues) ships with the system in Olares: the market marks it a system app
      installed_version: app.app_version, target_version: app.app_version, is_sys_app: app.app_type === 'middleware', state,
      reason: '', message: '', progress: '', op_id: '', op_type: 'install', event_create_time: m.now,
      status_entrances: [], created_at: m.now, updated_at: m.now,
    },
    nextAt: null, taskId: null, queued: null, healAt: null,
  };
  addInstall(m, inst);
  return inst;
}

// ---- what users do ----------------------------------------------------------------------------------

/** Starts an operation: a fresh op id, a pending market task, and the Chart Repo re-hydrating the app. */
function beginOp(m: MarketModel, inst: Install, type: TaskTypeCode, opType: string): Task {
  const opId = m.rng.hex(12);
  inst.state.op_id = opId;
  inst.state.op_type = opType;
  const task = createTask(m, inst, type, opId);
  inst.taskId = task.task_id;
  return task;
}

export function install(m: MarketModel, user: string, app: CatalogApp): Install | null {
  if (m.installs.has(installKey({ user_id: user, source_id: app.source_id, app_name: app.app_name }))) return null;
  const inst = newInstall(m, user, app, 'pending');
  beginOp(m, inst, TASK_TYPE.install, 'install');
  setState(m, inst, 'pending');
  startHydration(m, inst);
  return inst;
}

export function cloneApp(m: MarketModel, from: Install): Install | null {
  const app = catalogOf(m, from);
  if (!app || from.state.state !== 'running') return null;
  const inst = newInstall(m, from.user_id, app, 'pending', from.app_raw_name);
  beginOp(m, inst, TASK_TYPE.clone, 'install');
  setState(m, inst, 'pending');
  startHydration(m, inst);
  return inst;
}

export function retry(m: MarketModel, inst: Install): boolean {
  if (!RETRYABLE.has(inst.state.state)) return false;
  const clone = inst.app_name !== inst.app_raw_name;
  beginOp(m, inst, clone ? TASK_TYPE.clone : TASK_TYPE.install, 'install');
  inst.render_status = 'pending';
  setState(m, inst, 'pending');
  startHydration(m, inst);
  return true;
}

export function upgrade(m: MarketModel, inst: Install): boolean {
  const app = catalogOf(m, inst);
  if (!app || inst.state.state !== 'running' || inst.taskId) return false;
  inst.state.target_version = app.app_version === inst.state.installed_version ? bump(app.app_version) : app.app_version;
  inst.is_upgrade = true;
  inst.render_status = 'pending';
  queue(m, inst, 'upgrading', beginOp(m, inst, TASK_TYPE.upgrade, 'upgrade'));
  startHydration(m, inst);
  return true;
}

export function uninstall(m: MarketModel, inst: Install): boolean {
  const s = inst.state.state;
  if (inst.taskId || !(s === 'running' || s === 'stopped' || s === 'uninstallFailed')) return false;
  queue(m, inst, 'uninstalling', beginOp(m, inst, TASK_TYPE.uninstall, 'uninstall'));
  return true;
}

/** The task stays pending while the market queues the operation; app-service picks it up at nextAt. */
function queue(m: MarketModel, inst: Install, state: 'upgrading' | 'uninstalling', _task: Task): void {
  inst.queued = state;
  inst.nextAt = m.now + m.rng.int(500, 2500);
  touchInstall(m, inst);
}

export function stop(m: MarketModel, inst: Install): boolean {
  if (inst.state.state !== 'running' || inst.taskId) return false;
  inst.state.op_id = m.rng.hex(12);
  inst.state.op_type = 'stop';
  setState(m, inst, 'stopping');
  return true;
}

export function resume(m: MarketModel, inst: Install): boolean {
  if (inst.state.state !== 'stopped' || inst.taskId) return false;
  inst.state.op_id = m.rng.hex(12);
  inst.state.op_type = 'resume';
  setState(m, inst, 'resuming');
  return true;
}

/** A cancel task of its own (type 3) runs briefly while the install winds down to *Canceled. */
export function cancel(m: MarketModel, inst: Install): boolean {
  const s = inst.state.state;
  if (!INSTALLING.has(s) || !inst.taskId) return false;
  const task = createTask(m, inst, TASK_TYPE.cancel, inst.state.op_id);
  task.nextAt = m.now + m.rng.int(200, 800);
  inst.state.op_type = 'cancel';
  setState(m, inst, `${s}Canceling`);
  return true;
}

/** An entrance goes unhealthy for a while; advance() heals it at healAt. */
export function flapEntrance(m: MarketModel, inst: Install): boolean {
  const entrances = inst.state.status_entrances;
  if (inst.state.state !== 'running' || entrances.length === 0) return false;
  const i = m.rng.int(0, entrances.length - 1);
  inst.state.status_entrances = entrances.map((e, j) => (j === i ? { name: e.name, state: m.rng.pick(['notReady', 'crashed']) } : e));
  inst.healAt = m.now + m.rng.int(3000, 12_000);
  touchInstall(m, inst);
  return true;
}

/** The market re-renders the app's chart; some renders fail and count up consecutive failures. */
export function render(m: MarketModel, inst: Install, failP = 0.25): void {
  if (m.rng.chance(failP)) {
    inst.render_status = 'failed';
    inst.render_consecutive_failures += 1;
    inst.render_error = m.rng.pick(['template: values.yaml:12: nil pointer evaluating .Values.gpu',
      'chart not found in source', 'OlaresManifest.yaml: unsupported apiVersion']);
  } else {
    inst.render_status = 'success';
    inst.render_consecutive_failures = 0;
    inst.render_error = '';
  }
  touchInstall(m, inst);
}

// ---- time moving on -----------------------------------------------------------------------------------

/** Moves one install whose timer came due. */
export function advance(m: MarketModel, inst: Install): void {
  if (inst.healAt !== null && inst.healAt <= m.now && inst.state.state === 'running') {
    inst.state.status_entrances = inst.state.status_entrances.map((e) => ({ name: e.name, state: 'running' }));
    inst.healAt = null;
    touchInstall(m, inst);
  }
  if (inst.nextAt === null || inst.nextAt > m.now) return;
  if (inst.queued) {
    const next = inst.queued;
    inst.queued = null;
    setState(m, inst, next);
    return;
  }
  const s = inst.state.state;
  const auto = AUTO[s];
  if (!auto) {
    inst.nextAt = null;
    return;
  }
  if (s === 'downloading') {
    const progress = Number(inst.state.progress) || 0;
    if (progress < 100) {
      inst.state.progress = String(Math.min(100, progress + m.rng.int(10, 35)));
      inst.nextAt = m.now + m.rng.int(auto.ms[0], auto.ms[1]);
      touchInstall(m, inst);
      const task = inst.taskId ? m.tasks.get(inst.taskId) : undefined;
      if (task) {
        task.metadata = { ...task.metadata, progress: Math.floor(Number(inst.state.progress) * 0.6) };
        touchTask(m, task);
      }
      return;
    }
  }
  if (auto.fail && m.rng.chance(auto.fail[1])) setState(m, inst, auto.fail[0]);
  else if (auto.next === '') removeInstall(m, inst);
  else setState(m, inst, auto.next);
}

/** Cancel tasks run on their own short timer: pending -> running -> completed. */
export function advanceTask(m: MarketModel, task: Task): void {
  if (task.nextAt === null || task.nextAt > m.now) return;
  if (task.status === TASK_STATUS.pending) {
    setTaskStatus(m, task, TASK_STATUS.running);
    task.nextAt = m.now + m.rng.int(300, 1500);
  } else {
    task.result = JSON.stringify({ canceled: true });
    setTaskStatus(m, task, TASK_STATUS.completed);
  }
}

export function bump(version: string): string {
  const [a, b, c] = version.split('.').map((x) => Number(x) || 0);
  return `${a}.${b}.${c + 1}`;
}
