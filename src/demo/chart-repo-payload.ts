import { HYDRATION_STEPS } from '../model/chart-repo.ts';
import { pairKey, type AnalyzerTaskSim, type Hydration, type MarketModel, type SimImage } from './market-model.ts';
import { imageStatus } from './market-chart.ts';

/**
 * Renders the Chart Repo's `/chart-repo/api/v2/status` data block for one (user, source) from the model,
 * in the wire shape of docs/architecture.md, Sources. Like the real service (Go `omitempty`), empty strings, zeros, false,
 * empty lists and empty objects are left out.
 */

export type Include = 'apps' | 'images' | 'tasks';
export const ALL_INCLUDES: readonly Include[] = ['apps', 'images', 'tasks'];

const iso = (ms: number | null | undefined): string | undefined =>
  ms === null || ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();

export function statusData(m: MarketModel, q: { user: string; source?: string; include: readonly Include[] }):
  Record<string, unknown> {
  const sources = q.source ? [q.source] : m.sources.map((s) => s.source_id);
  const keys = sources.flatMap((s) => [...(m.byPair.get(pairKey(q.user, s)) ?? [])]);
  const hydrations = keys.map((k) => m.hydrations.get(k)).filter((h): h is Hydration => h !== undefined);
  const data: Record<string, unknown> = { system: system(m) };
  if (q.include.includes('apps')) data.apps = hydrations.map((h) => app(m, h));
  if (q.include.includes('images')) {
    data.images = sources.flatMap((s) => [...(m.imagesByPair.get(pairKey(q.user, s)) ?? [])])
      .map((name) => m.images.get(name)).filter((i): i is SimImage => i !== undefined).map(image);
  }
  if (q.include.includes('tasks')) data.tasks = { hydrator: hydrator(m, q.user, sources, hydrations), image_analyzer: analyzer(m) };
  return omitEmpty(data) as Record<string, unknown>;
}

function system(m: MarketModel): Record<string, unknown> {
  return {
    uptime: Math.floor((m.now - m.startedAt) / 1000) + 3600,
    version: 'v0.9.3-demo',
    hostname: 'chart-repo-demo-0',
    components: {
      redis: { status: 'healthy' },
      hydrator: { status: 'running', workers: 4 },
      image_analyzer: { status: 'running', workers: m.analyzer.workers },
      syncer: { status: 'running', sources: m.sources.length },
    },
    resource_usage: { memory_mb: 180 + (m.hydrations.size % 97), goroutines: 40 + m.analyzer.processing.length * 3 },
  };
}

function app(m: MarketModel, h: Hydration): Record<string, unknown> {
  const step = HYDRATION_STEPS[h.step];
  return {
    app_id: h.app_id, app_name: h.app_name, user_id: h.user_id, source_id: h.source_id, state: h.state,
    current_step: h.state === 'processing' || h.state === 'failed' ? {
      name: step, index: h.step, total: HYDRATION_STEPS.length, status: h.step_status,
      started_at: iso(h.step_started_at), updated_at: iso(h.updated_at), retry_count: h.retry_count,
    } : undefined,
    processing: h.state === 'processing' ? { task_id: h.task_id, duration: Math.max(0, m.now - h.started_at) * 1e6 } : undefined,
    timestamps: { created_at: iso(h.created_at), last_updated_at: iso(h.updated_at) },
    error: h.error ?? undefined,
  };
}

function image(img: SimImage): Record<string, unknown> {
  const downloaded = img.nodes.reduce((s, n) => s + n.downloaded_size, 0) / Math.max(1, img.nodes.length);
  return {
    image_name: img.image_name, app_id: img.app_id, app_name: img.app_name, status: imageStatus(img),
    architecture: img.architecture, total_size: img.total_size, downloaded_size: Math.floor(downloaded),
    download_progress: Math.round((downloaded / img.total_size) * 1000) / 10, layer_count: img.layer_count,
    downloaded_layers: Math.min(...img.nodes.map((n) => n.downloaded_layers)),
    analysis_status: img.analysis_status, analyzed_at: iso(img.analyzed_at), error_message: img.registry_error ?? undefined,
    nodes: img.nodes.map((n) => ({
      node_name: n.node_name, architecture: n.architecture, os: 'linux', total_size: img.total_size,
      downloaded_size: n.downloaded_size, layer_count: img.layer_count, downloaded_layers: n.downloaded_layers,
      progress: Math.round((n.downloaded_size / img.total_size) * 1000) / 10,
    })),
  };
}

function hydratorTask(h: Hydration): Record<string, unknown> {
  return {
    task_id: h.task_id, user_id: h.user_id, source_id: h.source_id, app_id: h.app_id, app_name: h.app_name,
    status: h.state === 'failed' ? 'failed' : h.state === 'pending' ? 'pending' : 'running',
    step_name: HYDRATION_STEPS[h.step], total_steps: HYDRATION_STEPS.length, retry_count: h.retry_count,
    last_error: h.error?.message, created_at: iso(h.started_at), updated_at: iso(h.updated_at),
  };
}

function hydrator(m: MarketModel, user: string, sources: string[], hs: Hydration[]): Record<string, unknown> {
  let completed = 0;
  let failed = 0;
  for (const s of sources) {
    const c = m.hydratorCounters.get(pairKey(user, s));
    completed += c?.completed ?? 0;
    failed += c?.failed ?? 0;
  }
  const active = hs.filter((h) => h.state === 'processing');
  return {
    queue_length: hs.filter((h) => h.state === 'pending').length, active_tasks: active.length,
    completed_tasks: completed, failed_tasks: failed, worker_count: 4,
    tasks: active.map(hydratorTask), recent_failed: hs.filter((h) => h.state === 'failed').slice(0, 10).map(hydratorTask),
  };
}

function analyzerTask(t: AnalyzerTaskSim): Record<string, unknown> {
  return {
    task_id: t.task_id, app_name: t.app_name, app_dir: `/opt/app/charts/${t.app_name}`, status: t.status,
    created_at: iso(t.created_at), started_at: iso(t.started_at), completed_at: iso(t.completed_at),
    worker_id: t.worker_id ?? undefined,
    // the Chart Repo sends an analysis task's duration in milliseconds (Go converts it to ns)
    duration: t.started_at !== null && t.completed_at !== null ? t.completed_at - t.started_at : undefined,
    images_count: t.images.length, analyzed_count: t.analyzed_count, error: t.error ?? undefined,
    error_step: t.error ? 'inspect' : undefined, images: t.images,
  };
}

function analyzer(m: MarketModel): Record<string, unknown> {
  const a = m.analyzer;
  return {
    is_running: true, health_status: 'healthy', last_check: iso(m.now), queue_length: a.queued.length,
    active_workers: a.processing.length, cached_images: m.images.size, analyzing_count: a.processing.length,
    queued_tasks: a.queued.slice(0, 20).map(analyzerTask), processing_tasks: a.processing.map(analyzerTask),
    recent_completed: a.recentCompleted.map(analyzerTask), recent_failed: a.recentFailed.map(analyzerTask),
    total_analyzed: a.total, successful_analyzed: a.successful, failed_analyzed: a.failed,
    // and its average as a Go duration string ("1850ms")
    average_analysis_time: a.total > 0 ? `${Math.round(a.totalNs / a.total / 1e6)}ms` : 0,
  };
}

/** Drops what Go's omitempty drops: undefined, null, '', 0, false, [] and {} (recursively). */
export function omitEmpty(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(omitEmpty).filter((x) => x !== undefined);
    return items.length === 0 ? undefined : items;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const x = omitEmpty(v);
      if (x !== undefined) out[k] = x;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  if (value === null || value === '' || value === 0 || value === false) return undefined;
  return value;
}
