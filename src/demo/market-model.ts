import type { DemoManifest } from './market-manifest.ts';
import { createRng, type Rng } from './random.ts';
import { stripUndefined } from '../strip-undefined.ts';
import { appKey } from '../model/app-flow.ts';

/**
 * The simulated market in memory: the rows of the market tables (docs/architecture.md, Sources) plus what the Chart Repo
 * simulator reports. Pure state; market-flows.ts and market-chart.ts move it, market-writer.ts writes it.
 * Every change is recorded in `changes` so a workload tick writes only what moved.
 */

export const TASK_TYPE = { install: 1, uninstall: 2, cancel: 3, upgrade: 4, clone: 5 } as const;
export const TASK_STATUS = { pending: 1, running: 2, completed: 3, failed: 4, canceled: 5 } as const;
export type TaskTypeCode = (typeof TASK_TYPE)[keyof typeof TASK_TYPE];
export type TaskStatusCode = (typeof TASK_STATUS)[keyof typeof TASK_STATUS];

export interface MarketOptions {
  seed?: number;
  users?: number;
  sources?: number;
  appsPerUser?: number;
  eventsPerSecond?: number;
  /** apps in a remote source's catalog; the local source holds a quarter of it */
  catalogSize?: number;
  /** cluster nodes images are downloaded to */
  nodes?: number;
  /** how often each source's catalog syncs (applications.updated_at refreshed) */
  syncEveryMs?: number;
  /** simulated start time, ms since epoch */
  start?: number;
}

export interface MarketSource { source_id: string; source_type: 'local' | 'remote'; is_active: boolean; updated_at: number }

export interface CatalogApp {
  source_id: string;
  app_id: string;
  app_name: string;
  app_version: string;
  app_type: string;
  updated_at: number;
  entrances: string[];
  images: string[];
}

export interface Entrance { name: string; state: string }

/** One row of user_application_states. */
interface AppStateRow {
  installed_version: string;
  target_version: string;
  is_sys_app: boolean;
  state: string;
  reason: string;
  message: string;
  progress: string;
  op_id: string;
  op_type: string;
  event_create_time: number;
  status_entrances: Entrance[];
  created_at: number;
  updated_at: number;
}

/** One row of user_applications with its state row, plus the simulation's timers. */
export interface Install {
  key: string;
  user_id: string;
  source_id: string;
  app_id: string;
  app_name: string;
  app_raw_id: string;
  app_raw_name: string;
  /** catalog entry the install came from: `${source_id}/${app_id}` */
  catalog_key: string;
  manifest_version: string;
  manifest_type: string;
  render_status: 'pending' | 'success' | 'failed';
  render_error: string;
  render_consecutive_failures: number;
  is_upgrade: boolean;
  /** ua.metadata, ua.entrances and the state row's shared_entrances (market-manifest.ts) */
  manifest: DemoManifest;
  created_at: number;
  updated_at: number;
  state: AppStateRow;
  /** when the current state moves on by itself (null: a resting state) */
  nextAt: number | null;
  /** the market task driving the current operation */
  taskId: string | null;
  /** a queued operation that starts when nextAt comes (its task is pending until then) */
  queued: 'upgrading' | 'uninstalling' | null;
  /** when an unhealthy entrance recovers */
  healAt: number | null;
}

/** One row of task_records. */
export interface Task {
  task_id: string;
  type: TaskTypeCode;
  status: TaskStatusCode;
  app_name: string;
  user_account: string;
  op_id: string;
  metadata: Record<string, unknown>;
  result: string;
  error_msg: string;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
  /** cancel tasks run on their own timer */
  nextAt: number | null;
}

/** Chart Repo hydration of one app for one (user, source). */
export interface Hydration {
  key: string;
  user_id: string;
  source_id: string;
  app_id: string;
  app_name: string;
  state: 'pending' | 'processing' | 'completed' | 'failed';
  step: number;
  step_status: 'pending' | 'running' | 'retrying' | 'completed' | 'failed';
  retry_count: number;
  task_id: string;
  created_at: number;
  started_at: number;
  step_started_at: number;
  updated_at: number;
  error: { message: string; step: string } | null;
  nextAt: number;
}

interface ImageNodeSim { node_name: string; architecture: string; downloaded_size: number; downloaded_layers: number }

export interface SimImage {
  image_name: string;
  /** install key of the app the image belongs to; the image is reported in that (user, source) answer */
  owner: string;
  user_id: string;
  source_id: string;
  app_id: string;
  app_name: string;
  architecture: string;
  total_size: number;
  layer_count: number;
  nodes: ImageNodeSim[];
  registry_error: string | null;
  analysis_status: 'pending' | 'analyzing' | 'completed' | 'failed';
  analyzed_at: number | null;
}

export interface AnalyzerTaskSim {
  task_id: string;
  app_name: string;
  images: string[];
  status: 'queued' | 'processing' | 'completed' | 'failed';
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  worker_id: number | null;
  analyzed_count: number;
  error: string | null;
  nextAt: number;
}

interface AnalyzerSim {
  queued: AnalyzerTaskSim[];
  processing: AnalyzerTaskSim[];
  recentCompleted: AnalyzerTaskSim[];
  recentFailed: AnalyzerTaskSim[];
  workers: number;
  total: number;
  successful: number;
  failed: number;
  totalNs: number;
}

export interface NaturalKey { user_id: string; source_id: string; app_name: string }

/** What moved since the last drain: the writer turns it into one transaction. */
export interface MarketChanges {
  sources: Set<string>;
  catalog: Set<string>;
  installs: Set<string>;
  removedInstalls: Map<string, NaturalKey>;
  tasks: Set<string>;
  removedTasks: Set<string>;
}

export interface MarketModel {
  options: Required<MarketOptions>;
  rng: Rng;
  now: number;
  startedAt: number;
  users: string[];
  nodes: { name: string; architecture: string }[];
  sources: MarketSource[];
  /** key: `${source_id}/${app_id}` */
  catalog: Map<string, CatalogApp>;
  installs: Map<string, Install>;
  tasks: Map<string, Task>;
  hydrations: Map<string, Hydration>;
  images: Map<string, SimImage>;
  /** install keys per (user, source) pair, the Chart Repo's unit of query */
  byPair: Map<string, Set<string>>;
  /** image names per (user, source) pair */
  imagesByPair: Map<string, Set<string>>;
  hydratorCounters: Map<string, { completed: number; failed: number }>;
  analyzer: AnalyzerSim;
  changes: MarketChanges;
  seq: number;
  eventCarry: number;
  lastSyncAt: Map<string, number>;
}

const DEFAULT_OPTIONS: Required<MarketOptions> = {
  seed: 1, users: 8, sources: 2, appsPerUser: 6, eventsPerSecond: 4,
  catalogSize: 48, nodes: 2, syncEveryMs: 20_000, start: Date.UTC(2026, 0, 1),
};

const USER_NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy',
  'mallory', 'niaj', 'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yolanda'];

const APP_NAMES = ['firefox', 'jellyfin', 'nextcloud', 'immich', 'gitea', 'vaultwarden', 'homeassistant',
  'ollama', 'openwebui', 'n8n', 'plex', 'syncthing', 'codeserver', 'wordpress', 'ghost', 'grafana',
  'prometheus', 'minio', 'photoprism', 'navidrome', 'calibreweb', 'joplin', 'memos', 'qbittorrent',
  'transmission', 'audiobookshelf', 'paperless', 'stirlingpdf', 'uptimekuma', 'excalidraw', 'mattermost',
  'rocketchat', 'nocodb', 'appsmith', 'metabase', 'superset', 'comfyui', 'sdwebui', 'lobechat', 'dify',
  'affine', 'outline', 'wikijs', 'bookstack', 'freshrss', 'miniflux', 'pgadmin', 'portainer'];

function userName(i: number): string {
  return i < USER_NAMES.length ? USER_NAMES[i] : `user${String(i).padStart(4, '0')}`;
}

function sourceId(i: number): string {
  if (i === 0) return 'market.olares';
  if (i === 1) return 'local';
  return `market.mirror${i - 1}`;
}

export const installKey = (k: NaturalKey): string => appKey(k);
export const pairKey = (user: string, source: string): string => `${user}\n${source}`;

/** An empty market: users, sources and their catalogs, no installs. */
export function createMarketModel(options: MarketOptions = {}): MarketModel {
  const o: Required<MarketOptions> = { ...DEFAULT_OPTIONS, ...stripUndefined(options) };
  const rng = createRng(o.seed);
  const now = o.start;
  const m: MarketModel = {
    options: o, rng, now, startedAt: now,
    users: Array.from({ length: o.users }, (_, i) => userName(i)),
    nodes: Array.from({ length: Math.max(1, o.nodes) }, (_, i) => ({
      name: `node-${i + 1}`, architecture: i % 2 === 0 ? 'amd64' : 'arm64',
    })),
    sources: [], catalog: new Map(), installs: new Map(), tasks: new Map(), hydrations: new Map(),
    images: new Map(), byPair: new Map(), imagesByPair: new Map(), hydratorCounters: new Map(),
    analyzer: {
      queued: [], processing: [], recentCompleted: [], recentFailed: [], workers: 2,
      total: 0, successful: 0, failed: 0, totalNs: 0,
    },
    changes: emptyChanges(), seq: 0, eventCarry: 0, lastSyncAt: new Map(),
  };
  for (let s = 0; s < Math.max(1, o.sources); s++) {
    const source: MarketSource = {
      source_id: sourceId(s), source_type: s === 1 ? 'local' : 'remote', is_active: true, updated_at: now,
    };
    m.sources.push(source);
    m.changes.sources.add(source.source_id);
    m.lastSyncAt.set(source.source_id, now - rng.int(0, o.syncEveryMs));
    const size = source.source_type === 'local' ? Math.max(4, Math.ceil(o.catalogSize / 4)) : o.catalogSize;
    for (let i = 0; i < size; i++) {
      const base = APP_NAMES[i % APP_NAMES.length];
      const round = Math.floor(i / APP_NAMES.length);
      const name = round === 0 ? base : `${base}${round + 1}`;
      const app: CatalogApp = {
        source_id: source.source_id,
        app_id: source.source_type === 'local' ? `local-${name}` : rng.hex(8),
        app_name: name,
        app_version: `${rng.int(0, 3)}.${rng.int(0, 20)}.${rng.int(0, 9)}`,
        app_type: rng.chance(0.1) ? 'middleware' : 'app',
        updated_at: now,
        entrances: rng.chance(0.3) ? [name, `${name}-admin`] : [name],
        images: [],
      };
      app.images = imageNamesFor(app, rng.chance(0.4) ? 2 : 1);
      m.catalog.set(catalogKey(app), app);
      m.changes.catalog.add(catalogKey(app));
    }
  }
  return m;
}

export function imageNamesFor(app: CatalogApp, count: number): string[] {
  const suffixes = ['', '-worker', '-db', '-cache'];
  return Array.from({ length: count }, (_, i) =>
    `docker.io/beclab/${app.app_name}${suffixes[i] ?? `-part${i}`}:${app.app_version}`);
}

export const catalogKey = (a: { source_id: string; app_id: string }): string => `${a.source_id}/${a.app_id}`;

function emptyChanges(): MarketChanges {
  return {
    sources: new Set(), catalog: new Set(), installs: new Set(), removedInstalls: new Map(),
    tasks: new Set(), removedTasks: new Set(),
  };
}

/** Hands the accumulated changes to the caller and starts a new set. */
export function drainChanges(m: MarketModel): MarketChanges {
  const c = m.changes;
  m.changes = emptyChanges();
  return c;
}

export function nextId(m: MarketModel, prefix: string): string {
  m.seq += 1;
  return `${prefix}-${m.seq.toString(36).padStart(5, '0')}${m.rng.hex(4)}`;
}

// ---- mutations that keep indexes and the change set right ------------------------------------------

export function addInstall(m: MarketModel, inst: Install): void {
  m.installs.set(inst.key, inst);
  const pk = pairKey(inst.user_id, inst.source_id);
  let set = m.byPair.get(pk);
  if (!set) m.byPair.set(pk, (set = new Set()));
  set.add(inst.key);
  m.changes.removedInstalls.delete(inst.key);
  m.changes.installs.add(inst.key);
}

export function touchInstall(m: MarketModel, inst: Install): void {
  inst.updated_at = m.now;
  inst.state.updated_at = m.now;
  m.changes.installs.add(inst.key);
}

/** Removes an install with its Chart Repo hydration and images (the market deletes the row). */
export function removeInstall(m: MarketModel, inst: Install): void {
  m.installs.delete(inst.key);
  m.byPair.get(pairKey(inst.user_id, inst.source_id))?.delete(inst.key);
  m.hydrations.delete(inst.key);
  const pk = pairKey(inst.user_id, inst.source_id);
  for (const name of [...(m.imagesByPair.get(pk) ?? [])]) {
    if (m.images.get(name)?.owner === inst.key) removeImage(m, name);
  }
  m.changes.installs.delete(inst.key);
  m.changes.removedInstalls.set(inst.key, { user_id: inst.user_id, source_id: inst.source_id, app_name: inst.app_name });
}

export function addTask(m: MarketModel, task: Task): void {
  m.tasks.set(task.task_id, task);
  m.changes.tasks.add(task.task_id);
}

export function touchTask(m: MarketModel, task: Task): void {
  task.updated_at = m.now;
  m.changes.tasks.add(task.task_id);
}

export function removeTask(m: MarketModel, taskId: string): void {
  m.tasks.delete(taskId);
  m.changes.tasks.delete(taskId);
  m.changes.removedTasks.add(taskId);
}

export function addImage(m: MarketModel, img: SimImage): void {
  m.images.set(img.image_name, img);
  const pk = pairKey(img.user_id, img.source_id);
  let set = m.imagesByPair.get(pk);
  if (!set) m.imagesByPair.set(pk, (set = new Set()));
  set.add(img.image_name);
}

function removeImage(m: MarketModel, name: string): void {
  const img = m.images.get(name);
  if (!img) return;
  m.images.delete(name);
  m.imagesByPair.get(pairKey(img.user_id, img.source_id))?.delete(name);
}
