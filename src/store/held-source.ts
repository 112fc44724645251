import type { SourceName } from '../model/index.ts';
import { DOMAINS, type Domain, type DomainEntity, type StoreStep } from '../protocol.ts';
import type { ChartRepoView } from './chart-repo-view.ts';
import type { StoreTables } from './store-tables.ts';

/**
 * What a store holds of one source, as the steps that give it to another store: the entities it owns in each
 * domain as that source's listing, and (for the Chart Repo) the view as its pairs, each with its part. Empty when
 * the store holds nothing of it. The supervisor keeps these while the source is down, so that a store replacing a
 * dead one meanwhile shows what was known instead of nothing (supervisor.ts, heldWhileDown).
 */
export function heldSteps(source: SourceName, tables: StoreTables, chartRepo: ChartRepoView): StoreStep[] {
  const steps: StoreStep[] = [];
  for (const domain of DOMAINS) {
    const items = ownedItems(tables, domain, source);
    if (items.length > 0) steps.push({ op: 'replace', domain, items } as StoreStep);
  }
  if (source === 'chart_repo') {
    const pairs = chartRepo.heldAsStep();
    if (pairs) steps.push(pairs);
  }
  return steps;
}

/** A count that moves whenever heldSteps(source) would give other steps (the supervisor's copy is then stale). */
export function heldMark(source: SourceName, tables: StoreTables, chartRepo: ChartRepoView): number {
  let mark = source === 'chart_repo' ? chartRepo.changes : 0;
  for (const domain of DOMAINS) mark += tables.of(domain).changesOf(source);
  return mark;
}

function ownedItems<D extends Domain>(tables: StoreTables, domain: D, source: SourceName): DomainEntity[D][] {
  const table = tables.of(domain);
  return [...table.ownedBy(source)].map((key) => table.rows.get(key)!.value);
}
