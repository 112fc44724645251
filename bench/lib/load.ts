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
}

export interface LoadOptions {
  connections: number;
  warmupS: number;
  durationS: number;
}

function run(url: string, headers: Record<string, string>, connections: number, duration: number) {
  return autocannon({ url, headers, connections, duration, pipelining: 1 });
}

/**
 * One scenario: a warm-up, then a measured run; the server's CPU time (all its threads) over the measured
 * run divided by the requests it answered. Non-2xx answers count as errors unless a 304 is expected.
 */
export async function measure(
  scenario: string, server: { name: string; pid: number; base: string }, path: string,
  headers: Record<string, string>, opts: LoadOptions, expect304 = false,
): Promise<LoadResult> {
  const url = server.base + path;
  // fetch asks for compression unless told otherwise; the load generator sends exactly `headers`
  const probe = await fetch(url, { headers: { 'Accept-Encoding': 'identity', ...headers } });
  const body = new Uint8Array(await probe.arrayBuffer());
  if (opts.warmupS > 0) await run(url, headers, opts.connections, opts.warmupS);
  const cpuBefore = cpuMs(server.pid);
  const r = await run(url, headers, opts.connections, opts.durationS);
  const cpu = cpuMs(server.pid) - cpuBefore;
  const ok = expect304 ? r['3xx'] ?? 0 : r['2xx'] ?? 0;
  const total = r.requests.total;
  return {
    scenario, server: server.name,
    bytes: expect304 ? 0 : Number(probe.headers.get('content-length') ?? body.byteLength),
    rps: Math.round(total / opts.durationS),
    p50: r.latency.p50, p99: r.latency.p99,
    mbps: Math.round((r.throughput.total / opts.durationS / 1e6) * 10) / 10,
    cpuMsPerReq: total > 0 ? Math.round((cpu / total) * 1000) / 1000 : 0,
    errors: r.errors + r.timeouts + (total - ok),
    requests: total,
  };
}
