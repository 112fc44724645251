import { HYDRATION_STEPS } from '../model/chart-repo.ts';
import {
  addImage, nextId, type AnalyzerTaskSim, type Hydration, type Install, type MarketModel, type SimImage,
} from './market-model.ts';

/**
 * What the Chart Repo is busy with, moved in step with the market: each installed or upgraded app is
 * hydrated through the five steps; at ImageAnalysisStep its images are queued for the image analyzer and
 * start downloading to every node.
 */

const MB = 1024 * 1024;
const RECENT = 10;
const MAX_QUEUE = 200;

export function startHydration(m: MarketModel, inst: Install, state: Hydration['state'] = 'pending'): Hydration {
  const previous = m.hydrations.get(inst.key);
  const h: Hydration = {
    key: inst.key, user_id: inst.user_id, source_id: inst.source_id, app_id: inst.app_id, app_name: inst.app_name,
    state, step: 0, step_status: 'pending', retry_count: 0, task_id: nextId(m, 'hydrate'),
    created_at: previous?.created_at ?? m.now, started_at: m.now, step_started_at: m.now, updated_at: m.now,
    error: null, nextAt: m.now + m.rng.int(300, 3000),
  };
  m.hydrations.set(inst.key, h);
  return h;
}

function counters(m: MarketModel, h: Hydration): { completed: number; failed: number } {
  const key = `${h.user_id}\n${h.source_id}`;
  let c = m.hydratorCounters.get(key);
  if (!c) m.hydratorCounters.set(key, (c = { completed: 0, failed: 0 }));
  return c;
}

function advanceHydration(m: MarketModel, h: Hydration): void {
  if (h.nextAt > m.now) return;
  h.updated_at = m.now;
  if (h.state === 'completed') {
    h.nextAt = Number.POSITIVE_INFINITY;
    return;
  }
  if (h.state === 'pending' || h.state === 'failed') {
    Object.assign(h, { state: 'processing', step: 0, step_status: 'running', retry_count: 0, error: null });
    h.step_started_at = m.now;
    h.nextAt = m.now + m.rng.int(500, 3000);
    return;
  }
  if (m.rng.chance(0.04)) {
    h.retry_count += 1;
    if (h.retry_count > 2) {
      h.state = 'failed';
      h.step_status = 'failed';
      h.error = { message: m.rng.pick(['render chart: timeout', 'image manifest: 404', 'database: deadlock detected']),
        step: HYDRATION_STEPS[h.step] };
      counters(m, h).failed += 1;
      h.nextAt = m.now + m.rng.int(20_000, 40_000); // the hydrator retries failed apps later
    } else {
      h.step_status = 'retrying';
      h.nextAt = m.now + m.rng.int(500, 2000);
    }
    return;
  }
  if (HYDRATION_STEPS[h.step] === 'ImageAnalysisStep') queueAnalysis(m, h);
  h.step += 1;
  h.retry_count = 0;
  if (h.step >= HYDRATION_STEPS.length) {
    h.state = 'completed';
    h.step = HYDRATION_STEPS.length - 1;
    h.step_status = 'completed';
    counters(m, h).completed += 1;
    h.nextAt = Number.POSITIVE_INFINITY;
    return;
  }
  h.step_status = 'running';
  h.step_started_at = m.now;
  h.nextAt = m.now + m.rng.int(500, 3000);
}

/** The app's images appear (owned by its install) and an analyzer task is queued for them. */
function queueAnalysis(m: MarketModel, h: Hydration): void {
  const inst = m.installs.get(h.key);
  const app = inst ? m.catalog.get(inst.catalog_key) : undefined;
  if (!inst || !app) return;
  for (const name of app.images) if (!m.images.has(name)) addImage(m, newImage(m, inst, name));
  queueAnalyzerTask(m, inst, app.images);
}

/** An analyzer task for an install's images (the seed queues one without creating images). */
export function queueAnalyzerTask(m: MarketModel, inst: Install, images: string[]): void {
  const a = m.analyzer;
  a.queued.push({
    task_id: nextId(m, 'analyze'), app_name: inst.app_name, images, status: 'queued',
    created_at: m.now, started_at: null, completed_at: null, worker_id: null, analyzed_count: 0, error: null,
    nextAt: m.now,
  });
  if (a.queued.length > MAX_QUEUE) a.queued.shift();
}

export function newImage(m: MarketModel, inst: Install, name: string, downloaded = 0): SimImage {
  const total = m.rng.int(50, 2000) * MB;
  const layers = m.rng.int(3, 15);
  return {
    image_name: name, owner: inst.key, user_id: inst.user_id, source_id: inst.source_id, app_id: inst.app_id,
    app_name: inst.app_name, architecture: m.nodes[0].architecture, total_size: total, layer_count: layers,
    nodes: m.nodes.map((n) => ({
      node_name: n.name, architecture: n.architecture,
      downloaded_size: Math.floor(total * downloaded), downloaded_layers: Math.floor(layers * downloaded),
    })),
    registry_error: m.rng.chance(0.03) ? 'registry unavailable: dial tcp: i/o timeout' : null,
    analysis_status: 'pending', analyzed_at: null,
  };
}

export function advanceAnalyzer(m: MarketModel): void {
  const a = m.analyzer;
  for (const t of [...a.processing]) {
    if (t.nextAt > m.now) continue;
    a.processing = a.processing.filter((x) => x !== t);
    const ok = m.rng.chance(0.9);
    t.status = ok ? 'completed' : 'failed';
    t.completed_at = m.now;
    t.analyzed_count = ok ? t.images.length : Math.max(0, t.images.length - 1);
    t.error = ok ? null : 'manifest inspect: unauthorized';
    a.total += 1;
    if (ok) a.successful += 1;
    else a.failed += 1;
    a.totalNs += (m.now - (t.started_at ?? m.now)) * 1e6;
    const ring = ok ? a.recentCompleted : a.recentFailed;
    ring.unshift(t);
    if (ring.length > RECENT) ring.pop();
    for (const name of t.images) {
      const img = m.images.get(name);
      if (img) {
        img.analysis_status = ok ? 'completed' : 'failed';
        img.analyzed_at = m.now;
      }
    }
  }
  while (a.processing.length < a.workers && a.queued.length > 0) {
    const t = a.queued.shift() as AnalyzerTaskSim;
    t.status = 'processing';
    t.started_at = m.now;
    t.worker_id = a.processing.length + 1;
    t.nextAt = m.now + m.rng.int(1000, 5000);
    a.processing.push(t);
    for (const name of t.images) {
      const img = m.images.get(name);
      if (img && img.analysis_status === 'pending') img.analysis_status = 'analyzing';
    }
  }
}

/** Every node pulls its layers at its own pace. */
function downloadImages(m: MarketModel, dtMs: number): void {
  for (const img of m.images.values()) {
    if (img.registry_error) continue;
    for (const node of img.nodes) {
      if (node.downloaded_size >= img.total_size) continue;
      const bytes = Math.floor(m.rng.int(5, 60) * MB * (dtMs / 1000));
      node.downloaded_size = Math.min(img.total_size, node.downloaded_size + bytes);
      node.downloaded_layers = Math.floor((img.layer_count * node.downloaded_size) / img.total_size);
    }
  }
}

export function stepChart(m: MarketModel, dtMs: number): void {
  for (const h of m.hydrations.values()) if (h.nextAt <= m.now) advanceHydration(m, h);
  advanceAnalyzer(m);
  downloadImages(m, dtMs);
}

export function imageStatus(img: SimImage): 'not_downloaded' | 'partially_downloaded' | 'fully_downloaded' | 'registry_error' {
  if (img.registry_error) return 'registry_error';
  if (img.nodes.every((n) => n.downloaded_size >= img.total_size)) return 'fully_downloaded';
  if (img.nodes.some((n) => n.downloaded_size > 0)) return 'partially_downloaded';
  return 'not_downloaded';
}
