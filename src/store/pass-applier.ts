import type { AppFlowState, SourceName, TaskState } from '../model/index.ts';
import type { AppEvent, Domain, DomainEntity, LeftRow, StoreStep } from '../protocol.ts';
import { mergeAppEvent } from '../collect/app-event.ts';
import { withTaskOverride } from '../collect/app-flow.ts';
import type { ChangeLog } from './change-log.ts';
import type { ChartRepoView } from './chart-repo-view.ts';
import type { EntityWriter } from './entity-writer.ts';
import { awaitsMarket, eventEvidence, heldIsNewer, isStaleEvent, recentlyPushed } from './event-order.ts';
import { MultiIndex } from './multi-index.ts';
import type { SourceBook } from './source-book.ts';
import type { StoreTables } from './store-tables.ts';
import { polledAppEvidence } from './timeline.ts';

/** The timeline's evidence for what each source's passes say. */
const EVIDENCE: Record<SourceName, string> = {
  app_flow: 'poll user_application_states', tasks: 'poll task_records', components: 'poll components',
  chart_repo: 'poll chart repo', nats: 'event',
};

function emptyKeySets(): Record<Domain, Set<string>> {
  return { app_states: new Set(), tasks: new Set(), components: new Set() };
}

function emptyListings(): Record<Domain, Map<SourceName, Set<string>>> {
  return { app_states: new Map(), tasks: new Map(), components: new Map() };
}

function emptyLost(): Record<Domain, MultiIndex> {
  return { app_states: new MultiIndex(), tasks: new MultiIndex(), components: new MultiIndex() };
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
  /** per app a pushed event moved, when (the store's clock) its latest event arrived: how long it holds (awaitsMarket) */
  private readonly eventArrived = new Map<string, number>();

  constructor(
    private readonly tables: StoreTables,
    private readonly writer: EntityWriter,
    private readonly chartRepo: ChartRepoView,
    private readonly changes: ChangeLog,
    private readonly sources: SourceBook,
    private readonly clock: () => Date,
  ) {}

  /** Applies the steps; answers the keys its listings kept that the store cannot vouch for (AppliedMessage.reread). */
  apply(source: SourceName, steps: StoreStep[], evidence = EVIDENCE[source]): string[] {
    const reread: string[] = [];
    for (const step of steps) this.applyStep(source, step, reread, evidence);
    if (!steps.some((s) => s.op === 'items_ahead')) this.ahead.delete(source);
    return reread;
  }

  /**
   * Why the steps cannot be applied to this store, or null: a `changes` step needs the listing its source last
   * gave (a store that has none, e.g. a new one, drops the pass and the source lists everything again); a replace
   * step needs the items it sent ahead, all of them.
   */
  unappliable(source: SourceName, steps: readonly StoreStep[]): string | null {
    for (const step of steps) {
      if (step.op === 'changes' && !this.listings[step.domain].has(source)) {
        return `changes to ${step.domain} without a listing to change`;
      }
      if (step.op === 'replace' && (step.ahead ?? 0) !== this.aheadOf(source, step.domain).length) {
        return `replace of ${step.domain} sent ${step.ahead ?? 0} items ahead, the store holds ${this.aheadOf(source, step.domain).length}`;
      }
    }
    return null;
  }

  /** A pass of this source was dropped: what it sent ahead goes with it. */
  dropped(source: SourceName): void {
    this.ahead.delete(source);
  }

  /** per source, items sent ahead of its replace step (items_ahead), unseen by readers until that step */
  private readonly ahead = new Map<SourceName, { domain: Domain; items: DomainEntity[Domain][] }>();

  private aheadOf(source: SourceName, domain: Domain): readonly DomainEntity[Domain][] {
    const held = this.ahead.get(source);
    return held?.domain === domain ? held.items : [];
  }

  /** per domain and source, the keys its last listing (replace, then changes) named: what a changes step changes */
  private readonly listings = emptyListings();

  /** `evidence`: what the timeline says of the entities the step writes */
  private applyStep(source: SourceName, step: StoreStep, reread: string[], evidence: string): void {
    switch (step.op) {
      case 'upsert':
      case 'replace':
      case 'changes': {
        const ahead = step.op === 'replace' && step.ahead ? this.aheadOf(source, step.domain) : [];
        const sent = this.upsertAll(source, ahead.length > 0 ? { ...step, items: [...ahead, ...step.items] } as typeof step : step, step.op !== 'upsert', evidence);
        if (step.op === 'replace') {
          // kept keys are listed without being sent
          for (const key of step.keep ?? []) sent.add(key);
          this.listings[step.domain].set(source, sent);
          this.reconcile(source, step.domain, sent, step.keep ?? [], step.reconciles, reread);
        } else if (step.op === 'changes') {
          this.reconcileChanges(source, step, sent, reread);
        }
        return;
      }
      case 'remove':
        for (const key of step.keys) this.remove(step.domain, key, EVIDENCE[source]);
        return;
      case 'chart_repo_parts':
        this.chartRepo.stage(step.pairs);
        return;
      case 'items_ahead': {
        const held = this.ahead.get(source);
        // a source sends ahead for one step at a time: the first items, or another domain, start over
        if (!step.first && held?.domain === step.domain) for (const item of step.items) held.items.push(item);
        else this.ahead.set(source, { domain: step.domain, items: [...step.items] });
        return;
      }
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

  /** Stores the items of an upsert or a listing; answers their keys. A listing's items are no longer "pushed". */
  private upsertAll(source: SourceName, step: Extract<StoreStep, { items: unknown[] }>, listing: boolean, evidence: string): Set<string> {
    const table = this.tables.of(step.domain);
    const pushed = this.pushed[step.domain];
    const sent = new Set<string>();
    for (const item of step.items as DomainEntity[Domain][]) {
      const key = table.key(item as never);
      sent.add(key);
      // a poll never takes an app back behind a newer pushed event: the market may not have written it yet (it
      // stays pushed until the poll catches up), for 30 s from the event's arrival (awaitsMarket). Held from a poll,
      // the poll wins: the database is the record, even where its event time went back
      if (step.domain === 'app_states' && pushed.has(key) && heldIsNewer(this.tables.apps.rows.get(key)?.value, item as AppFlowState, this.clock().getTime())
        && awaitsMarket(this.eventArrived.get(key), this.clock().getTime())) continue;
      if (listing) { pushed.delete(key); this.eventArrived.delete(key); }
      const said = step.domain === 'app_states' ? polledAppEvidence(item as AppFlowState, evidence) : { evidence };
      this.writer.upsert(step.domain, item, source, said.evidence, said.at);
      if (!listing) pushed.add(key);
    }
    return sent;
  }

  /**
   * After a listing's upserts: what the store holds for `kept` keys (listed, not sent) stands unless it lost them
   * or a pushed step changed them since (those come back in `reread`); then what its owners held and it no longer
   * lists is removed — after every upsert, so a reader never sees the domain emptied mid-pass.
   */
  private reconcile(
    source: SourceName, domain: Domain, listed: ReadonlySet<string>, kept: Iterable<string>,
    reconciles: readonly SourceName[] | undefined, reread: string[],
  ): void {
    const table = this.tables.of(domain);
    const pushed = this.pushed[domain];
    this.lost[domain].clear(source);
    for (const key of kept) if (!table.rows.has(key) || pushed.has(key)) this.rereadKey(domain, source, key, table.rows.has(key), reread);
    this.removeMissing(source, domain, table.missing(new Set<SourceName>([source, ...(reconciles ?? [])]), listed));
  }

  /**
   * A changes step, reconciled as the replace of the listing it changes would be, at the cost of the change:
   * the kept keys the store cannot vouch for are among those it lost since (`lost`) or a pushed step changed
   * (`pushed`), and what its owners hold and it no longer lists is among the keys it removed and the keys of
   * the sources it reconciles (its own keys are all listed: every one came in a listing of it).
   */
  private reconcileChanges(
    source: SourceName, step: Extract<StoreStep, { op: 'changes' }>, sent: ReadonlySet<string>, reread: string[],
  ): void {
    const listed = this.listings[step.domain].get(source)!;
    for (const key of step.removed) listed.delete(key);
    for (const key of sent) listed.add(key);
    const table = this.tables.of(step.domain);
    const pushed = this.pushed[step.domain];
    const lost = [...this.lost[step.domain].get(source)];
    this.lost[step.domain].clear(source);
    for (const key of new Set([...lost, ...pushed])) {
      if (!listed.has(key) || sent.has(key)) continue;
      if (!table.rows.has(key) || pushed.has(key)) this.rereadKey(step.domain, source, key, table.rows.has(key), reread);
    }
    const gone = new Set<string>();
    // a key both removed and sent is an app whose row left and came back under another id (deleted and written
    // again, in one transaction or between two passes): it is there, as sent
    for (const key of step.removed) if (!sent.has(key) && table.rows.get(key)?.owner === source) gone.add(key);
    for (const other of step.reconciles ?? []) for (const key of table.ownedBy(other)) if (!listed.has(key)) gone.add(key);
    this.removeMissing(source, step.domain, gone, step.left);
  }

  /**
   * Keys listed but lost from the store (removed by a pushed step, or never held), per domain and listing
   * source: a changes step asks for them again (AppliedMessage.reread) as the replace of its listing would, on
   * every pass until sent.
   */
  private readonly lost = emptyLost();

  private rereadKey(domain: Domain, source: SourceName, key: string, held: boolean, reread: string[]): void {
    reread.push(key);
    if (!held) this.lost[domain].add(source, key);
  }

  /** `left`: the rows read that say why and when their app left (the `removed` entry then says it). */
  private removeMissing(source: SourceName, domain: Domain, keys: Iterable<string>, left: readonly LeftRow[] = []): void {
    const why = new Map(left.map((l) => [l.key, l]));
    for (const key of keys) {
      if (domain === 'app_states' && recentlyPushed(this.tables.apps.rows.get(key), source, this.clock().getTime())) continue;
      const l = why.get(key);
      this.remove(domain, key, EVIDENCE[source], l?.at, l?.state);
    }
  }

  /** A pushed app state: ignored when older than what is held; keeps what the event does not carry. */
  private applyAppEvent(source: SourceName, ev: AppEvent): void {
    const prev = this.tables.apps.rows.get(ev.key);
    if (isStaleEvent(prev?.value, ev, this.clock().getTime())) {
      this.sources.noteStaleEvent(source);
      return;
    }
    if (ev.app === null) {
      // the state it left in, as a poll of its row would say (`uninstalled at 10:42`)
      this.remove('app_states', ev.key, eventEvidence(ev), ev.at, ev.left);
      return;
    }
    const merged = withTaskOverride(mergeAppEvent(prev?.value, ev.app), this.activeTasksOf(ev.app.user_id, ev.app.app_name));
    // an app the poll knows stays the poll's: its next full listing reconciles it
    const key = this.writer.upsert('app_states', merged, prev?.owner ?? source, eventEvidence(ev), ev.at);
    this.pushed.app_states.add(key);
    this.eventArrived.set(key, this.clock().getTime());
  }

  /** The active tasks the store holds for a user's app (tasks carry no source: they match every source's app). */
  private activeTasksOf(user: string, appName: string): TaskState[] {
    const out: TaskState[] = [];
    for (const k of this.tables.byAppName.tasks.get(appName)) {
      const t = this.tables.tasks.rows.get(k)?.value;
      if (t && t.user_id === user && (t.status === 'pending' || t.status === 'running')) out.push(t);
    }
    return out;
  }

  private remove(domain: Domain, key: string, evidence: string, at?: string, detail?: string): void {
    if (!this.writer.remove(domain, key, evidence, at, detail)) return;
    this.pushed[domain].delete(key);
    if (domain === 'app_states') this.eventArrived.delete(key);
    // a listing that still names it has lost it: its next changes step asks for it again
    for (const [source, listed] of this.listings[domain]) if (listed.has(key)) this.lost[domain].add(source, key);
  }
}
