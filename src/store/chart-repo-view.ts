import type { ChartRepoOrigin, ChartRepoStatus } from '../model/index.ts';
import type { ChartRepoChanges, StoreStep } from '../protocol.ts';
import { chartRepoContentKey } from '../collect/chart-repo-content.ts';
import { digestOf } from '../content-digest.ts';
import { diffChartIndex, emptyChartPending, indexChartRepo, takeChartChanges, type ChartIndex } from './chart-repo-items.ts';

export interface HeldChartRepo {
  value: ChartRepoStatus;
  /** rendered once, when it changed */
  json: string;
  /** the digest of its content key (what a reader sees, without the times) */
  content: string;
  index: ChartIndex;
  /** which (user, source) answer each item came from (never on the wire: filters read it) */
  origins?: ChartRepoOrigin[];
}

/** The Chart Repo view the store holds, and its items changed since the last version (the stream sends them one by one). */
export class ChartRepoView {
  held: HeldChartRepo | null = null;
  private readonly pending = emptyChartPending();

  /** Takes the collector's view; answers whether a reader sees a change. */
  set(step: Extract<StoreStep, { op: 'chart_repo' }>): boolean {
    const json = JSON.stringify(step.value);
    if (this.held?.json === json) {
      // the same view; where its items came from can still have moved (it is not on the wire)
      this.held.origins = step.origins;
      return false;
    }
    const index = indexChartRepo(step.value, step.origins);
    diffChartIndex(this.held?.index ?? null, index, this.pending);
    // (the collector sends the digest of its content key; a step without one is digested here)
    const content = step.content ?? digestOf([chartRepoContentKey(step.value)]);
    this.held = { value: step.value, json, content, index, origins: step.origins };
    return true;
  }

  /** Items changed since the last call, as a version carries them (undefined: none). */
  takeChanges(): ChartRepoChanges | undefined {
    return takeChartChanges(this.pending);
  }
}
