import type { AppFlowState } from './app-flow.ts';
import type { ChartRepoStatus } from './chart-repo.ts';
import type { ComponentStatus } from './component.ts';
import type { SourceHealth, SourceName } from './source.ts';
import type { TaskState } from './task.ts';

/** The nine counts of the Go module's RuntimeSummary. */
export interface RuntimeSummary {
  total_apps: number;
  total_tasks: number;
  pending_tasks: number;
  running_tasks: number;
  completed_tasks: number;
  failed_tasks: number;
  healthy_apps: number;
  unhealthy_apps: number;
  active_components: number;
  /** additive: apps in a transitional stage past its limit */
  stuck_apps: number;
  /** additive: tasks pending or running past their limit */
  stuck_tasks: number;
}

export const SUMMARY_KEYS = [
  'total_apps', 'total_tasks', 'pending_tasks', 'running_tasks', 'completed_tasks',
  'failed_tasks', 'healthy_apps', 'unhealthy_apps', 'active_components', 'stuck_apps', 'stuck_tasks',
] as const satisfies readonly (keyof RuntimeSummary)[];

export function emptySummary(): RuntimeSummary {
  return {
    total_apps: 0, total_tasks: 0, pending_tasks: 0, running_tasks: 0, completed_tasks: 0,
    failed_tasks: 0, healthy_apps: 0, unhealthy_apps: 0, active_components: 0, stuck_apps: 0, stuck_tasks: 0,
  };
}

/** The whole runtime view as the Go module's RuntimeSnapshot, plus additive `version` and `sources`. */
export interface RuntimeSnapshot {
  timestamp: string;
  version: number;
  app_states: Record<string, AppFlowState>;
  tasks: Record<string, TaskState>;
  components: Record<string, ComponentStatus>;
  chart_repo?: ChartRepoStatus;
  summary: RuntimeSummary;
  /** each source's health (content); its freshness is served apart (…/sources) */
  sources: Partial<Record<SourceName, SourceHealth>>;
}

/** The `{success, message, data}` envelope of the market's API. */
export interface Envelope<T> {
  success: boolean;
  message: string;
  data: T | null;
}

/** The message of a successful `/state` answer (and `…/sources`, the change stream's snapshots). */
export const OK_MESSAGE = 'Runtime state retrieved successfully';

/** The envelope as JSON text, around data already rendered. */
export function envelopeJson(success: boolean, message: string, dataJson: string | null): string {
  return `${envelopePrefix(success, message)}${dataJson ?? 'null'}}`;
}

/** What comes before the data (a reader that cuts the data out of a body skips it). */
export function envelopePrefix(success: boolean, message: string): string {
  return `{"success":${success},"message":${JSON.stringify(message)},"data":`;
}
