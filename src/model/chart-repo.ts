import * as v from 'valibot';
import { Id, JsonObject, Text, Time } from './common.ts';

/**
 * Chart Repo wire types (docs/architecture.md, Sources). The Chart Repo omits empty fields, so every field not needed to
 * identify an item is optional: absent means empty or zero. Lists are validated item by item by the
 * normalizer (collect/chart-repo.ts) so one bad item drops alone.
 */
const Num = v.pipe(v.number(), v.finite());
const optNum = v.optional(Num);
const optText = v.optional(Text);
const optId = v.optional(Id);
const optTime = v.optional(Time);

export const HYDRATION_STEPS = [
  'SourceChartStep', 'RenderedChartStep', 'CustomParamsUpdateStep', 'ImageAnalysisStep', 'DatabaseUpdateStep',
] as const;

export const ChartRepoSystem = v.object({
  uptime: optNum,
  version: optId,
  hostname: optId,
  components: v.optional(JsonObject),
  resource_usage: v.optional(JsonObject),
});

export const ChartRepoApp = v.object({
  app_id: Id,
  app_name: Id,
  user_id: Id,
  source_id: Id,
  state: v.picklist(['pending', 'processing', 'completed', 'failed']),
  current_step: v.optional(v.object({
    name: Id,
    index: optNum,
    total: optNum,
    status: optId,
    started_at: optTime,
    updated_at: optTime,
    retry_count: optNum,
  })),
  processing: v.optional(v.object({ task_id: optId, duration: optNum })),
  timestamps: v.optional(v.object({ created_at: optTime, last_updated_at: optTime })),
  error: v.optional(v.object({ message: optText, step: optId })),
});
export type ChartRepoApp = v.InferOutput<typeof ChartRepoApp>;

export const ImageNode = v.object({
  node_name: Id,
  architecture: optId,
  os: optId,
  total_size: optNum,
  downloaded_size: optNum,
  layer_count: optNum,
  downloaded_layers: optNum,
  progress: optNum,
});

export const ChartRepoImage = v.object({
  image_name: v.pipe(v.string(), v.maxLength(1024)),
  app_id: optId,
  app_name: optId,
  status: v.picklist(['not_downloaded', 'partially_downloaded', 'fully_downloaded', 'registry_error']),
  architecture: optId,
  total_size: optNum,
  downloaded_size: optNum,
  download_progress: optNum,
  layer_count: optNum,
  downloaded_layers: optNum,
  analysis_status: optId,
  analyzed_at: optTime,
  error_message: optText,
  nodes: v.optional(v.array(ImageNode)),
});
export type ChartRepoImage = v.InferOutput<typeof ChartRepoImage>;

export const HydratorTask = v.object({
  task_id: Id,
  user_id: optId,
  source_id: optId,
  app_id: optId,
  app_name: optId,
  status: optId,
  step_name: optId,
  total_steps: optNum,
  retry_count: optNum,
  last_error: optText,
  created_at: optTime,
  updated_at: optTime,
});
export type HydratorTask = v.InferOutput<typeof HydratorTask>;

export const HydratorStatus = v.object({
  queue_length: optNum,
  active_tasks: optNum,
  completed_tasks: optNum,
  failed_tasks: optNum,
  worker_count: optNum,
  tasks: v.optional(v.array(HydratorTask)),
  recent_failed: v.optional(v.array(HydratorTask)),
});
export type HydratorStatus = v.InferOutput<typeof HydratorStatus>;

export const AnalyzerTask = v.object({
  task_id: Id,
  app_name: optId,
  app_dir: optText,
  status: optId,
  created_at: optTime,
  started_at: optTime,
  completed_at: optTime,
  worker_id: optNum,
  duration: optNum,
  images_count: optNum,
  analyzed_count: optNum,
  error: optText,
  error_step: optId,
  images: v.optional(v.array(v.pipe(v.string(), v.maxLength(1024)))),
});
export type AnalyzerTask = v.InferOutput<typeof AnalyzerTask>;

export const ImageAnalyzerStatus = v.object({
  is_running: v.optional(v.boolean()),
  health_status: optId,
  last_check: optTime,
  queue_length: optNum,
  active_workers: optNum,
  cached_images: optNum,
  analyzing_count: optNum,
  queued_tasks: v.optional(v.array(AnalyzerTask)),
  processing_tasks: v.optional(v.array(AnalyzerTask)),
  recent_completed: v.optional(v.array(AnalyzerTask)),
  recent_failed: v.optional(v.array(AnalyzerTask)),
  total_analyzed: optNum,
  successful_analyzed: optNum,
  failed_analyzed: optNum,
  average_analysis_time: optNum,
  error_message: optText,
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
  last_update: Time,
});
export type ChartRepoStatus = v.InferOutput<typeof ChartRepoStatus>;
