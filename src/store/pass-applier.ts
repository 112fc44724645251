import type { AppFlowState, SourceName } from '../model/index.ts';
import type { AppEvent, Domain, DomainEntity, StoreStep } from '../protocol.ts';
import { mergeAppEvent } from '../collect/app-event.ts';
import type { ChangeLog } from './change-log.ts';
import type { ChartRepoView } from './chart-repo-view.ts';
import type { EntityWriter } from './entity-writer.ts';
import { eventEvidence, heldIsNewer, isStaleEvent, recentlyPushed } from './event-order.ts';
import type { SourceBook } from './source-book.ts';
import type { StoreTables } from './store-tables.ts';

/** The timeline's evidence for what each source's passes say. */
const EVIDENCE: Record<SourceName, string> = {
  app_flow: 'poll user_application_states', tasks: 'poll task_records', components: 'poll components',
  chart_repo: 'poll chart repo', nats: 'event',
};

function emptyKeySets(): Record<Domain, Set<string>> {
  return { app_states: new Set(), tasks: new Set(), components: new Set() };
}

/**
 * Reconciliation: applies a collector pass's steps whole. A full listing (`replace`) removes what its owners no
 * longer list, after every upsert, so a reader never sees a domain emptied mid-pass.
 */
export class PassApplier {
  /**
   * Held keys a pushed step (an event, an upsert) changed since a listing last sent them: a listing that only
   * keeps such a key is asked to send it again (AppliedMessage.reread), as its full listing would have.
   */
  private readonly pushed = emptyKeySets();

  constructor(
    private readonly tables: StoreTables,
    private readonly writer: EntityWriter,
    private readonly chartRepo: ChartRepoView,
    private readonly changes: ChangeLog,
    private readonly sources: SourceBook,
    private readonly clock: () => Date,
  ) {}

  /** Applies the steps; answers the keys its listings kept that the store cannot vouch for (AppliedMessage.reread). */
  apply(source: SourceName, steps: StoreStep[]): string[] {
    const reread: string[] = [];
    for (const step of steps) this.applyStep(source, step, reread);
    return reread;
  }

  private applyStep(source: SourceName, step: StoreStep, reread: string[]): void {
    switch (step.op) {
      case 'upsert':
      case 'replace': {
        const table = this.tables.of(step.domain);
        const pushed = this.pushed[step.domain];
        const listed = new Set<string>();
        for (const item of step.items as DomainEntity[Domain][]) {
          const key = table.key(item as never);
          if (step.op === 'replace') {
            listed.add(key);
            pushed.delete(key);
          }
          // a poll never takes an app back behind a newer pushed event: the market may not have written it yet
          if (step.domain === 'app_states' && heldIsNewer(this.tables.apps.rows.get(key)?.value, item as AppFlowState)) continue;
          this.writer.upsert(step.domain, item, source, EVIDENCE[source]);
          if (step.op === 'upsert') pushed.add(key);
        }
        if (step.op === 'replace') {
          // kept keys are listed without being sent: what the store holds for them stands, unless it lost them
          for (const key of step.keep ?? []) {
            listed.add(key);
            if (!table.rows.has(key) || pushed.has(key)) reread.push(key);
          }
          // deletions come after every upsert: a reader never sees the domain emptied mid-pass
          const owners = new Set<SourceName>([source, ...(step.reconciles ?? [])]);
          for (const key of table.missing(owners, listed)) {
            if (step.domain === 'app_states' && recentlyPushed(this.tables.apps.rows.get(key), source, this.clock().getTime())) continue;
            this.remove(step.domain, key, EVIDENCE[source]);
          }
        }
        return;
      }
      case 'remove':
        for (const key of step.keys) this.remove(step.domain, key, EVIDENCE[source]);
        return;
      case 'chart_repo':
        if (this.chartRepo.set(step)) this.changes.dirty = true;
        return;
      case 'chart_repo_parts':
        this.chartRepo.stage(step.pairs);
        return;
      case 'chart_repo_pairs': {
        const { changed, reread: again } = this.chartRepo.setPairs(step);
        if (changed) this.changes.dirty = true;
        reread.push(...again);
        return;
      }
      case 'app_events':
        for (const ev of step.events) this.applyAppEvent(source, ev);
        return;
    }
  }

  /** A pushed app state: ignored when older than what is held; keeps what the event does not carry. */
  private applyAppEvent(source: SourceName, ev: AppEvent): void {
    const prev = this.tables.apps.rows.get(ev.key);
    if (isStaleEvent(prev?.value, ev)) {
      this.sources.noteStaleEvent(source);
      return;
    }
    if (ev.app === null) {
      this.remove('app_states', ev.key, eventEvidence(ev), ev.at);
      return;
    }
    const merged = mergeAppEvent(prev?.value, ev.app);
    // an app the poll knows stays the poll's: its next full listing reconciles it
    this.pushed.app_states.add(this.writer.upsert('app_states', merged, prev?.owner ?? source, eventEvidence(ev), ev.at));
  }

  private remove(domain: Domain, key: string, evidence: string, at?: string): void {
    if (this.writer.remove(domain, key, evidence, at)) this.pushed[domain].delete(key);
  }
}
