import type { Config } from '../config.ts';
import type { CollectorSpec, SourceName } from '../protocol.ts';
import { threadFile } from '../threads.ts';

/** Plain options every real collector gets; each picks what it needs. */
export interface CollectorOptions {
  databaseUrl: string;
  recentTaskLimit: number;
  chartRepoHost: string;
  chartRepoTimeoutMs: number;
  /** CHART_REPO_CONCURRENCY */
  concurrency: number;
  /** CHART_REPO_MAX_RPS */
  maxRequestsPerSecond: number;
  /** the components collector's syncer staleness bound (SYNCER_STALE_AFTER_MS) */
  syncerStalenessMs: number;
  natsUrl?: string;
  natsSubject: string;
}

const MODULES: Record<SourceName, string> = {
  tasks: 'tasks',
  app_flow: 'app-flow',
  components: 'components',
  chart_repo: 'chart-repo',
  nats: 'nats',
};

/** Collectors whose first run only subscribes (CollectorSpec.bulkFirstPass false). */
const SUBSCRIBERS: ReadonlySet<SourceName> = new Set(['nats']);

/**
 * The module file of a collector, from source (.ts under tsx) or built (.js under dist/): found from the
 * collector thread's own file, whose place threadFile() knows wherever this code was bundled.
 */
export function collectorModule(source: SourceName): string {
  const thread = threadFile('collector');
  const ext = thread.href.endsWith('.js') ? '.js' : '.ts';
  return new URL(`../src/collect/collectors/${MODULES[source]}${ext}`, thread).href;
}

/** The real collectors for a configuration: the four pollers, plus NATS events when NATS_URL is set. */
export function realCollectors(config: Config, endpoints: { databaseUrl: string; chartRepoHost: string }): CollectorSpec[] {
  const options: CollectorOptions = {
    databaseUrl: endpoints.databaseUrl,
    recentTaskLimit: config.recentTaskLimit,
    chartRepoHost: endpoints.chartRepoHost,
    chartRepoTimeoutMs: config.chartRepoTimeoutMs,
    concurrency: config.chartRepoConcurrency,
    maxRequestsPerSecond: config.chartRepoMaxRps,
    syncerStalenessMs: config.syncerStaleAfterMs,
    natsUrl: config.natsUrl,
    natsSubject: config.natsSubject,
  };
  const sources: SourceName[] = ['tasks', 'app_flow', 'components', 'chart_repo'];
  if (config.natsUrl) sources.push('nats');
  return sources.map((source) => ({
    source, module: collectorModule(source), options, ...(SUBSCRIBERS.has(source) ? { bulkFirstPass: false } : {}),
  }));
}
