import { appHealth, type AppFlowState, type ComponentStatus, type RuntimeSummary, type TaskState } from '../model/index.ts';

/** Adds (sign 1) or removes (sign -1) one entity's contribution to the summary counts. */
export function countApp(s: RuntimeSummary, a: AppFlowState, sign: 1 | -1): void {
  s.total_apps += sign;
  if (a.stuck) s.stuck_apps += sign;
  const health = appHealth(a);
  if (health === 'healthy') s.healthy_apps += sign;
  else if (health === 'unhealthy') s.unhealthy_apps += sign;
}

export function countTask(s: RuntimeSummary, t: TaskState, sign: 1 | -1): void {
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
