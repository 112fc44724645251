import type { ChartRepoChanges, ChartRepoFrame, ChartRepoPairPart, ChartRepoPairSlot, StateFilter, StoreStep } from '../protocol.ts';
import { pairKey, viewContent } from '../collect/chart-repo-content.ts';
import { emptyChartPending, takeChartChanges, type ChartIndex, type Item } from './chart-repo-items.ts';
import {
  applyIndexPlan, countPairs, IN_PLACE_OPS, filteredRendering, holdPair, narrowedContent, partOfSlot, planReindex, renderedChars, renderPairsInto, samePairs,
  type ChartCounts, type HeldPair, type IndexPlan,
} from './chart-repo-pairs.ts';
import { runNow, type Turns } from './turns.ts';

type ChartPairsStep = Extract<StoreStep, { op: 'chart_repo_pairs' }>;

/** A chart_repo_pairs step worked out (ChartRepoView.prepare), valid while the view's generation stays. */
interface PairsPlan {
  step: ChartPairsStep;
  generation: number;
  next: Map<string, HeldPair>;
  reread: string[];
  pairs: HeldPair[];
  content: string;
  frame: ChartRepoFrame;
  /** how the item index changes (null: the view renders as held, its index stays) */
  index: IndexPlan | null;
}

/** What the store holds of the Chart Repo view: its JSON written when asked, whole or narrowed. */
export interface HeldChartRepo {
  /**
   * writes its JSON as pieces into `out`, when asked (a /state body, a query that keeps the whole view); the
   * whole is not kept: it is the items' JSON concatenated, ~7 MB at 10,000 apps and ~35 MB at 50,000, held
   * already item by item
   */
  renderInto(out: string[]): void;
  /** how long that JSON is, at least (UTF-16 units: the items' JSON without the commas and brackets) */
  chars: number;
  /** the view narrowed by a user / source / app filter (filteredRendering's), its JSON as pieces appended to `out` */
  filteredInto(out: string[], f: StateFilter): void;
  /** the view without its apps and images, as JSON, and the numbers of apps per state and images per status */
  overview(): { frame: string; counts: ChartCounts };
  /** the hydrator's tasks, then its recent failures */
  hydratorItems(): Item[];
  /** the digest of its content key (what a reader sees, without the times) */
  content: string;
  /** the same of the view narrowed by a user / source / app filter (narrowedContent) */
  filteredContent(f: StateFilter): string;
  index: ChartIndex;
}

type HeldView = Omit<HeldChartRepo, 'content' | 'filteredContent' | 'index'>;

/** A view held as its pairs' rendered items (what the collector sends). */
function pairsView(frame: ChartRepoFrame, pairs: readonly HeldPair[]): HeldView {
  const render = (what: Parameters<typeof renderPairsInto>[3]) => {
    const out: string[] = [];
    renderPairsInto(out, frame, pairs, what);
    return out.join('');
  };
  return {
    renderInto: (out) => renderPairsInto(out, frame, pairs),
    chars: renderedChars(pairs),
    filteredInto: (out, f) => renderPairsInto(out, frame, pairs, filteredRendering(f)),
    overview: () => ({ frame: render({ without: ['apps', 'images'] }), counts: countPairs(pairs) }),
    hydratorItems: () => [...pairs.flatMap((p) => p.hydrator?.tasks ?? []), ...pairs.flatMap((p) => p.hydrator?.recent_failed ?? [])],
  };
}

/**
 * Whether the new view says what the held one says, so the held frame stays, times and all (a new collector
 * thread, a full pass after a lost one, sends its own times: the Chart Repo's image_analyzer.last_check and the view's
 * last_update, which tell time passing, not content): the shared blocks say the same when their content digest
 * is the same (the collector leaves the time-passing keys out of it), and the pairs when they render the same.
 */
function sameView(held: { pairs: readonly HeldPair[]; shared: string } | null, step: ChartPairsStep, pairs: readonly HeldPair[]): boolean {
  return held !== null && held.shared === step.shared_content && samePairs(held.pairs, pairs);
}

/** The Chart Repo view the store holds, and its items changed since the last version (the stream sends them one by one). */
export class ChartRepoView {
  held: HeldChartRepo | null = null;
  /** how many times a reader saw the view change (what a copy of it is compared by: held-while-down.ts) */
  changes = 0;
  private readonly pending = emptyChartPending();
  /** each (user, source) pair's own part, in the collector's order, with the digest of its content */
  private pairs = new Map<string, HeldPair>();
  /** parts sent ahead of this pass's chart_repo_pairs step (chart_repo_parts), by pair; unseen by readers */
  private staged = new Map<string, { content: string; part: ChartRepoPairPart }>();
  /** what the held view was rendered from, and the content of its shared blocks */
  private heldPairs: { frame: ChartRepoFrame; pairs: HeldPair[]; shared: string } | null = null;

  /** the plan of the next chart_repo_pairs step, worked out ahead in turns (prepare) */
  private prepared: PairsPlan | null = null;
  /** moves whenever what a plan is worked out from moves (the pairs held, the parts staged) */
  private generation = 0;

  /** `inPlaceOps`: how many item changes the turn that takes a plan makes in place (planReindex; tests set it) */
  constructor(private readonly inPlaceOps = IN_PLACE_OPS) {}

  /**
   * Takes the view as its parts (a chart_repo_pairs step): pairs sent with their part replace what is held,
   * pairs sent without keep what is held, pairs not listed leave. Answers whether a reader sees a change, and
   * the pairs it was told to keep but does not hold with that content (the collector sends them again). Cheap
   * when prepare() worked the step out ahead: then only the plan is taken.
   */
  setPairs(step: ChartPairsStep): { changed: boolean; reread: string[] } {
    const ready = this.prepared;
    this.prepared = null;
    const plan = ready !== null && ready.step === step && ready.generation === this.generation ? ready : runNow(this.plan(step));
    this.generation += 1;
    this.staged = new Map();
    this.pairs = plan.next;
    this.heldPairs = { frame: plan.frame, pairs: plan.pairs, shared: step.shared_content };
    const changed = this.hold(plan);
    return { changed, reread: plan.reread };
  }

  /**
   * Works out the step's plan (the costly part of setPairs: the new pairs and how the item index changes)
   * without changing what readers see, so that it can run in turns before the step is applied.
   */
  *prepare(step: ChartPairsStep): Turns<void> {
    this.prepared = null;
    this.prepared = yield* this.plan(step);
  }

  private *plan(step: ChartPairsStep): Turns<PairsPlan> {
    const generation = this.generation;
    const reread: string[] = [];
    const next: typeof this.pairs = new Map();
    for (const slot of step.pairs) {
      const key = pairKey(slot);
      const held = this.pairs.get(key);
      const ahead = this.staged.get(key);
      const part = slot.part ? partOfSlot(slot, held) : ahead?.content === slot.content ? ahead.part : undefined;
      if (held && held.content === slot.content) {
        // the same content sent again (a new collector thread, a full pass after a lost one): what is held stands,
        // its times included (they say when it last changed; a running app's duration and last_update are not content)
        next.set(key, held);
      } else if (part) {
        next.set(key, holdPair(slot.user, slot.source, slot.content, part));
        yield;
      } else if (held) {
        // (held with other content: kept until the collector sends the part again)
        next.set(key, held);
        reread.push(key);
      } else {
        reread.push(key);
      }
    }
    const pairs = [...next.values()];
    // the digest of what is held (the collector's, when the store holds every part it was told of)
    const content = viewContent(pairs, step.shared_content);
    const same = sameView(this.heldPairs, step, pairs) && this.held !== null;
    const frame = same ? this.heldPairs!.frame : step.frame;
    const index = same ? null : yield* planReindex(this.held?.index ?? null, this.pairs, next, frame, pairs, this.inPlaceOps);
    return { step, generation, next, reread, pairs, content, frame, index };
  }

  /**
   * Keeps parts sent ahead of a pass's chart_repo_pairs step (chart_repo_parts) for that step; what it does not
   * name with the same content is dropped with it.
   */
  stage(slots: readonly ChartRepoPairSlot[]): void {
    this.generation += 1;
    for (const slot of slots) {
      // (taken whole now, against the pairs held: they stay until the step that names the part)
      const part = partOfSlot(slot, this.pairs.get(pairKey(slot)));
      if (part) this.staged.set(pairKey(slot), { content: slot.content, part });
    }
  }

  /**
   * Holds the plan's view. One that renders to the JSON held keeps the content and index it had; otherwise the
   * index changes as planned, what changed added to the pending changes. Answers whether a reader sees a change.
   */
  private hold(plan: PairsPlan): boolean {
    const view = pairsView(plan.frame, plan.pairs);
    if (plan.index === null) {
      this.held = { ...view, content: this.held!.content, filteredContent: this.held!.filteredContent, index: this.held!.index };
      return false;
    }
    const { pairs, step: { shared_content: shared } } = plan;
    const filteredContent = (f: StateFilter) => narrowedContent(pairs, shared, f);
    this.held = { ...view, content: plan.content, filteredContent, index: applyIndexPlan(this.held?.index ?? null, plan.index, this.pending) };
    this.changes += 1;
    return true;
  }

  /**
   * The view held as pairs, as the chart_repo_pairs step that gives it to another store (every pair with its
   * part, the frame with its times), or null when it holds none (held-source.ts).
   */
  heldAsStep(): ChartPairsStep | null {
    const held = this.heldPairs;
    if (held === null) return null;
    const pairs: ChartRepoPairSlot[] = held.pairs.map((p) => ({
      user: p.user, source: p.source, content: p.content,
      part: { apps: p.apps, images: p.images, ...(p.hydrator ? { hydrator: p.hydrator } : {}) },
    }));
    return { op: 'chart_repo_pairs', frame: held.frame, shared_content: held.shared, pairs };
  }

  /** Items changed since the last call, as a version carries them (undefined: none). */
  takeChanges(): ChartRepoChanges | undefined {
    return takeChartChanges(this.pending);
  }
}
