import type { AppFlowState } from '../model/index.ts';
import type { Domain, DomainEntity } from '../protocol.ts';
import type { ChangeLog } from './change-log.ts';
import type { EntityTable, Owner } from './entity-table.ts';
import type { EntityTimelines } from './entity-timelines.ts';
import type { StoreTables } from './store-tables.ts';
import type { StuckLimits } from './stuck.ts';
import type { StuckWatch } from './stuck-watch.ts';
import { newOperationInStage } from './timeline.ts';

/**
 * The one way an entity is stored or removed: the table row, its stuck verdict and watch, its timeline entry
 * and the change the next version carries, kept together.
 */
export class EntityWriter {
  constructor(
    private readonly tables: StoreTables,
    private readonly stuck: StuckWatch,
    private readonly timelines: EntityTimelines,
    private readonly changes: ChangeLog,
    private readonly clock: () => Date,
  ) {}

  /** `evidence` (and the time it gives, if any): what the timeline records when the entity moved. Answers its key. */
  upsert<D extends Domain>(domain: D, item: DomainEntity[D], owner: Owner, evidence = 'store', at?: string): string {
    const table = this.tables.of(domain) as unknown as EntityTable<object>;
    const key = table.key(item);
    const prev = table.rows.get(key);
    const now = this.clock().getTime();
    const value = this.stuck.judge(domain, key, item, prev?.value as DomainEntity[D] | undefined, now);
    if (table.upsert(value, owner) !== null) {
      this.changes.touch(domain, key, prev?.value);
      const op = domain === 'app_states' ? newOperationInStage(prev?.value as AppFlowState | undefined, value as AppFlowState) : undefined;
      this.timelines.record(domain, key, value, evidence, at, op);
    }
    this.stuck.watch(domain, key, value, now);
    return key;
  }

  /** Answers whether the store held the entity. */
  remove(domain: Domain, key: string, evidence = 'store', at?: string, detail?: string): boolean {
    const table = this.tables.of(domain);
    const prev = table.rows.get(key);
    if (!prev || !table.delete(key)) return false;
    this.timelines.gone(domain, key, at ?? this.clock().toISOString(), evidence, detail);
    this.stuck.forget(domain, key);
    this.changes.left(domain, key, prev.value);
    return true;
  }

  /** Time passes: flips the stuck verdict of watched apps and tasks that crossed (or left) their limit. */
  recheckStuck(): void {
    this.stuck.recheck(this.tables, this.clock().getTime(), (domain, row) => this.upsert(domain, row.value, row.owner));
  }

  setStuckLimits(limits: StuckLimits): void {
    this.stuck.limits = limits;
    for (const row of [...this.tables.apps.rows.values()]) this.upsert('app_states', row.value, row.owner);
    for (const row of [...this.tables.tasks.rows.values()]) this.upsert('tasks', row.value, row.owner);
  }
}
