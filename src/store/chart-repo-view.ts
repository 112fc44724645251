import type { ChartRepoOrigin, ChartRepoStatus } from '../model/index.ts';
import type { ChartRepoChanges, ChartRepoFrame, StoreStep } from '../protocol.ts';
import { chartRepoContentKey, pairKey, viewContent } from '../collect/chart-repo-content.ts';
import { mergeAnswers, originsOf, type ChartRepoAnswer } from '../collect/chart-repo.ts';
import { digestOf } from '../content-digest.ts';
import { diffChartIndex, emptyChartPending, indexChartRepo, takeChartChanges, type ChartIndex } from './chart-repo-items.ts';
import { holdPair, indexPairs, renderedChars, renderPairsInto, sameRendering, type HeldPair } from './chart-repo-pairs.ts';

export interface HeldChartRepo {
  value: ChartRepoStatus;
  /**
   * writes its JSON as pieces into `out`, when asked (a /state body, a query that keeps the whole view); the
   * whole is not kept: it is the items' JSON concatenated, ~7 MB at 10,000 apps and ~35 MB at 50,000, held
   * already item by item (renderHeld gives it as one string)
   */
  renderInto(out: string[]): void;
  /** how long that JSON is, at least (UTF-16 units: the items' JSON without the commas and brackets) */
  chars: number;
  /** the digest of its content key (what a reader sees, without the times) */
  content: string;
  index: ChartIndex;
  /** which (user, source) answer each item came from (never on the wire: filters read it) */
  origins?: ChartRepoOrigin[];
}

/** The held view's JSON as one string (a query that keeps the whole view; tests). */
export function renderHeld(held: Pick<HeldChartRepo, 'renderInto'>): string {
  const out: string[] = [];
  held.renderInto(out);
  return out.join('');
}

/** The Chart Repo view the store holds, and its items changed since the last version (the stream sends them one by one). */
export class ChartRepoView {
  held: HeldChartRepo | null = null;
  private readonly pending = emptyChartPending();
  /** each (user, source) pair's own part, in the collector's order, with the digest of its content */
  private pairs = new Map<string, HeldPair>();
  /** what the held view was rendered from, when it came as pairs */
  private heldPairs: { frame: ChartRepoFrame; pairs: HeldPair[] } | null = null;

  /**
   * Takes the view as its parts (a chart_repo_pairs step): pairs sent with their part replace what is held,
   * pairs sent without keep what is held, pairs not listed leave. Answers whether a reader sees a change, and
   * the pairs it was told to keep but does not hold with that content (the collector sends them again).
   */
  setPairs(step: Extract<StoreStep, { op: 'chart_repo_pairs' }>): { changed: boolean; reread: string[] } {
    const reread: string[] = [];
    const next: typeof this.pairs = new Map();
    for (const slot of step.pairs) {
      const key = pairKey(slot);
      const held = this.pairs.get(key);
      if (slot.part) {
        next.set(key, holdPair(slot.user, slot.source, slot.content, answerOf(slot.part)));
      } else if (held) {
        // (held with other content: kept until the collector sends the part again)
        next.set(key, held);
        if (held.content !== slot.content) reread.push(key);
      } else {
        reread.push(key);
      }
    }
    this.pairs = next;
    const pairs = [...next.values()];
    const shared = answerOf({ apps: [], images: [] });
    if (step.frame.system) shared.system = step.frame.system;
    if (step.frame.image_analyzer) shared.image_analyzer = step.frame.image_analyzer;
    const value = mergeAnswers([shared, ...pairs.map((p) => p.answer)], step.frame.last_update);
    // the digest of what is held (the collector's, when the store holds every part it was told of)
    const content = viewContent(pairs, step.shared_content);
    const frame = step.frame;
    const same = this.heldPairs !== null && sameRendering(this.heldPairs, { frame, pairs });
    this.heldPairs = { frame, pairs };
    const changed = this.hold(same, {
      value, renderInto: (out) => renderPairsInto(out, frame, pairs),
      chars: renderedChars(pairs), origins: originsOf(pairs),
    }, () => content, () => indexPairs(value, pairs));
    return { changed, reread };
  }

  /** Takes a view whole (fixtures, tests); answers whether a reader sees a change. */
  set(step: Extract<StoreStep, { op: 'chart_repo' }>): boolean {
    const json = JSON.stringify(step.value);
    const same = this.heldPairs === null && this.held !== null && renderHeld(this.held) === json;
    this.heldPairs = null;
    // (the collector sends the digest of its content key; a step without one is digested here)
    return this.hold(same, { value: step.value, renderInto: (out) => out.push(json), chars: json.length, origins: step.origins },
      () => step.content ?? digestOf([chartRepoContentKey(step.value)]), () => indexChartRepo(step.value, step.origins));
  }

  /** `same`: the view renders to the JSON held (where its items came from can still have moved: not on the wire) */
  private hold(same: boolean, next: Omit<HeldChartRepo, 'content' | 'index'>, content: () => string, index: () => ChartIndex): boolean {
    if (same && this.held) {
      this.held.origins = next.origins;
      return false;
    }
    const nextIndex = index();
    diffChartIndex(this.held?.index ?? null, nextIndex, this.pending);
    this.held = { ...next, content: content(), index: nextIndex };
    return true;
  }

  /** Items changed since the last call, as a version carries them (undefined: none). */
  takeChanges(): ChartRepoChanges | undefined {
    return takeChartChanges(this.pending);
  }
}

function answerOf(part: { apps: ChartRepoAnswer['apps']; images: ChartRepoAnswer['images']; hydrator?: ChartRepoAnswer['hydrator'] }): ChartRepoAnswer {
  return {
    apps: part.apps, images: part.images, ...(part.hydrator ? { hydrator: part.hydrator } : {}),
    dropped: 0, unfamiliar_values: 0, bad_times: 0, bad_durations: 0,
  };
}
