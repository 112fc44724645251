import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppFlowState } from '../../src/model/index.ts';
import { createLogger } from '../../src/log.ts';
import { Supervisor } from '../../src/supervisor/supervisor.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { eventually, untilReady } from '../helpers/sidecar.ts';
import { describeWith } from '../helpers/services.ts';
import { dashboardsOn, launch, loaded, openPage, pwned, realErrors, rowCount, screenshotPath, stats, type Stats } from './browser.ts';
import { FixtureFiles, fixtureApp, HOSTILE_APP, HOSTILE_ERROR, smallDataset } from './fixtures.ts';

/**
 * The dashboards on the change stream (issue 6): live from `events` when it is available, conditional
 * polling of `state` when it is not (blocked, refused for want of a token, no EventSource). Needs chromium
 * (test/helpers/services.ts).
 */




/**
 * Counts the page's requests of the whole `state` (never made), of `overview` (what the pages poll, and re-read on
 * each streamed version) and of `events` (query strings ignored).
 */
function countRequests(page: Page): { state: number; overview: number; events: number; overviewTags: (string | undefined)[] } {
  const n = { state: 0, overview: 0, events: 0, overviewTags: [] as (string | undefined)[] };
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('/state')) n.state++;
    if (path.endsWith('/overview')) { n.overview++; n.overviewTags.push(r.headers()['if-none-match']); }
    if (path.endsWith('/events')) n.events++;
  });
  return n;
}

const fresh = (name: string, extra: Partial<AppFlowState> = {}): AppFlowState =>
  fixtureApp('erin', 'market.olares', name, { stage: 'installing', health: 'unknown', last_update: new Date().toISOString(), ...extra });

describeWith('chromium', 'dashboards on the change stream', () => {
  const files = new FixtureFiles();
  const data = smallDataset();
  // passes every 200 ms; a pass that finds nothing new mints no version, so churn() makes real changes
  const env = dashboardsOn(files, () => data);
  /** Moves one task's result on every pass (a real change: a version each), until the returned stop is called. */
  const churn = () => {
    let n = 0;
    const write = (items: typeof data.tasks) => files.write('tasks', [{ op: 'replace', domain: 'tasks', items }]);
    const timer = setInterval(() => write(data.tasks.map((t, i) => (i === 0 ? { ...t, result: `tick ${++n}` } : t))), 50);
    return () => { clearInterval(timer); write(data.tasks); };
  };
  const root = () => `${env.sidecar.base}/api/v2/runtime`;
  const withApps = (...extra: AppFlowState[]) => files.write('app_flow', [{ op: 'replace', domain: 'app_states', items: [...data.apps, ...extra] }]);

  it('/dashboard is live on the stream: a change appears with no further GET of state; renders are coalesced; tab, filters and page stay', async () => {
    withApps();
    const { page, errors } = await openPage(env.browser);
    const n = countRequests(page);
    await loaded(page, `${root()}/dashboard`);
    await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
    expect(await page.locator('#mode').getAttribute('data-mode')).toBe('stream');
    expect(n.state).toBe(0);
    expect(n.events).toBe(1);
    expect(await rowCount(page, '#apps-table')).toBe(data.apps.length);

    // the user's view: a filter on the apps tab, and the Tasks tab with its "failed" sub-tab on the other panel
    await page.click('#market-tabs [data-tab="tasks"]');
    await page.click('#task-tabs [data-tab="failed"]');
    await page.click('#market-tabs [data-tab="apps"]');
    await page.fill('#f-user', 'erin');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(0);
    await page.click('#cr-tabs [data-tab="images"]');

    // a version every pass arrives; the page renders at most once a second, bursts coalesced
    const stop = churn();
    const before = await stats(page);
    const t0 = Date.now();
    await expect.poll(async () => (await stats(page)).changes - before.changes, { timeout: LIVENESS_MS }).toBeGreaterThan(10);
    await expect.poll(async () => (await stats(page)).renders - before.renders, { timeout: LIVENESS_MS }).toBeGreaterThanOrEqual(2);
    const after = await stats(page);
    stop();
    // a loaded machine only stretches the window: still one render per second of it at most (+1 under way)
    expect(after.renders - before.renders).toBeLessThanOrEqual(Math.ceil((Date.now() - t0) / 1000) + 1);

    withApps(fresh('stream-app-1'), fresh('stream-app-2', { stage: 'failed', health: 'unhealthy' }));
    await expect.poll(() => rowCount(page, '#apps-table'), { timeout: LIVENESS_MS }).toBe(2);
    // (the listing page and the summary counts are separate answers: either may land first)
    await expect.poll(() => page.locator('#summary [data-key="total_apps"] .card-value').textContent(), { timeout: LIVENESS_MS }).toBe(String(data.apps.length + 2));
    await expect.poll(() => page.locator('#summary [data-key="unhealthy_apps"] .card-value').textContent(), { timeout: LIVENESS_MS }).toBe('2');
    // the view the user set up is still there
    expect(await page.locator('#f-user').inputValue()).toBe('erin');
    expect(await page.locator('#market-apps').isVisible()).toBe(true);
    expect(await page.locator('#cr-images').isVisible()).toBe(true);
    await page.click('#market-tabs [data-tab="tasks"]');
    expect(await page.locator('#task-tabs [data-tab="failed"]').getAttribute('aria-selected')).toBe('true');
    await page.click('#market-tabs [data-tab="apps"]');

    // a removal goes too
    withApps(fresh('stream-app-1'));
    await expect.poll(() => rowCount(page, '#apps-table'), { timeout: LIVENESS_MS }).toBe(1);
    await expect.poll(() => page.locator('#summary [data-key="total_apps"] .card-value').textContent(), { timeout: LIVENESS_MS }).toBe(String(data.apps.length + 1));

    expect(n.state).toBe(0);
    expect(n.events).toBe(1);
    const s = await stats(page);
    expect(s.mode).toBe('stream');
    expect(s.snapshots).toBe(1);
    expect(s.fallbacks).toBe(0);
    expect(s.errors).toBe(0);
    await page.screenshot({ path: screenshotPath('dashboard-stream') });
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
    withApps();
  });

  it('the table keeps its page while changes stream in', async () => {
    const many = Array.from({ length: 150 }, (_, i) => fresh(`page-app-${String(i).padStart(3, '0')}`, { stage: 'running', health: 'healthy' }));
    withApps(...many);
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    await page.fill('#f-user', 'erin');
    await expect.poll(() => page.locator('#apps-table .pager-info').textContent()).toContain('of 150');
    await page.click('#apps-table .pager-next');
    await expect.poll(() => page.locator('#apps-table tbody tr').first().textContent()).toContain('page-app-050');
    withApps(...many, fresh('page-app-999'));
    await expect.poll(() => page.locator('#apps-table .pager-info').textContent(), { timeout: LIVENESS_MS }).toContain('of 151');
    expect(await page.locator('#apps-table .pager-info').textContent()).toContain('page 2/4');
    expect(await page.locator('#apps-table tbody tr').first().textContent()).toContain('page-app-050');
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
    withApps();
  });

  it('/dashboard-app is live on the stream too: a change appears with no GET of state', async () => {
    withApps();
    const { page, errors } = await openPage(env.browser);
    const n = countRequests(page);
    await loaded(page, `${root()}/dashboard-app`);
    await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
    await page.fill('#f-user', 'erin');
    await expect.poll(() => rowCount(page, '#flow-table')).toBe(0);
    withApps(fresh('stream-flow-app'));
    await expect.poll(() => rowCount(page, '#flow-table'), { timeout: LIVENESS_MS }).toBe(1);
    expect(await page.locator('#flow-table').textContent()).toContain('stream-flow-app');
    expect(n.state).toBe(0);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
    withApps();
  });

  it('works under /app-store/api/v2/runtime: the stream is opened relative to the page', async () => {
    const { page, errors } = await openPage(env.browser);
    const urls: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/events')) urls.push(r.url()); });
    await loaded(page, `${env.sidecar.base}/app-store/api/v2/runtime/dashboard`);
    expect(urls).toEqual([`${env.sidecar.base}/app-store/api/v2/runtime/events?view=summary`]);
    expect((await stats(page)).mode).toBe('stream');
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('hostile strings arriving through the stream render as text and never run', async () => {
    withApps();
    for (const p of ['dashboard', 'dashboard-app']) {
      const { page, errors } = await openPage(env.browser);
      const n = countRequests(page);
      await loaded(page, `${root()}/${p}`);
      await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
      const name = `${HOSTILE_APP}<b>live</b>`;
      withApps(fresh(name, { user_id: `<script>window.__pwned=2</script>`, stage: 'failed', health: 'unhealthy', stage_detail: `stream says ${HOSTILE_ERROR}` }));
      await page.getByText(name, { exact: true }).first().waitFor({ timeout: LIVENESS_MS });
      if (p === 'dashboard') {
        expect(await page.locator('#apps-table').textContent()).toContain(`stream says ${HOSTILE_ERROR}`);
      } else {
        // the stage detail, shown in the app's details, as text
        await page.locator('#flow-table tr', { hasText: name }).getByRole('button', { name: 'details' }).click();
        await expect.poll(() => page.locator('#flow-table tr.detail').textContent()).toContain(`stream says ${HOSTILE_ERROR}`);
      }
      expect(await page.locator('#flow-table, #apps-table').first().textContent()).toContain('<script>window.__pwned=2</script>');
      expect(await page.locator('img, b').count()).toBe(0);
      expect(await page.locator('main script, body script').count()).toBe(0);
      expect(await pwned(page)).toBeUndefined();
      expect(n.state).toBe(0);
      expect(realErrors(errors)).toEqual([]);
      await page.context().close();
      withApps();
    }
  });

  it('auto-refresh off closes the stream, Refresh fetches the overview once (conditional), on opens it again', async () => {
    withApps();
    const { page, errors } = await openPage(env.browser);
    const n = countRequests(page);
    await loaded(page, `${root()}/dashboard`);
    await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
    await page.uncheck('#auto');
    const fetched = n.overview;
    expect(await page.locator('#mode').textContent()).toBe('paused');
    const rendersOff = (await stats(page)).renders;
    withApps(fresh('while-paused'));
    // the sidecar has it (a live page would show it within moments), and a while later the paused page does not
    await eventually(async () => expect(await (await fetch(`${root()}/state?app_name=while-paused`)).text()).toContain('"while-paused"'));
    await page.waitForTimeout(1000);
    expect(await page.getByText('while-paused', { exact: true }).count()).toBe(0);
    expect((await stats(page)).renders).toBe(rendersOff);
    expect(n.overview).toBe(fetched);
    expect(n.events).toBe(1);

    await page.click('#refresh');
    await page.getByText('while-paused', { exact: true }).waitFor({ timeout: LIVENESS_MS });
    expect(n.overview).toBe(fetched + 1);
    expect(n.overviewTags.at(-1)).toMatch(/^W\/"[\w-]{22}/); // conditional on the version shown
    await page.waitForTimeout(1000);
    expect(n.overview).toBe(fetched + 1);
    expect(n.events).toBe(1);

    await page.check('#auto');
    await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
    expect(n.events).toBe(2);
    withApps(fresh('after-resume'));
    await page.getByText('after-resume', { exact: true }).waitFor({ timeout: LIVENESS_MS });
    expect(n.state).toBe(0);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
    withApps();
  });

  it('stream blocked (503): falls back to conditional polling every 5 s and still picks up changes; auto-refresh on tries the stream again', async () => {
    withApps();
    const { page, errors } = await openPage(env.browser);
    await page.route('**/events*', (route) => route.fulfill({
      status: 503, contentType: 'application/json', body: '{"success":false,"message":"no stream here","data":null}',
    }));
    const n = countRequests(page);
    await loaded(page, `${root()}/dashboard`);
    await expect.poll(() => page.locator('#mode').textContent()).toBe('polling every 5 s');
    const s = await stats(page);
    expect(s.mode).toBe('polling');
    expect(s.fallbacks).toBe(1);
    expect(n.events).toBe(1);
    expect(await page.getByText('fresh-poll-app', { exact: true }).count()).toBe(0);
    withApps(fresh('fresh-poll-app'));
    await page.getByText('fresh-poll-app', { exact: true }).waitFor({ timeout: LIVENESS_MS });
    await expect.poll(() => page.locator('#summary [data-key="total_apps"] .card-value').textContent(), { timeout: LIVENESS_MS }).toBe(String(data.apps.length + 1));
    expect(n.overview).toBeGreaterThanOrEqual(2);
    expect(n.overviewTags[1]).toMatch(/^W\/"/); // conditional (the toggle and Refresh: dashboard.test.ts)
    await page.uncheck('#auto');
    expect(await page.locator('#mode').textContent()).toBe('paused');
    // back on: the stream is tried again, refused again, and polling resumes
    await page.check('#auto');
    await expect.poll(() => page.locator('#mode').textContent()).toBe('polling every 5 s');
    expect(n.events).toBe(2);
    expect(await pwned(page)).toBeUndefined();
    // the only console lines are chromium's own notes of the refused stream requests (no script can
    // silence those); the page itself logs nothing and throws nothing
    expect(realErrors(errors)).toEqual(Array(n.events).fill('console: Failed to load resource: the server responded with a status of 503 (Service Unavailable)'));
    await page.context().close();
    withApps();
  });

  it('no EventSource in the env.browser: polls from the start', async () => {
    const { page, errors } = await openPage(env.browser);
    await page.addInitScript(() => { delete (window as unknown as { EventSource?: unknown }).EventSource; });
    const n = countRequests(page);
    await loaded(page, `${root()}/dashboard-app`);
    expect(await page.locator('#mode').textContent()).toBe('polling every 5 s');
    expect(n.events).toBe(0);
    expect(n.overview).toBe(1);
    expect(n.state).toBe(0);
    expect((await stats(page)).fallbacks).toBe(0);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });
});

describeWith('chromium', 'dashboards on a quiet market: only freshness moves', () => {
  const files = new FixtureFiles();
  // a pass every second, and nothing in the market changes: each pass moves freshness, never the version
  const env = dashboardsOn(files, () => smallDataset(), 1000);
  const root = () => `${env.sidecar.base}/api/v2/runtime`;
  const chartRepoSource = async () => ((await (await fetch(`${root()}/sources`)).json()) as {
    data: { sources: { chart_repo?: { ok: boolean; last_success: string | null } } } }).data.sources.chart_repo;

  it('a source\'s age ticks on its own while the page downloads no snapshot, overview or apps page', async () => {
    // the Chart Repo succeeded once, then fails with the same error on every pass: its age grows, and after the
    // version that said it went down, its failures mint none (issue 17)
    await expect.poll(async () => (await chartRepoSource())?.last_success ?? null, { timeout: LIVENESS_MS }).not.toBeNull();
    files.write('chart_repo', { throw: 'chart repo unreachable' });
    await expect.poll(async () => (await chartRepoSource())?.ok, { timeout: LIVENESS_MS }).toBe(false);
    for (const p of ['dashboard', 'dashboard-app']) {
      const { page, errors } = await openPage(env.browser);
      await loaded(page, `${root()}/${p}`);
      await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
      const age = page.locator('#sources .source[data-source="chart_repo"] .source-age');
      await expect.poll(() => age.textContent(), { timeout: LIVENESS_MS }).toMatch(/ ago$/);
      // from here on: every request for data the page makes, and the age it shows, for a few seconds
      const reads: string[] = [];
      page.on('request', (r) => {
        const path = new URL(r.url()).pathname;
        if (/\/(state|overview|apps|sources)$/.test(path)) reads.push(path);
      });
      const before = await stats(page);
      // the age moves on by itself: it shows three different values, however long a loaded machine takes (a
      // liveness bound: a second per second, it takes about two); an age that never ticks stays at one value
      const ages = new Set<string>();
      for (const end = Date.now() + LIVENESS_MS; ages.size < 3 && Date.now() < end;) {
        ages.add((await age.textContent()) ?? '');
        await page.waitForTimeout(200);
      }
      expect(ages.size, [...ages].join(', ')).toBeGreaterThanOrEqual(3);
      // and the stream's freshness events kept coming meanwhile
      await expect.poll(async () => (await stats(page)).freshness, { timeout: LIVENESS_MS }).toBeGreaterThan(before.freshness);
      const after = await stats(page);
      // and nothing was downloaded again: no new version, no snapshot, no overview, no page of apps
      expect(after.changes).toBe(before.changes);
      expect(after.snapshots).toBe(before.snapshots);
      expect(after.fetches).toBe(before.fetches);
      expect(reads).toEqual([]);
      expect(await page.locator('#sources .source[data-source="chart_repo"]').getAttribute('data-state')).toBe('failing');
      expect(realErrors(errors)).toEqual([]);
      await page.context().close();
    }
  });

  it('a thread the sidecar replaced shows on both pages: which, how often, when and why', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
    const shown = page.locator('#sources .thread-restart[data-thread="collector_tasks"]');
    expect(await shown.count()).toBe(0);
    const before = await stats(page);
    env.sidecar.sup.kill('collector_tasks');
    // the open page learns it from the stream's freshness events, with no snapshot downloaded again
    await expect.poll(() => shown.textContent(), { timeout: LIVENESS_MS })
      .toMatch(/^collector_tasks ×1 \(last \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: killed \(chaos control\)\)$/);
    expect((await stats(page)).snapshots).toBe(before.snapshots);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
    // a page opened afterwards shows it too
    const other = await openPage(env.browser);
    await loaded(other.page, `${root()}/dashboard-app`);
    await expect.poll(() => other.page.locator('#sources .thread-restart[data-thread="collector_tasks"]').textContent(), { timeout: LIVENESS_MS })
      .toContain('collector_tasks ×1');
    expect(realErrors(other.errors)).toEqual([]);
    await other.page.context().close();
  });
});

describeWith('chromium', 'dashboards when the API needs a token', () => {
  const TOKEN = 'stream-test-token';
  let browser: Browser;
  let sup: Supervisor;
  let base = '';
  const files = new FixtureFiles();

  beforeAll(async () => {
    files.writeAll(smallDataset());
    sup = new Supervisor({
      port: 0, host: '127.0.0.1', collectIntervalMs: 200, collectDeadlineMs: 5000, shutdownTimeoutMs: 4000,
      collectors: files.collectors(), log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
      security: { apiToken: TOKEN },
    });
    await sup.start();
    base = `http://127.0.0.1:${sup.port}`;
    await untilReady(base);
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    await sup?.stop();
  });

  it('the stream is refused (no token yet): falls back to polling, asks for the token, then streams with it (read with fetch)', async () => {
    const { page, errors } = await openPage(browser);
    const n = countRequests(page);
    await page.goto(`${base}/api/v2/runtime/dashboard`);
    await page.locator('#token-form').waitFor({ state: 'visible', timeout: LIVENESS_MS });
    expect(await page.locator('#mode').textContent()).toBe('polling every 5 s');
    expect(n.events).toBe(1);
    await page.fill('#token-form input', TOKEN);
    await page.click('#token-form button[type="submit"]');
    await page.waitForFunction(() => ((window as unknown as { __runtimeDashboard: Stats }).__runtimeDashboard.renders) > 0, null, { timeout: LIVENESS_MS });
    expect(await page.locator('#summary [data-key="total_apps"] .card-value').textContent()).toBe(String(smallDataset().apps.length));
    // the token opens the stream
    await expect.poll(() => page.locator('#mode').textContent(), { timeout: LIVENESS_MS }).toBe('live stream');
    expect(n.events).toBe(2);
    // reloaded with the token stored: straight to the stream
    await page.reload();
    await page.waitForFunction(() => ((window as unknown as { __runtimeDashboard: Stats }).__runtimeDashboard.renders) > 0, null, { timeout: LIVENESS_MS });
    await expect.poll(() => page.locator('#mode').textContent(), { timeout: LIVENESS_MS }).toBe('live stream');
    expect(n.events).toBe(3);
    // and a change arrives through it: the page renders a new version
    const before = await stats(page).then((s) => s.changes);
    files.write('app_flow', [{ op: 'replace', domain: 'app_states', items: smallDataset().apps.map((a, i) => (i === 0 ? { ...a, stage_detail: 'moved with a token' } : a)) }]);
    await expect.poll(() => stats(page).then((s) => s.changes), { timeout: LIVENESS_MS }).toBeGreaterThan(before);
    // the JSON link opens the state, fetched with the token (a plain link would open a 401)
    const [tab] = await Promise.all([page.waitForEvent('popup'), page.click('nav a[href="state"]')]);
    await expect.poll(() => tab.evaluate(() => document.body?.innerText ?? ''), { timeout: LIVENESS_MS }).toContain('"success":true');
    // the only console lines are chromium's own notes of the two refusals (the stream, the first state fetch)
    expect(realErrors(errors)).toEqual(Array(2).fill('console: Failed to load resource: the server responded with a status of 401 (Unauthorized)'));
    await page.context().close();
  });
});
