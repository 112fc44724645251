import type { StateFilter } from '../../src/protocol.ts';
import type { HeldChartRepo } from '../../src/store/chart-repo-view.ts';

/** The held Chart Repo view's JSON as one string: whole, or narrowed by `f` as a filtered /state narrows it. */
export function renderHeld(held: Pick<HeldChartRepo, 'renderInto' | 'filteredInto'>, f?: StateFilter | null): string {
  const out: string[] = [];
  if (f) held.filteredInto(out, f);
  else held.renderInto(out);
  return out.join('');
}
