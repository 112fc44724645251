import autocannon from 'autocannon';
import { cpuMs } from './proc.ts';

export interface LoadResult {
  scenario: string;
  server: string;
  bytes: number;
  rps: number;
  p50: number;
  p99: number;
  mbps: number;
  cpuMsPerReq: number;
  errors: number;
  requests: number;
  /** req/s of each round, when measured in alternating rounds */
  roundRps?: number[];
  /** p99 ms of each round */
  roundP99?: number[];
  /** answers that were 304s, in percent (1 decimal): revalidating clients only */
  notModifiedPct?: number;
}

/**
 * What answers count as answered: '2xx'; '304' (a fixed If-None-Match that must keep matching); or
 * 'revalidate': clients that send If-None-Match with the newest ETag any of them got, as pollers with a cache do
 * on a market that moves: 304s, and a 200 each time the version moved (both count; the 304 share is kept).
 */
export type Expect = '2xx' | '304' | 'revalidate';

export interface LoadOptions {
  connections: number;
  warmupS: number;
  durationS: number;
}

/** the newest ETag a revalidating scenario's clients got from one server (shared by its connections) */
interface Revalidation { etag: string }

function run(url: string, headers: Record<string, string>, connections: number, duration: number, revalidation?: Revalidation) {
  if (!revalidation) return autocannon({ url, headers, connections, duration, pipelining: 1 });
  return autocannon({
    url, headers, connections, duration, pipelining: 1,
    requests: [{
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'If-None-Match': revalidation.etag } }),
      onResponse: (status, _body, _context, h) => {
        const etag = h ? Object.entries(h).find(([k]) => k.toLowerCase() === 'etag')?.[1] : undefined;
        if (status === 200 && typeof etag === 'string') revalidation.etag = etag;
      },
    }],
  });
}

interface Round { requests: number; ok: number; notModified: number; cpuMs: number; bytes: number; errors: number; p50: number; p99: number }

async function round(url: string, pid: number, headers: Record<string, string>, connections: number, seconds: number, expect: Expect, revalidation?: Revalidation): Promise<Round> {
  const before = cpuMs(pid);
  const r = await run(url, headers, connections, seconds, revalidation);
  const [ok2xx, ok3xx] = [r['2xx'] ?? 0, r['3xx'] ?? 0];
  return {
    requests: r.requests.total, ok: expect === '304' ? ok3xx : expect === '2xx' ? ok2xx : ok2xx + ok3xx, notModified: ok3xx,
    cpuMs: cpuMs(pid) - before, bytes: r.throughput.total, errors: r.errors + r.timeouts, p50: r.latency.p50, p99: r.latency.p99,
  };
}

function summarize(scenario: string, server: string, bytes: number, seconds: number, rounds: Round[], expect: Expect): LoadResult {
  const total = (k: keyof Round) => rounds.reduce((n, r) => n + r[k], 0);
  const requests = total('requests');
  const p50s = rounds.map((r) => r.p50).sort((a, b) => a - b);
  return {
    ...(expect === 'revalidate' && requests > 0 ? { notModifiedPct: Math.round((total('notModified') / requests) * 1000) / 10 } : {}),
    scenario, server, bytes,
    rps: Math.round(requests / seconds),
    p50: p50s[Math.floor(p50s.length / 2)]!, p99: Math.max(...rounds.map((r) => r.p99)),
    mbps: Math.round((total('bytes') / seconds / 1e6) * 10) / 10,
    cpuMsPerReq: requests > 0 ? Math.round((total('cpuMs') / requests) * 1000) / 1000 : 0,
    errors: total('errors') + (requests - total('ok')),
    requests,
    roundRps: rounds.map((r) => Math.round(r.requests / (seconds / rounds.length))),
    roundP99: rounds.map((r) => r.p99),
  };
}

/**
 * One scenario: a warm-up, then a measured run; the server's CPU time (all its threads) over the measured
 * run divided by the requests it answered. Answers other than those expected (Expect) count as errors.
 */
export async function measure(
  scenario: string, server: { name: string; pid: number; base: string }, path: string,
  headers: Record<string, string>, opts: LoadOptions, expect: Expect = '2xx',
): Promise<LoadResult> {
  const [r] = await measureAlternating(scenario, [server], path, headers, opts, expect, 1);
  return r!;
}

/**
 * The median of xs[i] / ys[i] over rounds run back to back (a noisy neighbour during one round does not decide
 * it), or `whole` when there are no paired rounds; 2 decimals.
 */
function medianRatio(xs: number[] | undefined, ys: number[] | undefined, whole: number): number {
  let r = whole;
  if (xs && ys && xs.length === ys.length && xs.length > 1) {
    const each = xs.map((x, i) => (ys[i]! > 0 ? x / ys[i]! : 0)).sort((x, y) => x - y);
    r = each.length % 2 ? each[(each.length - 1) / 2]! : (each[each.length / 2 - 1]! + each[each.length / 2]!) / 2;
  }
  return Math.round(r * 100) / 100;
}

/**
 * a's req/s over b's: the median of the ratios of rounds run back to back when both were measured in the
 * same alternating rounds, else the plain ratio.
 */
export function rpsRatio(a: LoadResult, b: LoadResult): number {
  return medianRatio(a.roundRps, b.roundRps, b.rps > 0 ? a.rps / b.rps : 0);
}

/** a's p99 over b's, paired by round as rpsRatio (a p99 of 0 ms counts as 1 ms: below the histogram's grain). */
export function p99Ratio(a: LoadResult, b: LoadResult): number {
  const floor = (xs: number[] | undefined) => xs?.map((x) => Math.max(x, 1));
  return medianRatio(floor(a.roundP99), floor(b.roundP99), Math.max(a.p99, 1) / Math.max(b.p99, 1));
}

/**
 * "a's p99 <= k × b's", judged on the p99s printed (each the worst round's) as well as round by round: one slow
 * round of a cannot hide behind the median of the rounds.
 */
export function p99Within(a: LoadResult, b: LoadResult, k: number): { value: string; met: boolean } {
  const worst = Math.round((Math.max(a.p99, 1) / Math.max(b.p99, 1)) * 100) / 100;
  const paired = p99Ratio(a, b);
  return { value: `${worst} (${a.p99} vs ${b.p99} ms; median of rounds ${paired})`, met: worst <= k && paired <= k };
}

/**
 * The same scenario against several servers in alternating rounds (a, b, a, b, ...), each round a share of
 * the duration: a ratio between servers then does not depend on which one ran while the machine was busier.
 * p50 is the median of the rounds', p99 the worst round's.
 */
export async function measureAlternating(
  scenario: string, servers: Array<{ name: string; pid: number; base: string }>, path: string,
  headers: Record<string, string>, opts: LoadOptions, expect: Expect = '2xx', rounds = 3,
): Promise<LoadResult[]> {
  const seconds = Math.max(1, Math.round(opts.durationS / rounds));
  const bytes: number[] = [];
  const revalidations: Array<Revalidation | undefined> = [];
  for (const server of servers) {
    const url = server.base + path;
    // fetch asks for compression unless told otherwise; the load generator sends exactly `headers`
    const probe = await fetch(url, { headers: { 'Accept-Encoding': 'identity', ...headers } });
    const body = new Uint8Array(await probe.arrayBuffer());
    bytes.push(expect !== '2xx' ? 0 : Number(probe.headers.get('content-length') ?? body.byteLength));
    // revalidating clients start from the ETag of the version they were given
    const revalidation = expect === 'revalidate' ? { etag: probe.headers.get('etag') ?? '' } : undefined;
    revalidations.push(revalidation);
    if (opts.warmupS > 0) await run(url, headers, opts.connections, opts.warmupS, revalidation);
  }
  const results: Round[][] = servers.map(() => []);
  for (let i = 0; i < rounds; i += 1) {
    for (const [k, server] of servers.entries()) {
      results[k]!.push(await round(server.base + path, server.pid, headers, opts.connections, seconds, expect, revalidations[k]));
    }
  }
  return servers.map((s, k) => summarize(scenario, s.name, bytes[k]!, seconds * rounds, results[k]!, expect));
}
