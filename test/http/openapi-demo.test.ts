import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_PATHS } from '../../src/http/base-paths.ts';
import type { RuntimeSnapshot } from '../../src/model/index.ts';
import { startDemoSidecar, type Sidecar } from '../helpers/demo-sidecar.ts';
import { contractChecker } from '../helpers/openapi-contract.ts';
import { eventually, LIVENESS_MS, untilReady } from '../helpers/sidecar.ts';
import { openStream } from '../helpers/sse.ts';

/**
 * The contract on the whole sidecar running the embedded demo market (real collectors on PGlite, the simulated
 * Chart Repo, a workload moving apps and tasks): what real collectors produce validates against openapi.json.
 */
describe('contract on the demo market', () => {
  let sidecar: Sidecar;
  let root = '';
  let contract: Awaited<ReturnType<typeof contractChecker>>;

  beforeAll(async () => {
    contract = await contractChecker();
    ({ sidecar, root } = await startDemoSidecar());
    await untilReady(root, 3 * LIVENESS_MS);
  }, 150_000);

  afterAll(async () => {
    await sidecar?.stop();
  });

  it('every data route answers a body that validates against the document', { timeout: 4 * LIVENESS_MS }, async () => {
    for (const base of BASE_PATHS) {
      const get = async (path: string) => contract.check('GET', base + path, await fetch(root + base + path), 200);
      // the demo's workload installs and uninstalls apps as it goes: an app or task read from /state may be gone
      // a moment later, so the lookups of one app and one task are asked again of a fresh /state until they answer
      await eventually(async () => {
        const state = (await get('/state')) as { data: RuntimeSnapshot };
        expect(Object.keys(state.data.app_states).length).toBeGreaterThan(0);
        expect(state.data.chart_repo, 'the demo has a Chart Repo').toBeDefined();
        const app = Object.values(state.data.app_states)[0]!;
        const task = Object.values(state.data.tasks)[0]!;
        expect(task, 'the demo has tasks').toBeDefined();
        const appPath = `/apps/${encodeURIComponent(app.user_id)}/${encodeURIComponent(app.source_id)}/${encodeURIComponent(app.app_name)}`;
        for (const path of [
          `/state?user_id=${encodeURIComponent(app.user_id)}`, '/state?stuck=true', '/state?task_status=running', '/sources',
          appPath, `${appPath}/history`, `/tasks/${encodeURIComponent(task.task_id)}`, `/tasks/${encodeURIComponent(task.task_id)}/history`,
          `/tasks?app_name=${encodeURIComponent(task.app_name)}`, `/users/${encodeURIComponent(app.user_id)}/apps`,
          `/users/${encodeURIComponent(app.user_id)}/tasks`, '/openapi.json', '/apps?limit=5',
        ]) await get(path);
      }, LIVENESS_MS, 100);
      // the dashboards' own reads: a page of apps, the overview beside it, a page with its Chart Repo items
      const page = (await get('/apps')) as { data: { items: unknown[]; total: number; chart_repo?: unknown } };
      expect(page.data.items.length, 'the demo has apps on the first page').toBeGreaterThan(0);
      expect(page.data.chart_repo, 'no Chart Repo items unless asked').toBeUndefined();
      const overview = (await get('/overview')) as { data: { chart_repo_counts: { apps: object } } };
      expect(Object.keys(overview.data.chart_repo_counts.apps).length, 'the demo\'s Chart Repo apps are counted').toBeGreaterThan(0);
      const withChart = (await get('/apps?include=chart_repo')) as { data: { chart_repo?: { apps: unknown[] } } };
      expect(withChart.data.chart_repo, 'include=chart_repo adds the page\'s Chart Repo items').toBeDefined();
    }
    for (const p of ['/healthz', '/readyz']) await contract.check('GET', p, await fetch(root + p), 200);
  });

  it('the change stream on a moving market: snapshot, change and freshness events validate', { timeout: 60_000 }, async () => {
    const stream = await openStream(`${root}/api/v2/runtime/events?timeline=true`);
    try {
      await contract.check('GET', '/api/v2/runtime/events', stream.res, 200);
      await stream.next((e) => e.event === 'snapshot', 20_000);
      await stream.next((e) => e.event === 'freshness', 20_000);
      await stream.next((e) => e.event === 'change', 45_000);
    } finally {
      await stream.close();
    }
    for (const e of stream.events) contract.checkEvent(e);
  });

  it('the summary stream (?view=summary) on a moving market: its snapshot and change events validate', { timeout: 60_000 }, async () => {
    for (const base of BASE_PATHS) {
      const stream = await openStream(`${root}${base}/events?view=summary`);
      try {
        await contract.check('GET', `${base}/events`, stream.res, 200);
        const first = await stream.next((e) => e.event === 'snapshot', 20_000);
        expect(Object.keys(JSON.parse(first.data)).sort(), 'a version without its state').toEqual(['summary', 'timestamp', 'version']);
        await stream.next((e) => e.event === 'change', 45_000);
      } finally {
        await stream.close();
      }
      for (const e of stream.events) contract.checkEvent(e);
    }
  });
});
