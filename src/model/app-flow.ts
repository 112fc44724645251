import * as v from 'valibot';
import { Id, jsonBound, StuckEntries, Text, Time } from './common.ts';

export const APP_STAGES = [
  'unknown', 'fetching', 'hydrating', 'installing', 'running',
  'upgrading', 'uninstalling', 'failed', 'stopped',
] as const;
export type AppStage = (typeof APP_STAGES)[number];

export const HEALTH = ['healthy', 'unhealthy', 'unknown'] as const;
export type Health = (typeof HEALTH)[number];

/**
 * An app's health as the summary and `…/apps?health=` see it: healthy or unhealthy as reported, `unknown` for
 * the rest (reported unknown, or none yet: an app still installing often has none).
 */
export function appHealth(a: { health?: string }): Health {
  return a.health === 'healthy' || a.health === 'unhealthy' ? a.health : 'unknown';
}

/** One installed app of one user from one market source. Key: `user_id:source_id:app_name`. */
export const AppFlowState = v.object({
  app_id: Id,
  app_name: Id,
  user_id: Id,
  source_id: Id,
  stage: v.picklist(APP_STAGES),
  stage_detail: v.optional(Text),
  version: v.optional(Id),
  cfg_type: v.optional(Id),
  health: v.optional(v.picklist(HEALTH)),
  last_update: Time,
  /**
   * A free map (as Go's), bounded like JsonObject; the keys we add are declared: `status.createTime` (the
   * app-service event time, RFC 3339), `status.opID` and `manifest_entrances` (the status entrances are the manifest's)
   */
  metadata: v.optional(v.pipe(
    v.looseObject({
      status: v.optional(v.looseObject({ createTime: v.optional(Time), opID: v.optional(v.string()) })),
      manifest_entrances: v.optional(v.boolean()),
    }),
    jsonBound,
  )),
  /** additive: when the app entered its current stage */
  stage_since: v.optional(Time),
  /** additive: the active task that forces the stage (a running install task makes the app installing), if one does */
  stage_task: v.optional(Id),
  ...StuckEntries,
});
export type AppFlowState = v.InferOutput<typeof AppFlowState>;

export function appKey(a: { user_id: string; source_id: string; app_name: string }): string {
  return `${a.user_id}:${a.source_id}:${a.app_name}`;
}
