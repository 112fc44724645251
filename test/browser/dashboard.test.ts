import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { describeWith } from '../helpers/services.ts';
import { appKey, type AppFlowState } from '../../src/model/index.ts';
import { dashboardsOn, loaded, openPage, pwned, realErrors, rowCount, screenshotPath, stats } from './browser.ts';
import {
  FixtureFiles, HOSTILE_APP, HOSTILE_ERROR, HOSTILE_ICON, HOSTILE_SOURCE_ERROR, HOSTILE_URL, largeDataset, smallDataset,
} from './fixtures.ts';

/**
 * The dashboards in Debian's chromium (issue 5), against the real threads of a sidecar fed by 'file' fake
 * collectors, so each test decides what the next collection pass sees.
 * Needs chromium (test/helpers/services.ts).
 */



/** Refuses the change stream (as a proxy without SSE would): the page falls back to polling `state`. */
async function blockStream(page: Page): Promise<void> {
  await page.route('**/events*', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"success":false,"message":"blocked","data":null}' }));
}
/** chromium's own console note of the refused stream request (no script can silence it) */
const BLOCKED_STREAM_LINE = 'console: Failed to load resource: the server responded with a status of 503 (Service Unavailable)';



/** The minutes `re`'s first group finds in an age the page shows (failing when the text does not match). */
function minutes(text: string | null, re: RegExp): number {
  const m = re.exec(text ?? '');
  expect(m, `${JSON.stringify(text)} does not match ${re}`).not.toBeNull();
  return Number(m![1]);
}

describeWith('chromium', 'dashboards in a real browser', () => {
  const files = new FixtureFiles();
  const data = smallDataset();
  const env = dashboardsOn(files, () => data);
  const root = () => `${env.sidecar.base}/api/v2/runtime`;

  it('serves both pages with the strict CSP under both base paths', async () => {
    for (const base of ['/api/v2/runtime', '/app-store/api/v2/runtime']) {
      for (const p of ['dashboard', 'dashboard-app']) {
        const r = await fetch(`${env.sidecar.base}${base}/${p}`);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(r.headers.get('content-type')).toMatch(/^text\/html/);
        const html = await r.text();
        expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
        expect(html).not.toMatch(/\son[a-z]+=/i); // no inline handler
        expect(html).not.toMatch(/\sstyle=/i); // no inline style
      }
    }
  });

  it('/dashboard loads with no console errors: header, sources, nine summary cards, applications', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    expect(await page.locator('#snapshot-time').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await page.locator('#auto').isChecked()).toBe(true);
    // the nine summary counts of the Go module (plus stuck_apps / stuck_tasks when the sidecar sends them)
    for (const k of ['total_apps', 'total_tasks', 'pending_tasks', 'running_tasks', 'completed_tasks', 'failed_tasks',
      'healthy_apps', 'unhealthy_apps', 'active_components']) {
      expect(await page.locator(`#summary [data-key="${k}"] .card-value`).textContent(), k).toMatch(/^[\d,]+$/);
    }
    expect(await page.locator('#summary .card').count()).toBeGreaterThanOrEqual(9);
    expect(await page.locator('#summary [data-key="total_apps"] .card-value').textContent()).toBe(String(data.apps.length));
    expect(await page.locator('#summary [data-key="failed_tasks"] .card-value').textContent()).toBe('2');
    for (const s of ['app_flow', 'tasks', 'components', 'chart_repo']) {
      expect(await page.locator(`#sources [data-source="${s}"]`).getAttribute('data-state')).toBe('ok');
    }
    expect(await page.locator('#warning').isHidden()).toBe(true);
    expect(await rowCount(page, '#apps-table')).toBe(data.apps.length);
    // the stuck app (issue 8 fields) comes first, highlighted, with its age
    const first = page.locator('#apps-table tbody tr').first();
    expect(await first.getAttribute('class')).toContain('stuck');
    // (45 min when the data was made; the page counts on, and a loaded machine takes its time to get here)
    expect(minutes(await first.textContent(), /nextcloud.*stuck (\d+)m/)).toBeGreaterThanOrEqual(44);
    await page.screenshot({ path: screenshotPath('dashboard'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('/dashboard tabs switch: tasks and their sub-tabs, components, cache & sync, every Chart Repo tab', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    // hold the page still: a version every 200 ms re-renders the tables, and a click on a row's button
    // (per node) could chase re-rendered rows on a loaded machine; liveness has its own tests
    await page.uncheck('#auto');
    await page.click('#market-tabs [data-tab="tasks"]');
    expect(await page.locator('#market-tasks').isVisible()).toBe(true);
    expect(await page.locator('#market-apps').isVisible()).toBe(false);
    const expected = { pending: 2, running: 2, completed: 3, failed: 2, other: 1 };
    for (const [tab, n] of Object.entries(expected)) {
      await page.click(`#task-tabs [data-tab="${tab}"]`);
      expect(await rowCount(page, '#tasks-table'), tab).toBe(n);
      expect(await page.locator(`#task-tabs [data-tab="${tab}"] .count`).textContent()).toBe(String(n));
    }
    // running tasks show a progress bar
    await page.click('#task-tabs [data-tab="running"]');
    expect(await page.locator('#tasks-table progress').count()).toBe(2);

    await page.click('#market-tabs [data-tab="components"]');
    expect(await rowCount(page, '#components-table')).toBe(data.components.length + 4); // + one per collector
    expect(await page.locator('#components-table').textContent()).toContain('renders failing');

    await page.click('#market-tabs [data-tab="cache"]');
    const syncer = await page.locator('#syncer-table').textContent();
    expect(syncer).toContain('market.stale');
    expect(await page.locator('#syncer-table tr.row-bad').count()).toBe(1);
    // installed apps and users per source over every pair, not only the largest ones by_user lists
    const olares = page.locator('#syncer-table tbody tr', { hasText: 'market.olares' }).locator('td');
    expect((await olares.allTextContents()).slice(-2)).toEqual(['25', '5']);
    // the catalog's age is the page's to keep live: it ticks from the catalog's time, 42 min for market.stale
    const catalogAge = page.locator('#syncer-table tr.row-bad [data-age-since]');
    expect(minutes(await catalogAge.textContent(), /^(\d+)m \d+s$/)).toBeGreaterThanOrEqual(42);
    expect(await page.locator('#hydrator-kv').textContent()).toContain('Workers');
    expect(await rowCount(page, '#cache-table')).toBe(3);

    // the Chart Repo's apps and images come per user or app (their lists grow with the market): counts, then rows
    await page.click('#cr-tabs [data-tab="apps"]');
    expect(await page.locator('#cr-apps-note').textContent()).toContain('4 in all (1 completed · 1 failed · 1 pending · 1 processing)');
    // nothing filtered out yet: the empty table asks for a user or an app, never says that nothing matches
    expect(await page.locator('#cr-apps-table tr.empty').textContent()).toBe('Choose a user or an app above to list its Chart Repo apps.');
    await page.fill('#f-cr-user', 'carol');
    await expect.poll(() => rowCount(page, '#cr-apps-table')).toBe(1);
    // (the Chart Repo's index 1 is the second step of five)
    expect(await page.locator('#cr-apps-table').textContent()).toContain('RenderedChartStep 2/5');
    // still processing: 65 s when it last changed, and the page counts on from there (the body holds the former)
    const processing = page.locator('#cr-apps-table [data-age-since]');
    expect(minutes(await processing.textContent(), /^(\d+)m \d+s$/)).toBeGreaterThanOrEqual(1);
    expect(Date.parse((await processing.getAttribute('data-age-since'))!)).toBeLessThan(Date.now() - 60_000);
    await page.click('#cr-tabs [data-tab="analyzer"]');
    expect(await page.locator('#analyzer-kv').textContent()).toMatch(/2sAverage time/);
    for (const [tab, n] of Object.entries({ queued: 1, processing: 1, completed: 1, failed: 1 })) {
      await page.click(`#analyzer-tabs [data-tab="${tab}"]`);
      expect(await rowCount(page, '#analyzer-table'), tab).toBe(n);
    }
    await page.click('#cr-tabs [data-tab="images"]');
    expect(await page.locator('#images-note').textContent()).toContain('3 in all');
    expect(await page.locator('#images-table tr.empty').textContent()).toBe('Choose a user or an app above to list its images.');
    await page.fill('#f-img', 'no-such-app');
    await expect.poll(() => page.locator('#images-table tr.empty').textContent()).toBe('No images match.');
    await page.fill('#f-img', 'jellyfin');
    await expect.poll(() => rowCount(page, '#images-table')).toBe(1);
    await page.locator('#images-table tr', { hasText: 'jellyfin' }).getByRole('button', { name: 'per node' }).click();
    expect(await page.locator('#images-table tr.detail').textContent()).toContain('node-b');
    await page.click('#cr-tabs [data-tab="tasks"]');
    expect(await rowCount(page, '#hydrator-table')).toBe(2);
    expect(await rowCount(page, '#hydrator-failed-table')).toBe(1);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('/dashboard: a nested metric the operator opened stays open while versions redraw the components; collectors show their last pass', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    await page.click('#market-tabs [data-tab="components"]');
    await page.locator('#components-table details.metric-nested summary').first().click();
    expect(await page.locator('#components-table details.metric-nested[open]').count()).toBe(1);
    const seen = (await stats(page)).renders;
    // a new version (a component's message moves), then the data as it was
    files.write('components', [{ op: 'replace', domain: 'components', items: data.components.map((c, i) => (i === 0 ? { ...c, message: 'moved while watched' } : c)) }]);
    try {
      await expect.poll(async () => (await stats(page)).renders, { timeout: LIVENESS_MS }).toBeGreaterThan(seen);
      await page.getByText('moved while watched').waitFor({ timeout: LIVENESS_MS });
      expect(await page.locator('#components-table details.metric-nested[open]').count()).toBe(1);
      // a collector component's Last check is its last pass (live freshness), not when its health last changed
      const snapshot = (await (await fetch(`${root()}/state`)).json()) as { data: { components: Record<string, { last_check: string }> } };
      const healthChanged = Date.parse(snapshot.data.components.collector_tasks!.last_check);
      const shown = async () => Date.parse(String(await page.locator('#components-table tr', { hasText: 'collector_tasks' }).locator('.time').getAttribute('title')).split(' ')[0]!);
      await expect.poll(shown, { timeout: LIVENESS_MS }).toBeGreaterThan(healthChanged);
    } finally {
      files.writeAll(data);
    }
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('/dashboard: a nested metric opened just before a redraw stays open (its toggle event comes a task after the click)', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    await page.click('#market-tabs [data-tab="components"]');
    // every toggle event held back, as when the freshness of a pass redraws the table between a click and its event
    await page.evaluate(() => document.addEventListener('toggle', (e) => e.stopPropagation(), { capture: true }));
    await page.evaluate(() => {
      const d = document.querySelector('#components-table details.metric-nested')!;
      d.querySelector('summary')!.click();
      (window as unknown as { opened: Element }).opened = d;
    });
    // the next redraw replaced the element opened
    await expect.poll(() => page.evaluate(() => (window as unknown as { opened: Element }).opened.isConnected), { timeout: LIVENESS_MS }).toBe(false);
    expect(await page.locator('#components-table details.metric-nested[open]').count()).toBe(1);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('/dashboard filters narrow the rows (app, user, source, stage, health, stuck; exact, on the server) and clearing restores them', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    const total = data.apps.length;
    await page.fill('#f-app', 'bulk-app-10');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(1);
    await page.fill('#f-app', '');
    await page.fill('#f-user', 'user2');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(data.apps.filter((a) => a.user_id === 'user2').length);
    await page.fill('#f-user', '');
    await page.fill('#f-source', 'upload');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(data.apps.filter((a) => a.source_id === 'upload').length);
    await page.fill('#f-source', '');
    // stuck rows are found by the stuck filter
    await page.selectOption('#f-stuck', 'true');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(1);
    expect(await page.locator('#apps-table tbody tr').first().textContent()).toContain('nextcloud');
    await page.selectOption('#f-stuck', '');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(total);
    // stage and health are asked of the server (…/apps?stage=&health=), not picked from the page's rows
    const asked: string[] = [];
    page.on('request', (r) => { if (/\/apps\?/.test(r.url())) asked.push(r.url()); });
    await page.selectOption('#f-stage', 'stopped');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(data.apps.filter((a) => a.stage === 'stopped').length);
    expect(data.apps.filter((a) => a.stage === 'stopped').length).toBeGreaterThan(0);
    expect(asked.some((u) => new URL(u).searchParams.get('stage') === 'stopped')).toBe(true);
    await page.selectOption('#f-stage', '');
    await page.selectOption('#f-health', 'unhealthy');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(data.apps.filter((a) => a.health === 'unhealthy').length);
    expect(await page.locator('#apps-table tbody tr').first().textContent()).toContain('unhealthy');
    expect(asked.some((u) => new URL(u).searchParams.get('health') === 'unhealthy')).toBe(true);
    await page.selectOption('#f-health', '');
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(total);
    // tasks filter
    await page.click('#market-tabs [data-tab="tasks"]');
    await page.click('#task-tabs [data-tab="completed"]');
    await page.fill('#f-task', 'gitea');
    await expect.poll(() => rowCount(page, '#tasks-table')).toBe(1);
    // chart repo state filter (of one user's Chart Repo apps)
    await page.fill('#f-cr-user', 'alice');
    await page.selectOption('#f-cr-state', 'failed');
    await expect.poll(() => rowCount(page, '#cr-apps-table')).toBe(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('/dashboard Chart Repo lists end on the filter typed last: a slow answer for a filter changed since is dropped', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    // typed "alice", "al", "alice" (apps by user), "firefox", "fire", "firefox" (images by app): the answers for
    // "al" and "fire" are held until released, so they come after the full name was typed again
    const lists = [
      { tab: 'apps', input: '#f-cr-user', table: '#cr-apps-table', param: 'user_id', full: 'alice', part: 'al' },
      { tab: 'images', input: '#f-img', table: '#images-table', param: 'app_name', full: 'firefox', part: 'fire' },
    ];
    let release = () => {};
    const held = new Promise<void>((r) => { release = r; });
    const isPart = (u: URL) => u.pathname.endsWith('/state') && lists.some((l) => u.searchParams.get(l.param) === l.part);
    const asked = new Map<string, () => void>();
    const askedFor = (part: string) => new Promise<void>((r) => asked.set(part, r));
    await page.route(isPart, async (route) => {
      const u = new URL(route.request().url());
      for (const l of lists) if (u.searchParams.get(l.param) === l.part) asked.get(l.part)?.();
      const response = await route.fetch();
      await held;
      await route.fulfill({ response });
    });
    const rowsOf = (table: string) => page.locator(`${table} tbody tr`).allTextContents();
    const fullRows: string[][] = [];
    for (const [i, l] of lists.entries()) {
      await page.click(`#cr-tabs [data-tab="${l.tab}"]`);
      await page.fill(l.input, l.full);
      await expect.poll(async () => (await rowsOf(l.table)).join('\n')).toMatch(/firefox|alice/);
      fullRows[i] = await rowsOf(l.table);
      const partAsked = askedFor(l.part);
      await page.fill(l.input, l.part);
      await partAsked;
      // the table is drawn for the full name again (its answer is kept) while the one for the part is on its way
      await page.evaluate((sel) => {
        const w = window as unknown as { draws: number };
        w.draws = 0;
        new MutationObserver(() => { w.draws++; }).observe(document.querySelector(sel)!, { childList: true, subtree: true });
      }, l.table);
      await page.fill(l.input, l.full);
      await expect.poll(() => page.evaluate(() => (window as unknown as { draws: number }).draws)).toBeGreaterThan(0);
      expect(await rowsOf(l.table)).toEqual(fullRows[i]);
    }
    const answered = lists.map((l) => page.waitForEvent('requestfinished', (r) => new URL(r.url()).searchParams.get(l.param) === l.part));
    release();
    await Promise.all(answered);
    // the late answers have reached the page; its own tasks for them run before these frames
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0)))));
    // (read where they are: a tab switch would draw its table again)
    for (const [i, l] of lists.entries()) expect(await rowsOf(l.table)).toEqual(fullRows[i]);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('both pages: a filter whose apps read fails (503) never leaves rows of another filter under it; the page reads it again and lands', async () => {
    const user2 = data.apps.filter((a) => a.user_id === 'user2').length;
    expect(user2).toBeGreaterThan(0);
    for (const [p, table] of [['dashboard', '#apps-table'], ['dashboard-app', '#flow-table']] as const) {
      const { page, errors } = await openPage(env.browser);
      await loaded(page, `${root()}/${p}`);
      await expect.poll(() => rowCount(page, table)).toBeGreaterThan(user2);
      // the first read for the filter fails, as one does while the store is being replaced; the market stays quiet
      let failed = 0;
      await page.route((u) => /\/apps$/.test(u.pathname) && u.searchParams.get('user_id') === 'user2', async (route) => {
        if (failed++ === 0) {
          await route.fulfill({ status: 503, contentType: 'application/json', body: '{"success":false,"message":"the store is not available","data":null}' });
        } else {
          await route.continue();
        }
      });
      await page.fill('#f-user', 'user2');
      await expect.poll(() => failed, { timeout: LIVENESS_MS }).toBeGreaterThan(0);
      // never the rows of no filter under "user2"; then, with no new version, user2's apps
      const users = () => page.locator(`${table} tbody tr:not(.detail):not(.empty) td[data-label="User"]`).allTextContents();
      await expect.poll(async () => (await users()).filter((u) => u !== 'user2').length, { timeout: LIVENESS_MS }).toBe(0);
      await expect.poll(() => rowCount(page, table), { timeout: LIVENESS_MS }).toBe(user2);
      expect((await users()).every((u) => u === 'user2')).toBe(true);
      expect(realErrors(errors).filter((e) => !e.includes('503'))).toEqual([]);
      await page.context().close();
    }
  });

  it('/dashboard-app: an open timeline whose read fails (503) says so and is read again, never "no timeline for this app"', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard-app`);
    let failed = 0;
    await page.route((u) => /\/firefox\/history$/.test(u.pathname), async (route) => {
      if (failed++ === 0) {
        await route.fulfill({ status: 503, contentType: 'application/json', body: '{"success":false,"message":"the store is not available","data":null}' });
      } else {
        await route.continue();
      }
    });
    await page.fill('#f-app', 'firefox');
    await page.fill('#f-user', 'alice');
    await expect.poll(() => rowCount(page, '#flow-table'), { timeout: LIVENESS_MS }).toBe(1);
    await page.locator('#flow-table tr', { hasText: 'firefox' }).getByRole('button', { name: 'details' }).click();
    const timeline = page.locator('#flow-table tr.detail .timeline');
    await expect.poll(() => failed, { timeout: LIVENESS_MS }).toBeGreaterThan(0);
    // the market stays quiet: the page reads it again by itself
    await expect.poll(() => timeline.locator('li').count(), { timeout: LIVENESS_MS }).toBeGreaterThan(0);
    expect(await timeline.textContent()).not.toContain('no timeline for this app');
    expect(realErrors(errors).filter((e) => !e.includes('503'))).toEqual([]);
    await page.context().close();
  });

  it('/dashboard Chart Repo lists: a read that fails (503, no answer) says so and is tried again, never shown as "nothing matches"', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);
    // the first read of alice's lists fails, as one does while the store is being replaced; the market stays quiet
    let failed = 0;
    await page.route((u) => u.pathname.endsWith('/state') && u.searchParams.get('user_id') === 'alice', async (route) => {
      if (failed++ === 0) {
        await route.fulfill({ status: 503, contentType: 'application/json', body: '{"success":false,"message":"the store is not available","data":null}' });
      } else {
        await route.continue();
      }
    });
    await page.click('#cr-tabs [data-tab="apps"]');
    await page.fill('#f-cr-user', 'alice');
    const table = page.locator('#cr-apps-table tbody');
    await expect.poll(() => failed, { timeout: LIVENESS_MS }).toBeGreaterThan(0);
    // no version comes: the page reads them again by itself, and lists them
    await expect.poll(() => table.textContent(), { timeout: LIVENESS_MS }).toContain(HOSTILE_APP);
    expect(await table.textContent()).not.toContain('No Chart Repo applications match');
    expect(failed).toBeGreaterThan(1);
    expect(realErrors(errors).filter((e) => !e.includes('503'))).toEqual([]);
    await page.context().close();
  });

  it('hostile strings render as literal text and never run', async () => {
    for (const p of ['dashboard', 'dashboard-app']) {
      const { page, errors } = await openPage(env.browser);
      await loaded(page, `${root()}/${p}`);
      expect(await page.getByText(HOSTILE_APP, { exact: true }).count()).toBeGreaterThan(0);
      if (p === 'dashboard') {
        // the task error is shown on demand
        await page.click('#market-tabs [data-tab="tasks"]');
        await page.click('#task-tabs [data-tab="failed"]');
        await page.locator('#tasks-table tr', { hasText: HOSTILE_APP }).getByRole('button', { name: 'show error' }).click();
        expect(await page.locator('#tasks-table pre.error-text').allTextContents()).toContain(HOSTILE_ERROR);
        await page.click('#cr-tabs [data-tab="analyzer"]');
        await page.click('#analyzer-tabs [data-tab="failed"]');
        expect(await page.locator('#analyzer-table').textContent()).toContain(HOSTILE_ERROR);
        await page.click('#cr-tabs [data-tab="apps"]');
        await page.fill('#f-cr-user', 'alice');
        await expect.poll(() => page.locator('#cr-apps-table').textContent()).toContain(`image pull failed ${HOSTILE_ERROR}`);
      } else {
        await page.locator('#flow-table tr', { hasText: HOSTILE_APP }).getByRole('button', { name: 'details' }).click();
        expect(await page.locator('#flow-table tr.detail pre').textContent()).toContain(HOSTILE_ERROR);
        // the app's timeline, fetched when its details open, as text
        await expect.poll(() => page.locator('#flow-table tr.detail .timeline li').count(), { timeout: LIVENESS_MS }).toBeGreaterThan(0);
        expect(await page.locator('#flow-table tr.detail .timeline li').first().textContent()).toMatch(/poll user_application_states/);
        // title, icon and entrance URL shown as text
        const detail = await page.locator('#flow-table tr.detail').textContent();
        for (const text of [`Title ${HOSTILE_APP}`, HOSTILE_ICON, `web → ${HOSTILE_URL} (crashed)`, 'cat-1']) expect(detail).toContain(text);
        expect(await page.locator('#flow-table tr.detail a').count()).toBe(0);
        // the entrance URL's markup (shown above as text) made no element
        expect(await page.locator('#flow-table b').count()).toBe(0);
      }
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('main script, body script').count()).toBe(0);
      expect(await pwned(page)).toBeUndefined();
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });

  it('/dashboard-app shows the flow of each app per the Chart Repo rules, stuck first then in key order, filters narrow', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard-app`);
    const steps = async (app: string) => page.locator('#flow-table tr', { has: page.locator('.name', { hasText: new RegExp(`^${app}$`) }) })
      .locator('li.step').evaluateAll((lis) => lis.map((li) => `${(li as HTMLElement).dataset.step}:${(li as HTMLElement).dataset.status}`));
    // processing at RenderedChartStep: before completed, current running, after pending
    expect(await steps('jellyfin')).toEqual([
      'Syncer:completed', 'Market Hydration:running', 'SourceChartStep:completed', 'RenderedChartStep:running',
      'CustomParamsUpdateStep:pending', 'ImageAnalysisStep:pending', 'DatabaseUpdateStep:pending',
    ]);
    // no Chart Repo app entry: the hydrator task decides
    expect(await steps('hydr-only')).toEqual([
      'Syncer:completed', 'Market Hydration:running', 'SourceChartStep:completed', 'RenderedChartStep:completed',
      'CustomParamsUpdateStep:running', 'ImageAnalysisStep:pending', 'DatabaseUpdateStep:pending',
    ]);
    // "Last update" of today is the time of day alone; the full date and time in its title
    const lastUpdates = await page.locator('#flow-table tbody tr:not(.detail) span.time').allTextContents();
    expect(lastUpdates.length).toBeGreaterThan(0);
    expect(lastUpdates.filter((t) => /^\d\d:\d\d:\d\d UTC$/.test(t)).length).toBeGreaterThan(0);
    // a failed app: steps before the current one completed, the current one failed
    const hostile = await page.locator('#flow-table tr', { hasText: HOSTILE_APP }).locator('li.step')
      .evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.status));
    expect(hostile).toEqual(['completed', 'failed', 'completed', 'completed', 'completed', 'failed', 'pending']);
    // hydrated, now installing: the current step is the app's own stage detail, not "done"
    expect(await page.locator('#flow-table tr', { has: page.locator('.name', { hasText: /^nextcloud$/ }) }).locator('td.current-step').textContent()).toBe('pulling images');
    // stuck first, highlighted
    const first = page.locator('#flow-table tbody tr').first();
    expect(await first.getAttribute('class')).toContain('stuck');
    expect(await first.textContent()).toContain('nextcloud');
    await expect.poll(() => page.locator('#summary [data-key="stuck"] .card-value').textContent(), { timeout: LIVENESS_MS }).toBe('1');
    // the rest in key order (user, source, app), whatever their status: a row keeps its place while it moves
    const order = await page.locator('#flow-table tbody tr:not(.stuck)').evaluateAll((trs) => trs
      .filter((tr) => (tr as HTMLTableRowElement).cells.length > 3)
      .map((tr) => { const c = (tr as HTMLTableRowElement).cells; return `${c[1]!.textContent}:${c[2]!.textContent}:${c[0]!.querySelector('.name')!.textContent}`; }));
    expect(order.length).toBeGreaterThan(3);
    expect(order).toEqual([...order].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));

    const total = await rowCount(page, '#flow-table');
    expect(total).toBe(data.apps.length); // the installed apps, a page of them (Chart Repo-only entries are on /dashboard)
    await page.fill('#f-app', 'jellyfin');
    await expect.poll(() => rowCount(page, '#flow-table')).toBe(1);
    await page.fill('#f-app', '');
    await page.fill('#f-user', 'carol');
    await expect.poll(() => rowCount(page, '#flow-table')).toBe(2);
    await page.fill('#f-user', '');
    await page.fill('#f-source', 'upload');
    await expect.poll(() => rowCount(page, '#flow-table')).toBe(data.apps.filter((a) => a.source_id === 'upload').length);
    await page.fill('#f-source', '');
    await page.selectOption('#f-status', 'true');
    await expect.poll(() => rowCount(page, '#flow-table')).toBe(1);
    await page.selectOption('#f-status', '');
    await expect.poll(() => rowCount(page, '#flow-table')).toBe(total);
    await page.screenshot({ path: screenshotPath('dashboard-app'), fullPage: true });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('both pages read on a narrow screen (screenshots)', async () => {
    for (const p of ['dashboard', 'dashboard-app']) {
      const { page, errors } = await openPage(env.browser, { width: 390, height: 844 });
      await loaded(page, `${root()}/${p}`);
      // nothing sticks out sideways: the page is as wide as the screen
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      // a flow names its steps: a phone shows no chip's title, and ✓ ✓ ▶ ✓ alone says not which step runs
      if (p === 'dashboard-app') {
        const name = page.locator('#flow-table li.step .step-name').first();
        expect(await name.isVisible()).toBe(true);
        expect(await name.textContent()).toBe('Sync');
      }
      await page.screenshot({ path: screenshotPath(`${p}-narrow`) });
      expect(errors).toEqual([]);
      await page.context().close();
    }
  });

  it('works under /app-store/api/v2/runtime: the page fetches its data relative to itself (stream blocked)', async () => {
    const { page, errors } = await openPage(env.browser);
    await blockStream(page);
    const urls: string[] = [];
    page.on('request', (r) => { if (/\/(overview|apps\?.*)$/.test(r.url())) urls.push(r.url()); });
    await loaded(page, `${env.sidecar.base}/app-store/api/v2/runtime/dashboard-app`);
    expect(urls[0]).toBe(`${env.sidecar.base}/app-store/api/v2/runtime/overview`);
    expect(urls[1]).toMatch(new RegExp(`^${env.sidecar.base}/app-store/api/v2/runtime/apps\\?limit=50&`));
    expect(realErrors(errors)).toEqual([BLOCKED_STREAM_LINE]);
    await page.context().close();
  });

  it('auto-refresh with the stream blocked (on by default, 5 s, conditional) picks up a change; the toggle stops it', async () => {
    // the live path (the change stream) is in stream.test.ts; this is the polling it falls back to
    const { page, errors } = await openPage(env.browser);
    await blockStream(page);
    const conditional: (string | undefined)[] = [];
    page.on('request', (r) => { if (r.url().endsWith('/overview')) conditional.push(r.headers()['if-none-match']); });
    await loaded(page, `${root()}/dashboard`);
    expect(await page.locator('#mode').textContent()).toBe('polling every 5 s');
    expect(await page.getByText('fresh-app', { exact: true }).count()).toBe(0);
    files.write('app_flow', [{ op: 'replace', domain: 'app_states', items: [...data.apps, {
      app_id: 'fresh-app', app_name: 'fresh-app', user_id: 'erin', source_id: 'market.olares', stage: 'installing',
      health: 'unknown', last_update: new Date().toISOString(),
    }] }]);
    await page.getByText('fresh-app', { exact: true }).waitFor({ timeout: LIVENESS_MS });
    await expect.poll(() => page.locator('#summary [data-key="total_apps"] .card-value').textContent(), { timeout: LIVENESS_MS }).toBe(String(data.apps.length + 1));
    expect(conditional.length).toBeGreaterThanOrEqual(2);
    expect(conditional[0]).toBeUndefined();
    expect(conditional[1]).toMatch(/^W\/"/); // the second request is conditional
    // toggle off: no more requests
    await page.uncheck('#auto');
    expect(await page.locator('#mode').textContent()).toBe('paused');
    const before = conditional.length;
    // two poll periods: a page still polling would have asked by then (a loaded machine only makes asks later)
    await page.waitForTimeout(11_000);
    expect(conditional.length).toBe(before);
    // the Refresh button still works
    await page.click('#refresh');
    await expect.poll(() => conditional.length).toBe(before + 1);
    files.write('app_flow', [{ op: 'replace', domain: 'app_states', items: data.apps }]);
    expect(realErrors(errors)).toEqual([BLOCKED_STREAM_LINE]);
    await page.context().close();
  });

  it('a failing source shows its warning (its error as text), and the warning goes once it recovers', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard-app`);
    expect(await page.locator('#warning').isHidden()).toBe(true);
    files.write('components', { throw: HOSTILE_SOURCE_ERROR });
    try {
      await page.locator('#warning').waitFor({ state: 'visible', timeout: LIVENESS_MS });
      const text = await page.locator('#warning').textContent();
      expect(text).toContain('Components is failing');
      expect(text).toContain(HOSTILE_SOURCE_ERROR);
      expect(await page.locator('#sources [data-source="components"]').getAttribute('data-state')).toBe('failing');
      expect(await page.locator('svg').count()).toBe(0);
      expect(await pwned(page)).toBeUndefined();
      // the same on the main dashboard
      const other = await openPage(env.browser);
      await loaded(other.page, `${root()}/dashboard`);
      expect(await other.page.locator('#warning').isVisible()).toBe(true);
      // its markup shown as text there too, not as an element
      expect(await other.page.locator('#warning').textContent()).toContain(HOSTILE_SOURCE_ERROR);
      expect(await other.page.locator('svg').count()).toBe(0);
      expect(await pwned(other.page)).toBeUndefined();
      await other.page.screenshot({ path: screenshotPath('dashboard-failing-source') });
      expect(other.errors).toEqual([]);
      await other.page.context().close();
    } finally {
      files.writeAll(data);
    }
    await page.locator('#warning').waitFor({ state: 'hidden', timeout: LIVENESS_MS });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  /**
   * Dave's app `name` listed beside the fixture's apps as `states` say, one after the other, each once the one
   * before is in its history; then `look`; after it, the fixture back and the app gone.
   */
  async function daveAppThrough(name: string, states: AppFlowState[], look: () => Promise<void>): Promise<void> {
    const entries = async () => {
      const r = await fetch(`${root()}/apps/dave/market.olares/${name}/history`);
      return r.status === 200 ? ((await r.json()) as { data: { entries: unknown[] } }).data.entries.length : 0;
    };
    try {
      for (const [i, state] of states.entries()) {
        files.write('app_flow', [{ op: 'replace', domain: 'app_states', items: [...data.apps, state] }]);
        await expect.poll(entries, { timeout: LIVENESS_MS }).toBe(i + 1);
      }
      await look();
    } finally {
      files.writeAll(data);
      await expect.poll(async () => (await fetch(`${root()}/apps/dave/market.olares/${name}`)).status, { timeout: LIVENESS_MS }).toBe(404);
    }
  }

  it('/dashboard-app: a stalled app\'s badge counts from the stall, and its Stuck line names the last change, as text', async () => {
    const MIN = 60_000;
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
    // installing for 20 min (under the stage's 30 min), its reported progress moved 14 min ago and not since
    const stalled = (progress: string, movedAgo: number, detail: string): AppFlowState => ({
      app_id: 'stalled-app', app_name: 'stalled-app', user_id: 'dave', source_id: 'market.olares', stage: 'installing',
      health: 'unknown', stage_detail: detail, last_update: ago(movedAgo), stage_since: ago(20 * MIN), metadata: { status: { progress } },
    });
    await daveAppThrough('stalled-app', [stalled('10', 20 * MIN, 'downloading'), stalled('12', 14 * MIN, `downloading ${HOSTILE_ERROR}`)], async () => {

      const { page, errors } = await openPage(env.browser);
      await loaded(page, `${root()}/dashboard-app`);
      const row = page.locator('#flow-table tbody tr', { hasText: 'stalled-app' });
      // since the progress stalled (14 min), not since the stage began (20 min)
      const badge = row.locator('.stuck-badge');
      await expect.poll(() => badge.textContent(), { timeout: LIVENESS_MS }).toMatch(/^stuck 1[45]m/);
      // and it counts on with the page's other ages, a second per second, with nothing downloaded
      // from the store's stuck_since: when the progress stalled
      const since = Date.parse((await badge.getAttribute('data-age-since'))!);
      expect(Date.now() - since).toBeGreaterThan(13 * MIN);
      expect(Date.now() - since).toBeLessThan(16 * MIN);
      const shown = new Set<string>();
      await expect.poll(async () => shown.add((await badge.textContent()) ?? '').size, { timeout: LIVENESS_MS }).toBeGreaterThanOrEqual(2);
      await row.getByRole('button', { name: 'details' }).click();
      const line = page.locator('#flow-table tr.detail .stuck-line');
      await expect.poll(() => line.textContent(), { timeout: LIVENESS_MS }).toContain('last change');
      const text = (await line.textContent())!;
      // the server's verdict, then when the last change was and what moved, the upstream detail as literal text
      expect(text).toMatch(/^installing, progress 12 % since (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC — last change \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(1[45]m \d+s ago\): /);
      expect(await line.locator('.last-change [data-age-since]').textContent()).toMatch(/^1[45]m \d+s ago$/);
      expect(text).toContain(`progress 10 % → 12 %, detail: downloading ${HOSTILE_ERROR} (poll user_application_states)`);
      expect(await pwned(page)).toBeUndefined();
      expect(errors).toEqual([]);
      await page.context().close();
    });
  });

  it('/dashboard-app: an install canceled and begun again in the same stage shows in its timeline as a new operation, as text', async () => {
    const retried = (op: string, updated: string): AppFlowState => ({
      app_id: 'retried-app', app_name: 'retried-app', user_id: 'dave', source_id: 'market.olares', stage: 'installing',
      health: 'unknown', stage_detail: 'downloading', last_update: updated, stage_since: updated, metadata: { status: { opID: op, progress: '5' } },
    });
    // the new operation's id is the source's: markup in it stays text
    const op = `op-2 ${HOSTILE_ERROR}`;
    await daveAppThrough('retried-app', [retried('op-1', new Date(Date.now() - 60_000).toISOString()), retried(op, new Date().toISOString())], async () => {

      const { page, errors } = await openPage(env.browser);
      await loaded(page, `${root()}/dashboard-app`);
      await page.locator('#flow-table tr', { hasText: 'retried-app' }).getByRole('button', { name: 'details' }).click();
      const lines = page.locator('#flow-table tr.detail .timeline li');
      await expect.poll(() => lines.count(), { timeout: LIVENESS_MS }).toBe(2);
      expect(await lines.nth(1).textContent()).toContain(`installing · unknown · progress 5 % — downloading · new operation ${op} (poll user_application_states)`);
      expect(await lines.nth(0).textContent()).not.toContain('new operation');
      expect(await pwned(page)).toBeUndefined();
      expect(errors).toEqual([]);
      await page.context().close();
    });
  });
});

describeWith('chromium', 'dashboards at 3,000 apps', () => {
  const N = 3_000;
  const files = new FixtureFiles();
  const dataset = largeDataset(N);
  const env = dashboardsOn(files, () => dataset);
  /** every API request the page makes (the URL without the origin) */
  const recorded = (page: Page) => {
    const urls: string[] = [];
    page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname.startsWith('/api/')) urls.push(u.pathname + u.search); });
    return urls;
  };
  const wholeState = (urls: string[]) => urls.filter((u) => /\/state$/.test(u) || (/\/events/.test(u) && !u.includes('view=summary')));

  it('/dashboard: the first page of apps from …/apps, never the whole state; next page; a change shows on the visible page', async () => {
    const { page, errors } = await openPage(env.browser);
    const urls = recorded(page);
    await loaded(page, `${env.sidecar.base}/api/v2/runtime/dashboard`);
    expect(await page.locator('#summary [data-key="total_apps"] .card-value').textContent()).toBe('3,000');
    expect(await rowCount(page, '#apps-table')).toBe(50);
    expect(await page.locator('#apps-table .pager-info').textContent()).toContain('of 3,000');
    // key order: user0's apps first
    expect(await page.locator('#apps-table tbody tr').first().textContent()).toContain('user0');
    // Next under the table: the new page's first rows come into view (not its last ones)
    await page.locator('#apps-table .pager-next').scrollIntoViewIfNeeded();
    const tableTop = () => page.locator('#apps-table table').evaluate((t) => t.getBoundingClientRect().top);
    expect(await tableTop()).toBeLessThan(0);
    await page.click('#apps-table .pager-next');
    await expect.poll(() => page.locator('#apps-table .pager-info').textContent()).toContain('51–100 of 3,000');
    expect(await tableTop()).toBeGreaterThanOrEqual(-1);
    await page.click('#apps-table .pager-prev');
    await expect.poll(() => page.locator('#apps-table .pager-info').textContent()).toContain('1–50 of 3,000');

    // a new version: the first app on the page changes, and the page shows it without a reload
    const first = [...dataset.apps].sort((a, b) => (appKey(a) < appKey(b) ? -1 : 1))[0]!;
    files.write('app_flow', [{ op: 'replace', domain: 'app_states', items: dataset.apps.map((a) => (a === first ? { ...a, stage_detail: 'changed while watched' } : a)) }]);
    await page.getByText('changed while watched').waitFor({ timeout: LIVENESS_MS });
    expect((await stats(page)).renders).toBeGreaterThanOrEqual(2);

    await page.fill('#f-app', first.app_name);
    await expect.poll(() => rowCount(page, '#apps-table')).toBe(1);
    expect(wholeState(urls)).toEqual([]);
    expect(urls.some((u) => u.includes('/events?view=summary'))).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('/dashboard-app: a page of flows from …/apps?include=chart_repo, never the whole state, and filtering lands', async () => {
    const { page, errors } = await openPage(env.browser);
    const urls = recorded(page);
    await loaded(page, `${env.sidecar.base}/api/v2/runtime/dashboard-app`);
    expect(await rowCount(page, '#flow-table')).toBe(50);
    expect(await page.locator('#summary [data-key="total"] .card-value').textContent()).toBe('3,000');
    await page.fill('#f-app', 'app-00996');
    await expect.poll(() => rowCount(page, '#flow-table'), { interval: 20 }).toBe(1);
    // app-00996 has Chart Repo app 498 (every other app has one): failed at ImageAnalysisStep
    await expect.poll(() => page.locator('#flow-table li.step[data-step="ImageAnalysisStep"]').getAttribute('data-status')).toBe('failed');
    expect(wholeState(urls)).toEqual([]);
    expect(urls.some((u) => u.includes('include=chart_repo'))).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
