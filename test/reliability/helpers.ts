/** Shared by the reliability suites (issue 7): a sidecar with the REAL collectors, and snapshot reading. */
import type { CollectorOptions } from '../../src/supervisor/collectors.ts';
import { collectorModule } from '../../src/supervisor/collectors.ts';
import type { CollectorSpec, SourceName } from '../../src/protocol.ts';
import { expect } from 'vitest';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import type { SourceStatus } from '../../src/model/source.ts';
import { eventually, LIVENESS_MS, startInProcess } from '../helpers/sidecar.ts';

export const API = BASE_PATHS[0];

type Sidecar = Awaited<ReturnType<typeof startInProcess>>;

/**
 * The real collectors on a test database and a fake Chart Repo, started and ready: /readyz 200 and the
 * file's own `ready` check, within `readyMs`.
 */
export async function startRealSidecar(
  databaseUrl: string, chartRepoHost: string, collector: Partial<CollectorOptions>,
  run: { intervalMs: number; deadlineMs: number }, ready: (sc: Sidecar) => Promise<void> = async () => {}, readyMs = LIVENESS_MS,
): Promise<Sidecar> {
  const sc = await startInProcess(realSpecs(databaseUrl, chartRepoHost, collector), run);
  await eventually(async () => {
    expect((await fetch(`${sc.base}/readyz`)).status).toBe(200);
    await ready(sc);
  }, readyMs);
  return sc;
}

/** Stops a file's sidecar first, then what it read from (proxies, the Chart Repo, the database), in that order. */
export async function stopAll(sc: Sidecar | undefined, ...sources: Array<{ close(): unknown } | undefined>): Promise<void> {
  await sc?.sup.stop();
  for (const s of sources) await s?.close();
}

/** The specs realCollectors() builds, for a test database and Chart Repo (NATS too when `extra.natsUrl` is given). */
export function realSpecs(databaseUrl: string, chartRepoHost: string, extra: Partial<CollectorOptions> & Record<string, unknown> = {},
  sources: SourceName[] = ['tasks', 'app_flow', 'components', 'chart_repo', ...(extra.natsUrl ? ['nats' as const] : [])]): CollectorSpec[] {
  const options = {
    databaseUrl, recentTaskLimit: 100, chartRepoHost, chartRepoTimeoutMs: 500, natsSubject: 'os.application.*', ...extra,
  };
  return sources.map((source) => ({ source, module: collectorModule(source), options }));
}

export interface Snapshot {
  version: number;
  timestamp: string;
  app_states: Record<string, { app_name: string; user_id: string; stage: string; [k: string]: unknown }>;
  tasks: Record<string, { task_id: string; status: string; [k: string]: unknown }>;
  components: Record<string, { name: string; healthy: boolean; status: string; message?: string; metrics?: Record<string, unknown>; last_check: string }>;
  chart_repo?: { apps?: Array<{ app_name: string; user_id: string }>; last_update: string; [k: string]: unknown };
  summary: Record<string, number>;
  /** each source's health (content; freshness is at …/sources) */
  sources: Record<string, { ok: boolean; last_error: string | null; warning?: string | null }>;
}

/** one source in …/sources (the model's SourceStatus) */
export type SourceFreshness = SourceStatus;

/** GET …/sources: each source's health and freshness (unversioned). */
export async function sources(base: string): Promise<Record<string, SourceFreshness>> {
  const res = await fetch(`${base}${API}/sources`, { signal: AbortSignal.timeout(LIVENESS_MS) });
  if (res.status !== 200) throw new Error(`/sources answered ${res.status}`);
  const body = (await res.json()) as { success: boolean; data: { sources: Record<string, SourceFreshness> } };
  if (!body.success) throw new Error('/sources: success=false');
  return body.data.sources;
}

/** GET …/state, checked to be a valid success envelope. */
export async function state(base: string, query = ''): Promise<Snapshot> {
  const res = await fetch(`${base}${API}/state${query}`, { signal: AbortSignal.timeout(LIVENESS_MS) });
  if (res.status !== 200) throw new Error(`/state answered ${res.status}`);
  const body = (await res.json()) as { success: boolean; data: Snapshot };
  if (!body.success) throw new Error('/state: success=false');
  return body.data;
}

/** The snapshot with each source's freshness (…/sources) in place of its health: what an operator sees on a page. */
export type View = Omit<Snapshot, 'sources'> & { sources: Record<string, SourceFreshness> };

export async function view(base: string, query = ''): Promise<View> {
  const [snap, fresh] = await Promise.all([state(base, query), sources(base)]);
  return { ...snap, sources: fresh };
}

export { sleep } from '../helpers/liveness.ts';
