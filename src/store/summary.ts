import { appHealth, type AppFlowState, type ComponentStatus, type RuntimeSummary } from '../model/index.ts';

/** Adds (sign 1) or removes (sign -1) one entity's contribution to the summary counts. */
export function countApp(s: RuntimeSummary, a: AppFlowState, sign: 1 | -1): void {
  countAppFacets(s, { stuck: a.stuck, health: appHealth(a) }, sign);
}

/** An app as the summary counts it: what the change stream knows of one (its facets) is enough. */
export function countAppFacets(s: RuntimeSummary, a: { stuck?: boolean; health?: string }, sign: 1 | -1): void {
  s.total_apps += sign;
  if (a.stuck) s.stuck_apps += sign;
  if (a.health === 'healthy') s.healthy_apps += sign;
  else if (a.health === 'unhealthy') s.unhealthy_apps += sign;
}

/** A task as the summary counts it (a TaskState, or the change stream's facets of one). */
export function countTask(s: RuntimeSummary, t: { stuck?: boolean; status?: string }, sign: 1 | -1): void {
  s.total_tasks += sign;
  if (t.stuck) s.stuck_tasks += sign;
  switch (t.status) {
    case 'pending': s.pending_tasks += sign; break;
    case 'running': s.running_tasks += sign; break;
    case 'completed': s.completed_tasks += sign; break;
    case 'failed': s.failed_tasks += sign; break;
    default: break;
  }
}

export function countComponent(s: RuntimeSummary, c: ComponentStatus, sign: 1 | -1): void {
  if (c.healthy && c.status === 'running') s.active_components += sign;
}
