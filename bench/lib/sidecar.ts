// What a running sidecar says about its sources and versions, for benchmarks that must start measuring only
// once collection has settled.
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import type { SourceStatus } from '../../src/model/source.ts';
import { sleep } from './net.ts';

export const API = BASE_PATHS[0];

/** one source in …/sources (the model's SourceStatus) */
type SourceFreshness = SourceStatus;

/** …/sources: each source's health and freshness (unversioned; moves with every pass). */
async function sourcesOf(base: string): Promise<{ fresh_as_of: string | null; sources: Record<string, SourceFreshness> }> {
  const res = await fetch(`${base}${API}/sources`);
  if (res.status !== 200) throw new Error(`${API}/sources answered ${res.status}`);
  return (await res.json()).data;
}

/** Each source's last pass: collect and apply times, for the figures printed beside the scenarios. */
export async function passTimes(base: string): Promise<Record<string, { collect_ms: number; apply_ms?: number }>> {
  const { sources } = await sourcesOf(base);
  return Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, { collect_ms: v.duration_ms, apply_ms: v.counters?.apply_ms }]));
}

/**
 * Waits until every source has succeeded once and then until /state's ETag has held for `quietMs` (at least
 * one pass of every collector, so the market's first passes are over), at most `timeoutMs`. Returns the
 * versions seen while waiting and whether it settled: a market that never settles is reported, not hidden.
 */
export async function waitSettled(base: string, opts: { quietMs: number; timeoutMs: number }): Promise<{ settled: boolean; ms: number; versions: number }> {
  const start = Date.now();
  const end = start + opts.timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await sourcesOf(base)).fresh_as_of) break;
    } catch { /* not ready yet */ }
    await sleep(250);
  }
  let etag: string | null = null;
  let since = Date.now();
  let versions = 0;
  while (Date.now() < end) {
    const res: Response = await fetch(`${base}${API}/state`, {
      headers: { 'Accept-Encoding': 'identity', ...(etag ? { 'If-None-Match': etag } : {}) },
    });
    await res.arrayBuffer();
    if (res.status === 200) {
      etag = res.headers.get('etag');
      since = Date.now();
      versions += 1;
    }
    if (Date.now() - since >= opts.quietMs) return { settled: true, ms: Date.now() - start, versions };
    await sleep(250);
  }
  return { settled: false, ms: Date.now() - start, versions };
}

/** Waits until every source has succeeded once, then `afterMs` more (a live market never settles). */
export async function waitFresh(base: string, opts: { afterMs: number; timeoutMs: number }): Promise<boolean> {
  const end = Date.now() + opts.timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await sourcesOf(base)).fresh_as_of) {
        await sleep(opts.afterMs);
        return true;
      }
    } catch { /* not ready yet */ }
    await sleep(250);
  }
  return false;
}
