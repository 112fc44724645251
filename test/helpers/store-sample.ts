import type { StoreMetricsSample } from '../../src/protocol.ts';

/** A store metrics sample of an empty store, with `over` laid on top. */
export function storeSample(over: Partial<StoreMetricsSample> = {}): StoreMetricsSample {
  return {
    apps_by_stage: {}, apps_by_health: {}, tasks_by_status: {}, tasks_by_type: {}, components_by_status: {}, component_healthy: {},
    sources: {}, version: 1, ready: 1, stuck_apps: 0, stuck_tasks: 0, timeline_entries: {}, threads: {}, ...over,
  };
}
