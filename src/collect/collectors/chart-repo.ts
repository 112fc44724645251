/**
 * Chart Repo collector: one status request per (user, source) pair found in user_applications,
 * a bounded number at a time, merged into one view. The last good answer of every pair is kept in memory, so
 * a pair whose request fails still shows what it last said; the `chart_repo` component says which failed.
 */
import { createPgSource, type PgSource } from '../../sources/postgres.ts';
import { sha256 } from '../../content-digest.ts';
import {
  bodyContentKey, keepAnswerTimes, pairKey, sharedAnswerText, splitMeasurements, viewContent,
} from '../chart-repo-content.ts';
import { answerKey, type AnswerKey, type SplitAnswer } from '../chart-repo-answer-key.ts';
import type { Collector, CollectContext, CollectResult, CreateCollector } from '../collector.ts';
import { emptyAnswer, normalizeAnswer, type ChartRepoAnswer } from '../chart-repo.ts';
import { chartRepoComponent, PartialFailureHold, type PairFailure } from '../chart-repo-component.ts';
import { PARTS_AHEAD_CHARS, partChars, renderPairChanges, renderPairPart } from '../chart-repo-part.ts';
import { createChartRepoAgent, fetchChartRepoBody, parseChartRepoJson } from '../../sources/chart-repo-client.ts';
import type { Agent } from 'node:http';
import { MIN_INTERVAL_COUNTER, type ChartRepoFrame, type ChartRepoPairSlot, type StoreStep } from '../../protocol.ts';

interface Pair {
  user: string;
  source: string;
}

export interface ChartRepoCollectorOptions {
  /** market PostgreSQL; where the pairs come from */
  databaseUrl?: string;
  /** host[:port], as CHART_REPO_SERVICE_HOST */
  chartRepoHost: string;
  /** per request, body included */
  chartRepoTimeoutMs: number;
  /** requests in flight at once; default 4 (CHART_REPO_CONCURRENCY) */
  concurrency?: number;
  /** passes are spaced so that on average at most this many requests go per second (CHART_REPO_MAX_RPS); default: no bound */
  maxRequestsPerSecond?: number;
  /** fixed pairs instead of querying the database (tests, demo) */
  pairs?: Pair[];
  /** body cap; default 32 MiB (tests use a smaller one) */
  maxBodyBytes?: number;
  /** a pass's parts go to the store ahead each time they add up to this (PARTS_AHEAD_CHARS) */
  partsAheadChars?: number;
}

/** requests in flight at once: the option, or 4 when it is missing or not a count */
const concurrencyOf = (wanted = 4) => (Number.isFinite(wanted) && wanted >= 1 ? Math.floor(wanted) : 4);

interface PairResult {
  pair: Pair;
  answer?: ChartRepoAnswer;
  error?: string;
  bytes: number;
  latency_ms?: number;
  /** what the Chart Repo says about itself in this answer (read from the first pair in order only) */
  shared?: Pick<AnswerKey, 'sharedBlocks' | 'sharedText'>;
}

export const createCollector: CreateCollector = (options: ChartRepoCollectorOptions) => new ChartRepoCollector(options);

class ChartRepoCollector implements Collector {
  private readonly pg: PgSource | null;
  /** this collector's keep-alive connections to the Chart Repo, one per request in flight */
  private readonly agent: Agent;
  private readonly lastGood = new Map<string, ChartRepoAnswer>();
  /** when each pair last answered well: how stale the answer kept in the view is */
  private readonly lastGoodAt = new Map<string, string>();
  private knownPairs: Pair[] | null = null;
  /** the content of the view this store was last sent, and since when the view says what it says */
  private sentView: string | null = null;
  private view: { content: string; since: string } | null = null;
  /**
   * per pair, the content of its own part the store holds (as far as this collector knows) and the answer it was
   * rendered from: a changed answer goes as changes to it
   */
  private readonly sentPairs = new Map<string, { content: string; answer: ChartRepoAnswer }>();
  /** per pair, the digest of its last good answer's text less time-passing members and shared blocks (answerKey) */
  private readonly lastBodyKey = new Map<string, string>();
  /** pairs whose answer was parsed and normalized this pass (the rest said what they said before) */
  private parsedPairs = 0;
  /** the Chart Repo's own blocks (system, image analyzer) as last read, and the digest of their content */
  private shared: { key: string; answer: ChartRepoAnswer } | null = null;
  /** the Chart Repo's uptime and resource usage as last read (counters: measurements, never content) */
  private measurements: Record<string, number> = {};
  /** degraded until a few clean passes in a row (chart-repo-component.ts) */
  private readonly partialFailures = new PartialFailureHold();

  constructor(private readonly opts: ChartRepoCollectorOptions) {
    if (!opts.pairs && !opts.databaseUrl) throw new Error('chart repo collector needs databaseUrl or pairs');
    // the one pool factory of every collector: read-only session, no prepared statements (sources/postgres.ts)
    this.pg = opts.pairs || !opts.databaseUrl ? null : createPgSource({ databaseUrl: opts.databaseUrl, maxConnections: 1 });
    this.agent = createChartRepoAgent(concurrencyOf(opts.concurrency));
  }

  async collect(ctx: CollectContext): Promise<CollectResult> {
    // a new store (or one that lost a pass) holds none of what was sent; a pair it asked for, not that one
    if (ctx.full) { this.sentPairs.clear(); this.sentView = null; }
    for (const key of ctx.reread ?? []) this.sentPairs.delete(key);
    const { pairs, warning: pairsWarning } = await this.listPairs(ctx.signal);
    // the pass time: every converted app's and image's last_update, as Go sets it
    const now = ctx.now().toISOString();
    this.parsedPairs = 0;
    const { results, shared } = await this.queryAll(pairs, ctx.signal, now);
    if (pairs.length === 0) this.shared = null;
    const sharedAnswer = this.readShared(shared, now);

    // pairs no longer listed leave the view; failing pairs contribute their last good answer
    const listed = new Set(pairs.map(pairKey));
    for (const key of this.lastGood.keys()) {
      if (!listed.has(key)) {
        this.lastGood.delete(key); this.lastGoodAt.delete(key); this.lastBodyKey.delete(key); this.sentPairs.delete(key);
      }
    }
    const failures: PairFailure[] = [];
    const answers: { user: string; source: string; answer: ChartRepoAnswer }[] = [];
    let stalePairs = 0;
    let staleSince: string | undefined;
    for (const r of results) {
      const key = pairKey(r.pair);
      if (r.answer) {
        this.lastGood.set(key, r.answer);
        this.lastGoodAt.set(key, now);
      } else {
        failures.push({ ...r.pair, error: r.error ?? 'unknown error' });
        const at = this.lastGoodAt.get(key);
        if (at !== undefined) {
          stalePairs += 1;
          if (staleSince === undefined || at < staleSince) staleSince = at;
        }
      }
      const answer = this.lastGood.get(key);
      if (answer) answers.push({ ...r.pair, answer });
    }
    if (pairs.length > 0 && answers.length === 0) {
      // the host it asked: CHART_REPO_SERVICE_HOST left at its default (localhost:82) is the usual reason
      throw new Error(`chart repo: every request to ${this.opts.chartRepoHost} failed, nothing known yet: ${failures[0]?.error ?? ''}`);
    }

    const sum = (k: 'dropped' | 'unfamiliar_values' | 'bad_times' | 'bad_durations' | 'clipped_values') =>
      results.reduce((n, r) => n + (r.answer?.[k] ?? 0), sharedAnswer?.[k] ?? 0);
    const dropped = sum('dropped');
    const latencies = results.flatMap((r) => (r.latency_ms === undefined ? [] : [r.latency_ms]));
    // the versioned component counts what the view leaves out, failing pairs' kept answers included: counted over
    // this pass's answers alone it would move with which pairs fail, and mint a version each time
    const droppedInView = answers.reduce((n, a) => n + (a.answer.dropped ?? 0), sharedAnswer?.dropped ?? 0);
    const component = this.partialFailures.settle(chartRepoComponent({ pairs: pairs.length, failures, dropped: droppedInView, now }));
    // the view keeps failing pairs' last good answers: say how old the oldest of them is
    // (stale_since, not an age, in the component: an age would mint a version every pass; stale_ms is a counter.
    // Only once every request fails: while some do, which are stale moves from pass to pass, as their counts do)
    const staleMs = staleSince === undefined ? 0 : Math.max(0, Date.parse(now) - Date.parse(staleSince));
    if (staleSince !== undefined && component.status === 'error') {
      component.metrics = { ...component.metrics, stale_pairs: stalePairs, stale_since: staleSince };
    }
    const warnings = [pairsWarning, component.status !== 'running' ? component.message : undefined].filter(Boolean);
    // every request failed: the whole view is stale, so the run counts as failed (its steps still apply:
    // the component's error and the kept view); last_success keeps the time of the last good answer
    const allFailed = pairs.length > 0 && failures.length === pairs.length;
    // what the view says: each kept answer's content, in pair order, and the Chart Repo's own blocks
    const content = viewContent(answers.map((a) => ({ ...a, content: this.lastBodyKey.get(pairKey(a)) ?? '' })), this.shared?.key ?? '');
    const steps: StoreStep[] = [];
    if (content !== this.view?.content) this.view = { content, since: now };
    const send = ctx.full || content !== this.sentView || (ctx.reread?.length ?? 0) > 0;
    // past the deadline the view is neither rendered nor sent: a run must answer within its grace or its thread is
    // replaced, and all it fetched is lost with it. Kept here (lastGood, lastBodyKey), it goes with the next pass,
    // which asks again but parses only what moved: a pass too long for its deadline (a full one on a busy machine)
    // still makes progress instead of starting over in a new thread each time. The run fails, so a full pass (a new
    // store's) is not taken as delivered, and the next one sends the view whatever it finds (a reread included)
    const undelivered = send && ctx.signal.aborted;
    if (undelivered) {
      this.sentView = null;
    } else if (send) {
      const pairs = await this.slots(answers, ctx);
      steps.push({ op: 'chart_repo_pairs', frame: this.frame(sharedAnswer), shared_content: this.shared?.key ?? '', pairs });
      this.sentView = content;
    }
    steps.push({ op: 'upsert', domain: 'components', items: [component] });
    const unchangedPairs = results.length - this.parsedPairs - failures.length;
    return {
      steps,
      counters: {
        pairs: pairs.length, failed_pairs: failures.length, unchanged_pairs: unchangedPairs, dropped_items: dropped,
        unfamiliar_values: sum('unfamiliar_values'), bad_times: sum('bad_times'), bad_durations: sum('bad_durations'),
        clipped_values: sum('clipped_values'),
        bytes: results.reduce((n, r) => n + r.bytes, 0),
        stale_pairs: stalePairs, stale_ms: staleMs,
        ...(latencies.length > 0 ? { latency_ms: Math.round(Math.max(...latencies)) } : {}),
        ...this.measurements,
        ...this.rateBound(pairs.length),
      },
      ...(warnings.length > 0 ? { warning: warnings.join('; ') } : {}),
      // which pairs failed: the log names them (the warning names only the causes: see chartRepoComponent); the
      // collector runtime keeps the first WARNING_DETAIL_MAX
      ...(failures.length > 0 && !allFailed ? { warningDetail: failures.map((f) => `${f.user}/${f.source}: ${f.error}`) } : {}),
      ...(allFailed ? { failed: component.message ?? 'every chart repo request failed' } : {}),
      ...(undelivered ? { failed: 'run deadline passed: the view goes to the store with the next pass' } : {}),
      // most answers parsed (the first pass, a wave of changes): as much garbage as a full read. Not a quarter: a
      // 10,000-app market's ordinary 30 s pass parses ~28 % (each answer holds ~11 apps), and a forced collection
      // after each cost the store's thread 0.004 core of its 0.019 (four 2-minute windows, same market)
      ...(this.parsedPairs > 0 && this.parsedPairs >= pairs.length / 2 ? { bulk: true } : {}),
    };
  }

  /** One request per pair a pass: at most `maxRequestsPerSecond` on average means passes this far apart. */
  private rateBound(requests: number): Record<string, number> {
    const rps = this.opts.maxRequestsPerSecond;
    if (rps === undefined || !(rps > 0) || requests === 0) return {};
    return { [MIN_INTERVAL_COUNTER]: Math.ceil((requests / rps) * 1000) };
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.pg?.close();
  }

  /**
   * The Chart Repo's own blocks (its measurements already out: readShared); last_update says since when the view
   * says what it says.
   */
  private frame(shared: ChartRepoAnswer | undefined): ChartRepoFrame {
    const frame: ChartRepoFrame = { last_update: this.view!.since };
    if (shared?.system) frame.system = shared.system;
    if (shared?.image_analyzer) frame.image_analyzer = shared.image_analyzer;
    return frame;
  }

  /**
   * Every pair's slot, its part rendered when the store lacks it. Parts go to the store ahead (ctx.sendAhead)
   * each time they add up to PARTS_AHEAD_CHARS, and the pass names them by content: a first pass (~85 MB of
   * JSON at 50,000 apps) is never rendered whole, nor sent in one message. What is left goes in the pass.
   */
  private async slots(answers: { user: string; source: string; answer: ChartRepoAnswer }[], ctx: CollectContext): Promise<ChartRepoPairSlot[]> {
    const max = this.opts.partsAheadChars ?? PARTS_AHEAD_CHARS;
    const slots: ChartRepoPairSlot[] = [];
    let chunk: ChartRepoPairSlot[] = [];
    let chars = 0;
    for (const a of answers) {
      const slot = this.slot(a);
      slots.push(slot);
      if (!slot.part || !ctx.sendAhead) continue;
      chunk.push(slot);
      chars += partChars(slot.part);
      if (chars < max) continue;
      await ctx.sendAhead({ op: 'chart_repo_parts', pairs: chunk.map((s) => ({ ...s })) });
      for (const s of chunk) { delete s.part; delete s.base; }
      chunk = [];
      chars = 0;
    }
    return slots;
  }

  /**
   * A pair as the store gets it: its own part only when the store does not hold that content yet, and then as
   * changes to the part it holds when it holds one (renderPairChanges).
   */
  private slot(a: { user: string; source: string; answer: ChartRepoAnswer }): ChartRepoPairSlot {
    const key = pairKey(a);
    const content = this.lastBodyKey.get(key) ?? '';
    const slot: ChartRepoPairSlot = { user: a.user, source: a.source, content };
    const held = this.sentPairs.get(key);
    if (held?.content === content) return slot;
    this.sentPairs.set(key, { content, answer: a.answer });
    if (held) {
      slot.part = renderPairChanges(a.answer, held.answer);
      slot.base = held.content;
    } else {
      slot.part = renderPairPart(a.answer);
    }
    return slot;
  }

  /** Pairs from the database; when that fails, the last known ones (with a warning). */
  private async listPairs(signal: AbortSignal): Promise<{ pairs: Pair[]; warning?: string }> {
    if (this.opts.pairs) return { pairs: this.opts.pairs };
    try {
      this.knownPairs = await queryPairs(this.pg!, signal);
      return { pairs: this.knownPairs };
    } catch (e) {
      const msg = `listing pairs failed: ${e instanceof Error ? e.message : String(e)}`;
      if (this.knownPairs === null) throw new Error(`chart repo: ${msg}`);
      return { pairs: this.knownPairs, warning: `${msg} (using the last known pairs)` };
    }
  }

  /**
   * One request per pair, at most `concurrency` in flight; stops starting new ones once the run is aborted.
   * The Chart Repo's own blocks come from the first pair in order whose answer holds each (as Go keeps the first).
   */
  private async queryAll(pairs: Pair[], signal: AbortSignal, now: string): Promise<{ results: PairResult[]; shared?: SplitAnswer['shared'] }> {
    const results: PairResult[] = new Array(pairs.length);
    let next = 0;
    // each block from the first pair whose answer holds it (an answer without one does not hide another's)
    const from = { system: Infinity, image_analyzer: Infinity };
    const shared: SplitAnswer['shared'] = {};
    let answered = false;
    const worker = async () => {
      while (next < pairs.length) {
        const i = next++;
        const r = signal.aborted
          ? { pair: pairs[i], error: 'run deadline passed', bytes: 0 }
          : await this.queryOne(pairs[i], signal, now);
        if (r.shared) {
          answered = true;
          // (decoded only when it comes first so far: the rest are never read)
          for (const block of r.shared.sharedBlocks) {
            if (i < from[block]) { from[block] = i; shared[block] = r.shared.sharedText(block); }
          }
          delete r.shared;
        }
        results[i] = r;
      }
    };
    const width = Math.min(concurrencyOf(this.opts.concurrency), pairs.length);
    await Promise.all(Array.from({ length: width }, worker));
    return { results, ...(answered ? { shared } : {}) };
  }

  /**
   * The Chart Repo's own blocks, normalized when their content (less time-passing values) moved; the last
   * ones read when no pair answered this pass, none when the answers hold none (as Go would show).
   * Blocks that do not parse are counted and the last ones kept.
   */
  private readShared(shared: SplitAnswer['shared'] | undefined, now: string): ChartRepoAnswer | undefined {
    if (!shared) return this.shared?.answer;
    if (shared.system === undefined && shared.image_analyzer === undefined) {
      this.shared = null;
      this.measurements = {};
      return undefined;
    }
    const { system, counters, dropped } = splitMeasurements(shared.system);
    this.measurements = counters;
    const answer = this.normalizeShared(sharedAnswerText({ ...shared, system }), now);
    // (members nested past the bound, left out by splitMeasurements, count with the blocks' own misfits)
    return dropped > 0 ? { ...answer, dropped: answer.dropped + dropped } : answer;
  }

  /** The shared blocks' text (sharedAnswerText) normalized, or the last ones read when it is the same content. */
  private normalizeShared(text: string, now: string): ChartRepoAnswer {
    try {
      const key = sha256(bodyContentKey(text), 'base64');
      if (this.shared?.key === key) return this.shared.answer;
      const n = normalizeAnswer(JSON.parse(text), now);
      if (n.ok) {
        this.shared = { key, answer: n.answer };
        return n.answer;
      }
    } catch {
      // not JSON, or hostile past what keying it can take: bad like blocks that do not fit, never the whole pass
    }
    // (the pair's own part parsed; only its copy of the shared blocks is bad): counted, the last ones kept (none
    // before the first good ones: still counted)
    const kept = this.shared?.answer ?? emptyAnswer();
    return { ...kept, dropped: kept.dropped + 1 };
  }

  private async queryOne(pair: Pair, signal: AbortSignal, now: string): Promise<PairResult> {
    try {
      const res = await fetchChartRepoBody({
        host: this.opts.chartRepoHost, user: pair.user, source: pair.source,
        timeoutMs: this.opts.chartRepoTimeoutMs, signal, agent: this.agent,
        ...(this.opts.maxBodyBytes !== undefined ? { maxBodyBytes: this.opts.maxBodyBytes } : {}),
      });
      // the pair's own part as in its last good answer: that answer again, no decoding, no parse, no normalizing
      const key = pairKey(pair);
      const { key: bodyKey, sharedBlocks, sharedText, pair: pairText } = answerKey(res.body);
      const before = this.lastGood.get(key);
      const read = { pair, bytes: res.bytes, latency_ms: res.latency_ms, shared: { sharedBlocks, sharedText } };
      if (before && this.lastBodyKey.get(key) === bodyKey) return { ...read, answer: before };
      this.parsedPairs += 1;
      const n = normalizeAnswer(parseChartRepoJson(pairText()), now, pair);
      if (!n.ok) return { pair, error: n.error, bytes: res.bytes };
      this.lastBodyKey.set(key, bodyKey);
      return { ...read, answer: keepAnswerTimes(before, n.answer) };
    } catch (e) {
      return { pair, error: e instanceof Error ? e.message : String(e), bytes: 0 };
    }
  }
}

/** DISTINCT pairs in a stable order, so "the first system block" is the same pair every pass. */
async function queryPairs(pg: PgSource, signal: AbortSignal): Promise<Pair[]> {
  const [rows] = await pg.read(signal, ['SELECT DISTINCT user_id, source_id FROM user_applications ORDER BY user_id, source_id']);
  return rows.map((r) => ({ user: String(r.user_id), source: String(r.source_id) }));
}
