import { describe, expect, it } from 'vitest';
import { createRuntimeApp, type AsyncQueries, type CurrentVersion } from '../../src/http/app.ts';
import type { SourceMetricsSample, StoreMetricsSample } from '../../src/protocol.ts';
import { parseProm, sum, value } from '../helpers/prom.ts';
import { storeSample } from '../helpers/store-sample.ts';

const body = new TextEncoder().encode('{"success":true,"message":"ok","data":{}}');
const current: CurrentVersion = { epoch: 'e1', version: 3, content: 'c3', ready: true, body, sizeHint: body.byteLength, etag: 'W/"c3"' };
const STORE_SAMPLE = storeSample({ version: 42, threads: { store: { heap_used: 1, heap_total: 2, heap_limit: 5, external: 3, busy_s: 4 } } });

function appWith(storeMetrics: () => Promise<StoreMetricsSample>) {
  const queries = {
    task: async (id: string) => ({ version: 3, content: 'c3', json: id === 't1' ? '{"task_id":"t1"}' : null }),
    metrics: storeMetrics,
  } as unknown as AsyncQueries;
  return createRuntimeApp({ current: () => current, queries: () => queries, storeAlive: async () => true });
}

describe('/metrics of the HTTP thread', () => {
  it('is Prometheus text: the store thread\'s metrics, then the HTTP thread\'s, no name twice', async () => {
    const app = appWith(async () => STORE_SAMPLE);
    await app.request('/api/v2/runtime/state');
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const e = parseProm(await res.text()); // throws on a duplicate HELP/TYPE
    expect(value(e, 'market_runtime_store_version')).toBe(42);
    // the store's numbers, rendered in this thread with this thread's memory among the threads'
    expect(e.samples.filter((s) => s.name === 'market_runtime_thread_heap_bytes').map((s) => s.labels.thread).sort()).toEqual(['http', 'store']);
    expect(value(e, 'market_runtime_http_store_metrics_ok')).toBe(1);
    expect(e.types.get('market_runtime_http_requests_total')).toBe('counter');
    expect(e.types.get('market_runtime_http_request_duration_seconds')).toBe('histogram');
    expect(value(e, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
  });

  it('labels requests by route pattern and status, never by raw path', async () => {
    const app = appWith(async () => STORE_SAMPLE);
    for (const id of ['t1', 'a', 'b', 'c']) await app.request(`/api/v2/runtime/tasks/${id}`);
    await app.request('/app-store/api/v2/runtime/tasks/t1');
    for (let i = 0; i < 3; i += 1) await app.request(`/random/${i}`);
    await app.request('/api/v2/runtime/state', { method: 'POST' });
    const e = parseProm(await (await app.request('/metrics')).text());
    const req = 'market_runtime_http_requests_total';
    expect(value(e, req, { route: '/api/v2/runtime/tasks/:task_id', status: '200', method: 'GET' })).toBe(1);
    expect(value(e, req, { route: '/api/v2/runtime/tasks/:task_id', status: '404' })).toBe(3);
    expect(value(e, req, { route: '/app-store/api/v2/runtime/tasks/:task_id', status: '200' })).toBe(1);
    expect(value(e, req, { route: 'unmatched', status: '404' })).toBe(3);
    expect(value(e, req, { route: 'unmatched', status: '405', method: 'POST' })).toBe(1);
    expect(e.samples.some((s) => /random|\/t1|\/a$/.test(s.labels.route ?? ''))).toBe(false);
    expect(sum(e, 'market_runtime_http_request_duration_seconds_count', { route: '/api/v2/runtime/tasks/:task_id' })).toBe(4);
  });

  it('still answers with the HTTP metrics when the store does not', async () => {
    const app = appWith(async () => { throw new Error('store gone'); });
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    const e = parseProm(await res.text());
    expect(value(e, 'market_runtime_http_store_metrics_ok')).toBe(0);
    expect(value(e, 'market_runtime_store_version')).toBeUndefined();
  });

  it('keeps the last ready store\'s view gauges while a restarted store rebuilds or does not answer, so alerts do not reset', async () => {
    let next: () => Promise<StoreMetricsSample> = async () => storeSample({ version: 9, stuck_apps: 13, stuck_tasks: 6, apps_by_stage: { installing: 13 } });
    const app = appWith(() => next());
    const scrape = async () => parseProm(await (await app.request('/metrics')).text());
    expect(value(await scrape(), 'market_runtime_stuck_apps')).toBe(13);

    // the store died: no answer, yet the view's gauges stay (the store's own figures go)
    next = async () => { throw new Error('store gone'); };
    let e = await scrape();
    expect(value(e, 'market_runtime_http_store_metrics_ok')).toBe(0);
    expect(value(e, 'market_runtime_stuck_apps')).toBe(13);
    expect(value(e, 'market_runtime_store_ready')).toBe(0);
    expect(value(e, 'market_runtime_thread_heap_bytes', { thread: 'store' })).toBeUndefined();

    // a new store that only the tasks collector reached yet: its counts are not the view's
    next = async () => storeSample({ version: 1, ready: 0, stuck_apps: 0, stuck_tasks: 6, sources: { tasks: { passes: { ok: 1, error: 0 }, failures: 0, last_success_s: 1, consecutive_failures: 0, up: 1, slow: 0, duration: {} } } });
    e = await scrape();
    expect(value(e, 'market_runtime_http_store_metrics_ok')).toBe(1);
    expect(value(e, 'market_runtime_stuck_apps')).toBe(13);
    expect(value(e, 'market_runtime_apps_by_stage', { stage: 'installing' })).toBe(13);
    expect(value(e, 'market_runtime_source_up', { source: 'tasks' })).toBe(1);
    expect(value(e, 'market_runtime_store_ready')).toBe(0);

    // ready again: its own counts
    next = async () => storeSample({ version: 12, stuck_apps: 12 });
    expect(value(await scrape(), 'market_runtime_stuck_apps')).toBe(12);
  });

  it('keeps each source\'s figures while no store answers (dead, or hung until the watchdog replaces it), so the source alerts do not reset', async () => {
    const down: SourceMetricsSample = { passes: { ok: 3, error: 40 }, failures: 40, last_success_s: 1_700_000_000, consecutive_failures: 40, up: 0, slow: 0, duration: {}, interval_s: 5 };
    let next: () => Promise<StoreMetricsSample> = async () => storeSample({ version: 9, sources: { app_flow: down } });
    const app = appWith(() => next());
    const scrape = async () => parseProm(await (await app.request('/metrics')).text());
    expect(value(await scrape(), 'market_runtime_source_up', { source: 'app_flow' })).toBe(0);

    // the store hangs: every scrape meanwhile still says the source is down, since when, and its interval
    next = async () => { throw new Error('store.metrics: no answer within 5000 ms'); };
    for (let i = 0; i < 3; i += 1) {
      const e = await scrape();
      expect(value(e, 'market_runtime_http_store_metrics_ok')).toBe(0);
      expect(value(e, 'market_runtime_source_up', { source: 'app_flow' })).toBe(0);
      expect(value(e, 'market_runtime_collection_last_success_timestamp_seconds', { source: 'app_flow' })).toBe(1_700_000_000);
      expect(value(e, 'market_runtime_collect_interval_seconds', { source: 'app_flow' })).toBe(5);
      expect(value(e, 'market_runtime_collection_consecutive_failures', { source: 'app_flow' })).toBe(40);
    }

    // a new store answers: its figures (it starts from the supervisor's record)
    next = async () => storeSample({ version: 1, ready: 0, sources: { app_flow: { ...down, up: 1, consecutive_failures: 0 } } });
    expect(value(await scrape(), 'market_runtime_source_up', { source: 'app_flow' })).toBe(1);
  });

  it('shows a first store\'s counts as they are before it was ever ready', async () => {
    const app = appWith(async () => storeSample({ ready: 0, stuck_apps: 2 }));
    const e = parseProm(await (await app.request('/metrics')).text());
    expect(value(e, 'market_runtime_stuck_apps')).toBe(2);
    expect(value(e, 'market_runtime_store_ready')).toBe(0);
  });
});
