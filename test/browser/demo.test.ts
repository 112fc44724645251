import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDemoSidecar, type Sidecar } from '../helpers/demo-sidecar.ts';
import { describeWith } from '../helpers/services.ts';
import { eventually, LIVENESS_MS, untilReady } from '../helpers/sidecar.ts';
import { launch, openPage, screenshotPath } from './browser.ts';

/**
 * Both dashboards on the whole sidecar running the embedded demo market (real collectors, PGlite, the
 * simulated Chart Repo, the workload moving apps and tasks). Needs chromium (test/helpers/services.ts).
 */
describeWith('chromium', 'dashboards on the demo market', () => {
  let browser: Browser;
  let sidecar: Sidecar;
  let base = '';

  beforeAll(async () => {
    let root: string;
    ({ sidecar, root } = await startDemoSidecar());
    base = `${root}/api/v2/runtime`;
    await untilReady(root, 2 * LIVENESS_MS);
    // ready is every collector's first run, good or bad: on a loaded machine app_flow's can fail, and the
    // pages are about a market with apps in it
    await eventually(async () => {
      const r = await fetch(`${base}/overview`);
      expect(((await r.json()) as { data: { summary: { total_apps: number } } }).data.summary.total_apps).toBeGreaterThan(0);
    }, 60_000, 250);
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await sidecar?.stop();
  });

  it('/dashboard: loads with no console errors, shows the market, tabs switch, filters narrow, auto-refresh moves', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${base}/dashboard`);
    await page.waitForFunction(() => ((window as unknown as { __runtimeDashboard?: { renders: number } }).__runtimeDashboard?.renders ?? 0) > 0, null, { timeout: LIVENESS_MS });
    const total = Number((await page.locator('#summary [data-key="total_apps"] .card-value').textContent())?.replace(/,/g, ''));
    expect(total).toBeGreaterThan(0);
    // an operator must not take the demo's data for a market's
    expect(await page.locator('#demo').isVisible()).toBe(true);
    expect(await page.locator('#demo').textContent()).toContain('Demo market: simulated data');
    const rows = () => page.locator('#apps-table tbody tr:not(.detail):not(.empty)').count();
    const cardTotal = async () => Number((await page.locator('#summary [data-key="total_apps"] .card-value').textContent())?.replace(/,/g, ''));
    // the market moves while the page loads: the table and the card agree once both show the same version
    await expect.poll(async () => (await rows()) - Math.min(await cardTotal(), 50), { timeout: LIVENESS_MS }).toBe(0);
    // every source comes to 'ok': on a busy machine (npm start beside npm test, two cores) a 1 s collector can
    // go 3 intervals without a pass, and the strip rightly says 'stale' until the next one
    for (const s of ['app_flow', 'tasks', 'components', 'chart_repo']) {
      await expect.poll(() => page.locator(`#sources [data-source="${s}"]`).getAttribute('data-state'), { message: s, timeout: LIVENESS_MS }).toBe('ok');
    }
    // filter by the first row's user narrows to that user's apps
    const user = (await page.locator('#apps-table tbody tr').first().locator('td').nth(1).textContent()) ?? '';
    await page.fill('#f-user', user);
    await expect.poll(async () => {
      const users = await page.locator('#apps-table tbody tr td:nth-child(2)').allTextContents();
      return users.length > 0 && users.every((u) => u.includes(user));
    }, { timeout: LIVENESS_MS }).toBe(true);
    for (const tab of ['tasks', 'components', 'cache']) {
      await page.click(`#market-tabs [data-tab="${tab}"]`);
      expect(await page.locator(`#market-${tab}`).isVisible()).toBe(true);
    }
    expect(await page.locator('#components-table tbody tr').count()).toBeGreaterThan(4);
    for (const tab of ['apps', 'analyzer', 'images', 'tasks']) {
      await page.click(`#cr-tabs [data-tab="${tab}"]`);
      expect(await page.locator(`#cr-${tab}`).isVisible()).toBe(true);
    }
    // the Chart Repo's apps of one user (its lists grow with the market: per user or app)
    await page.click('#cr-tabs [data-tab="apps"]');
    await page.fill('#f-cr-user', user);
    await expect.poll(() => page.locator('#cr-apps-table tbody tr:not(.empty)').count(), { timeout: LIVENESS_MS }).toBeGreaterThan(0);
    // the demo workload moves the market: auto-refresh renders a new version by itself
    await page.waitForFunction(() => ((window as unknown as { __runtimeDashboard: { renders: number } }).__runtimeDashboard.renders) >= 2, null, { timeout: LIVENESS_MS });
    await page.click('#market-tabs [data-tab="apps"]');
    await page.fill('#f-user', '');
    await page.screenshot({ path: screenshotPath('demo-dashboard'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('/dashboard-app: loads with no console errors and shows every step of the flow', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${base}/dashboard-app`);
    await page.waitForFunction(() => ((window as unknown as { __runtimeDashboard?: { renders: number } }).__runtimeDashboard?.renders ?? 0) > 0, null, { timeout: LIVENESS_MS });
    const rows = page.locator('#flow-table tbody tr:not(.detail):not(.empty)');
    expect(await rows.count()).toBeGreaterThan(0);
    expect(await rows.first().locator('li.step').count()).toBe(7);
    expect(await page.locator('#demo').isVisible()).toBe(true);
    const statuses = new Set(await page.locator('#flow-table li.step').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.status)));
    expect(statuses.has('completed')).toBe(true);
    await page.screenshot({ path: screenshotPath('demo-dashboard-app'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
