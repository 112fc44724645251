import * as v from 'valibot';
import { GoInt, GoTime, JsonObject } from './common.ts';
import { appKey } from './app-flow.ts';

/**
 * Chart Repo items in the shapes the market's Go module rebuilds them into (docs/go-wire.md "chart_repo"):
 * the keys Go always sends are required here, the `omitempty` ones optional. The normalizer
 * (collect/chart-repo.ts) converts whatever the Chart Repo sends into these shapes, so every item in the
 * store fits them; the schemas are also what the Go-client check of the tests validates with.
 */
const optStr = v.optional(v.string());
const optInt = v.optional(GoInt);
const optNum = v.optional(v.pipe(v.number(), v.finite()));
const optTime = v.optional(GoTime);

export const HYDRATION_STEPS = [
  'SourceChartStep', 'RenderedChartStep', 'CustomParamsUpdateStep', 'ImageAnalysisStep', 'DatabaseUpdateStep',
] as const;

/**
 * Enumerated values seen so far. Not a closed set: an item with another value is kept as sent and counted
 * (`sources.chart_repo.counters.unfamiliar_values`), as Go keeps any string.
 */
export const KNOWN_VALUES = {
  app_state: ['pending', 'processing', 'completed', 'failed'],
  step_status: ['pending', 'running', 'retrying', 'completed', 'failed'],
  image_status: ['not_downloaded', 'partially_downloaded', 'fully_downloaded', 'registry_error'],
  analysis_status: ['pending', 'analyzing', 'completed', 'failed'],
  health_status: ['healthy', 'unhealthy', 'degraded'],
  hydrator_task_status: ['pending', 'running', 'completed', 'failed'],
  analysis_task_status: ['queued', 'processing', 'completed', 'failed'],
} as const satisfies Record<string, readonly string[]>;

export const ChartRepoSystem = v.object({
  uptime: optInt,
  version: optStr,
  components: v.optional(JsonObject),
  resource_usage: v.optional(JsonObject),
  hostname: optStr,
});
export type ChartRepoSystem = v.InferOutput<typeof ChartRepoSystem>;

const CurrentStep = v.object({
  name: v.string(),
  index: GoInt,
  total: GoInt,
  status: v.string(),
  started_at: GoTime,
  updated_at: GoTime,
  retry_count: GoInt,
});

export const ChartRepoApp = v.object({
  app_id: v.string(),
  app_name: v.string(),
  user_id: v.string(),
  source_id: v.string(),
  state: v.string(),
  current_step: v.optional(CurrentStep),
  processing: v.optional(v.object({ task_id: v.string(), duration: GoInt })),
  timestamps: v.optional(v.object({ created_at: GoTime, last_updated_at: GoTime })),
  error: v.optional(v.object({ message: v.string(), step: optStr })),
  last_update: GoTime,
});
export type ChartRepoApp = v.InferOutput<typeof ChartRepoApp>;

export const ImageNode = v.object({
  node_name: v.string(),
  architecture: optStr,
  os: optStr,
  total_size: optInt,
  downloaded_size: optInt,
  layer_count: optInt,
  downloaded_layers: optInt,
  progress: optNum,
});
export type ImageNode = v.InferOutput<typeof ImageNode>;

export const ChartRepoImage = v.object({
  image_name: v.string(),
  /** additive: the (user, source) whose Chart Repo answer listed the image */
  user_id: optStr,
  source_id: optStr,
  app_id: optStr,
  app_name: optStr,
  status: v.string(),
  architecture: optStr,
  total_size: optInt,
  downloaded_size: optInt,
  download_progress: optNum,
  layer_count: optInt,
  downloaded_layers: optInt,
  analysis_status: optStr,
  analyzed_at: optTime,
  error_message: optStr,
  nodes: v.optional(v.array(ImageNode)),
  last_update: GoTime,
});
export type ChartRepoImage = v.InferOutput<typeof ChartRepoImage>;

export const HydratorTask = v.object({
  task_id: v.string(),
  user_id: v.string(),
  source_id: v.string(),
  app_id: v.string(),
  app_name: v.string(),
  status: v.string(),
  step_name: v.string(),
  total_steps: GoInt,
  retry_count: GoInt,
  last_error: optStr,
  created_at: GoTime,
  updated_at: GoTime,
});
export type HydratorTask = v.InferOutput<typeof HydratorTask>;

export const HydratorStatus = v.object({
  queue_length: GoInt,
  active_tasks: GoInt,
  completed_tasks: GoInt,
  failed_tasks: GoInt,
  /** 0 in the merged view, as Go leaves it */
  worker_count: GoInt,
  /** additive: the (user, source) answers' worker counts summed (left out when 0) */
  worker_count_total: v.optional(GoInt),
  tasks: v.optional(v.array(HydratorTask)),
  recent_failed: v.optional(v.array(HydratorTask)),
});
export type HydratorStatus = v.InferOutput<typeof HydratorStatus>;

export const AnalyzerTask = v.object({
  task_id: v.string(),
  app_name: v.string(),
  app_dir: v.string(),
  status: v.string(),
  created_at: GoTime,
  started_at: optTime,
  completed_at: optTime,
  worker_id: optInt,
  /** nanoseconds */
  duration: optInt,
  images_count: GoInt,
  analyzed_count: optInt,
  error: optStr,
  error_step: optStr,
  images: v.optional(v.array(v.string())),
});
export type AnalyzerTask = v.InferOutput<typeof AnalyzerTask>;

export const ImageAnalyzerStatus = v.object({
  is_running: v.boolean(),
  health_status: v.string(),
  last_check: GoTime,
  queue_length: GoInt,
  active_workers: GoInt,
  cached_images: GoInt,
  analyzing_count: GoInt,
  queued_tasks: v.optional(v.array(AnalyzerTask)),
  processing_tasks: v.optional(v.array(AnalyzerTask)),
  recent_completed: v.optional(v.array(AnalyzerTask)),
  recent_failed: v.optional(v.array(AnalyzerTask)),
  total_analyzed: GoInt,
  successful_analyzed: GoInt,
  failed_analyzed: GoInt,
  /** nanoseconds */
  average_analysis_time: GoInt,
  error_message: optStr,
});
export type ImageAnalyzerStatus = v.InferOutput<typeof ImageAnalyzerStatus>;

/** The merged Chart Repo view kept in the store (one per sidecar). */
export const ChartRepoStatus = v.object({
  system: v.optional(ChartRepoSystem),
  apps: v.optional(v.array(ChartRepoApp)),
  images: v.optional(v.array(ChartRepoImage)),
  tasks: v.optional(v.object({
    hydrator: v.optional(HydratorStatus),
    image_analyzer: v.optional(ImageAnalyzerStatus),
  })),
  last_update: GoTime,
});
export type ChartRepoStatus = v.InferOutput<typeof ChartRepoStatus>;

/**
 * Each Chart Repo item's key in the change stream, as a client computes it from the item: apps
 * `user_id:source_id:app_name`, images `user_id:source_id:image_name` (the pair whose answer listed it),
 * hydrator tasks `task_id`.
 */
export const chartItemKeys = {
  apps: (a: ChartRepoApp): string => appKey(a),
  images: (i: ChartRepoImage): string => `${i.user_id ?? ''}:${i.source_id ?? ''}:${i.image_name}`,
  hydrator_tasks: (t: HydratorTask): string => t.task_id,
};
