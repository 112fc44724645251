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
}

export interface LoadOptions {
  connections: number;
  warmupS: number;
  durationS: number;
}

function run(url: string, headers: Record<string, string>, connections: number, duration: number) {
  return autocannon({ url, headers, connections, duration, pipelining: 1 });
}

interface Round { requests: number; ok: number; cpuMs: number; bytes: number; errors: number; p50: number; p99: number }

async function round(url: string, pid: number, headers: Record<string, string>, connections: number, seconds: number, expect304: boolean): Promise<Round> {
  const before = cpuMs(pid);
  const r = await run(url, headers, connections, seconds);
  return {
    requests: r.requests.total, ok: expect304 ? r['3xx'] ?? 0 : r['2xx'] ?? 0, cpuMs: cpuMs(pid) - before,
    bytes: r.throughput.total, errors: r.errors + r.timeouts, p50: r.latency.p50, p99: r.latency.p99,
  };
}

function summarize(scenario: string, server: string, bytes: number, seconds: number, rounds: Round[]): LoadResult {
  const total = (k: keyof Round) => rounds.reduce((n, r) => n + r[k], 0);
  const requests = total('requests');
  const p50s = rounds.map((r) => r.p50).sort((a, b) => a - b);
  return {
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
 * run divided by the requests it answered. Non-2xx answers count as errors unless a 304 is expected.
 */
export async function measure(
  scenario: string, server: { name: string; pid: number; base: string }, path: string,
  headers: Record<string, string>, opts: LoadOptions, expect304 = false,
): Promise<LoadResult> {
  const [r] = await measureAlternating(scenario, [server], path, headers, opts, expect304, 1);
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
 * The same scenario against several servers in alternating rounds (a, b, a, b, ...), each round a share of
 * the duration: a ratio between servers then does not depend on which one ran while the machine was busier.
 * p50 is the median of the rounds', p99 the worst round's.
 */
export async function measureAlternating(
  scenario: string, servers: Array<{ name: string; pid: number; base: string }>, path: string,
  headers: Record<string, string>, opts: LoadOptions, expect304 = false, rounds = 3,
): Promise<LoadResult[]> {
  const seconds = Math.max(1, Math.round(opts.durationS / rounds));
  const bytes: number[] = [];
  for (const server of servers) {
    const url = server.base + path;
    // fetch asks for compression unless told otherwise; the load generator sends exactly `headers`
    const probe = await fetch(url, { headers: { 'Accept-Encoding': 'identity', ...headers } });
    const body = new Uint8Array(await probe.arrayBuffer());
    bytes.push(expect304 ? 0 : Number(probe.headers.get('content-length') ?? body.byteLength));
    if (opts.warmupS > 0) await run(url, headers, opts.connections, opts.warmupS);
  }
  const results: Round[][] = servers.map(() => []);
  for (let i = 0; i < rounds; i += 1) {
    for (const [k, server] of servers.entries()) {
      results[k]!.push(await round(server.base + path, server.pid, headers, opts.connections, seconds, expect304));
    }
  }
  return servers.map((s, k) => summarize(scenario, s.name, bytes[k]!, seconds * rounds, results[k]!));
}
