/** The `chart_repo` component: how a Chart Repo pass went, as the snapshot's components carry it. Pure. */
import type { ComponentStatus } from '../model/index.ts';

export interface PairFailure {
  user: string;
  source: string;
  error: string;
}

export interface ChartRepoPass {
  pairs: number;
  failures: readonly PairFailure[];
  dropped: number;
  now: string;
}

const MESSAGE_MAX = 1024;

/**
 * The `chart_repo` component: running when every pair answered, degraded (still healthy: most of the view is
 * fresh) when only some failed, error when none did. While only some fail it names the causes, not how many
 * pairs or which: a Chart Repo failing at random fails other pairs each pass, and each such text would mint a
 * version (the counts are freshness: `failed_pairs`, `stale_pairs`, `stale_ms` in …/sources).
 */
export function chartRepoComponent(p: ChartRepoPass): ComponentStatus {
  const failed = p.failures.length;
  const allFailed = p.pairs > 0 && failed >= p.pairs;
  // (the latency is freshness: it travels in the source's counters, not in this versioned component)
  const metrics: Record<string, number> = { pairs: p.pairs, dropped_items: p.dropped };
  const c: ComponentStatus = {
    name: 'chart_repo',
    healthy: !allFailed,
    status: allFailed ? 'error' : failed > 0 ? 'degraded' : 'running',
    metrics,
    last_check: p.now,
  };
  if (allFailed) c.message = failureMessage(p.failures, p.pairs);
  else if (failed > 0) c.message = partialFailureMessage(p.failures);
  else if (p.dropped > 0) c.message = `${p.dropped} invalid items or fields left out`;
  return c;
}

/** Clean passes in a row after some pairs failed before the component reads `running` again. */
const CLEAN_PASSES_TO_RECOVER = 3;

/**
 * The component over passes: once some pairs failed it stays `degraded`, with the causes it named, until
 * CLEAN_PASSES_TO_RECOVER passes in a row had no failure. A Chart Repo failing now and then has passes where by
 * chance every request succeeds; flipping to `running` and back on each would mint two versions.
 */
export class PartialFailureHold {
  private held: { message: string; clean: number } | null = null;

  settle(c: ComponentStatus): ComponentStatus {
    if (c.status === 'degraded') {
      this.held = { message: c.message ?? '', clean: 0 };
      return c;
    }
    // every request failed (an error of its own), or nothing to hold
    if (c.status !== 'running' || this.held === null) {
      this.held = null;
      return c;
    }
    this.held.clean += 1;
    if (this.held.clean >= CLEAN_PASSES_TO_RECOVER) {
      this.held = null;
      return c;
    }
    return { ...c, status: 'degraded', message: this.held.message };
  }
}

/** "some requests failed: HTTP 500; timeout after 5000 ms": the causes, most frequent first, bounded. */
function partialFailureMessage(failures: readonly PairFailure[]): string {
  return bounded(`some requests failed: ${byCause(failures).map(([error]) => error).join('; ')}`);
}

/**
 * "2/5 requests failed: alice/market: timeout after 5000 ms; …", cut to a bounded length. Pairs failing alike are
 * named once, most first — "961/961 requests failed: connection refused (961 pairs: alice/local, bob/local, …)" —
 * rather than a line of pairs an operator cannot read the cause through.
 */
function failureMessage(failures: readonly PairFailure[], pairs: number): string {
  const parts = byCause(failures).map(([error, who]) => (who.length === 1
    ? `${who[0]}: ${error}`
    : `${error} (${who.length} pairs: ${who.slice(0, 3).join(', ')}${who.length > 3 ? ', …' : ''})`));
  return bounded(`${failures.length}/${pairs} requests failed: ${parts.join('; ')}`);
}

/**
 * Each cause with the pairs (`user/source`, in pair order) it failed, the commonest first; ties in the causes'
 * text order, so the same causes read the same whichever pairs failed.
 */
function byCause(failures: readonly PairFailure[]): Array<[error: string, who: string[]]> {
  const causes = new Map<string, string[]>();
  for (const f of failures) {
    const who = causes.get(f.error);
    if (who) who.push(`${f.user}/${f.source}`);
    else causes.set(f.error, [`${f.user}/${f.source}`]);
  }
  return [...causes].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
}

const bounded = (text: string): string => (text.length <= MESSAGE_MAX ? text : `${text.slice(0, MESSAGE_MAX - 3)}...`);
