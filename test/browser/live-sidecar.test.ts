import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { AppFlowState } from '../../src/model/index.ts';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { describeWith } from '../helpers/services.ts';
import { eventually, startInProcess, untilReady } from '../helpers/sidecar.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { launch, loaded, openPage, pwned, stats } from './browser.ts';
import { FixtureFiles, fixtureApp, smallDataset, type Dataset } from './fixtures.ts';

/**
 * The dashboards on a live sidecar: a page opened through a proxy that plays a restart or a Service switching
 * replicas (`retarget`) or a sidecar that is gone. Two sidecars with different data stand for the two stores;
 * a restarted store or another replica numbers its versions apart from the one the page first read.
 * Needs chromium (test/helpers/services.ts).
 */

type Sidecar = Awaited<ReturnType<typeof startInProcess>>;

const app = (name: string): AppFlowState => fixtureApp('erin', 'market.olares', name, { last_update: new Date().toISOString() });

const base = smallDataset();
/** sidecar A's market */
const dataA: Dataset = { ...base, apps: [...base.apps, app('only-on-a')] };
/** sidecar B's: its own app, bob's Chart Repo nextcloud failed, alice's firefox stopped */
const dataB: Dataset = {
  ...base,
  apps: [...base.apps.map((a) => (a.app_name === 'firefox' ? { ...a, stage: 'stopped' as const, stage_detail: 'stopped on b' } : a)), app('only-on-b')],
  chartRepo: { ...base.chartRepo, apps: (base.chartRepo.apps ?? []).map((a) => (a.app_name === 'nextcloud' ? { ...a, state: 'failed' } : a)) },
};

/** The page's errors but the requests the proxy cut (what a restart or an outage does to a page's requests). */
const pageErrors = (errors: string[]) => errors.filter((e) => !e.startsWith('requestfailed:') && !/Failed to load resource/.test(e));

describeWith('chromium', 'dashboards on a live sidecar: restarts, replicas, outages', () => {
  const filesA = new FixtureFiles();
  const filesB = new FixtureFiles();
  let a: Sidecar;
  let b: Sidecar;
  let proxy: TcpProxy;
  let browser: Browser;
  const root = () => `${proxy.base}/api/v2/runtime`;
  const portOf = (s: Sidecar) => Number(new URL(s.base).port);

  const versionOf = async (s: Sidecar): Promise<number> =>
    ((await (await s.get('/api/v2/runtime/overview')).json()) as { data: { version: number } }).data.version;
  /** A quiet sidecar's version: the same twice, a few passes apart. */
  const settled = (s: Sidecar) => eventually(async () => {
    const v = await versionOf(s);
    await new Promise((r) => setTimeout(r, 600));
    if (await versionOf(s) !== v) throw new Error('still moving');
    return v;
  });
  /** Mints versions on `s` (a task's result moves) until it is at `target`. */
  let ticks = 0;
  const bump = async (s: Sidecar, files: FixtureFiles, d: Dataset, target: number) => {
    for (let v = await settled(s); v < target; v = await settled(s)) {
      ticks++;
      files.write('tasks', [{ op: 'replace', domain: 'tasks', items: d.tasks.map((t, i) => (i === 0 ? { ...t, result: `tick ${ticks}` } : t)) }]);
      await eventually(async () => { if (await versionOf(s) <= v) throw new Error('no new version yet'); });
    }
    return settled(s);
  };

  beforeAll(async () => {
    filesA.writeAll(dataA);
    filesB.writeAll(dataB);
    a = await startInProcess(filesA.collectors(), { intervalMs: 200 });
    b = await startInProcess(filesB.collectors(), { intervalMs: 200 });
    await untilReady(a.base);
    await untilReady(b.base);
    proxy = await startTcpProxy(portOf(a));
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await a?.sup.stop();
    await b?.sup.stop();
  });
  /** the proxy now sends the page to `s` (its open connections cut) */
  const to = (s: Sidecar) => proxy.retarget(portOf(s));
  afterEach(() => {
    filesA.writeAll(dataA);
    to(a);
  });

  it('a page follows a restarted sidecar or another replica that numbers its versions lower (judged by content and epoch, not numbers)', async () => {
    for (const p of ['dashboard', 'dashboard-app']) {
      to(a);
      const vB = await settled(b);
      // the page's store is well ahead of the next one in numbers
      const vA = await bump(a, filesA, dataA, vB + 5);
      expect(vA).toBeGreaterThan(vB);
      const { page, errors } = await openPage(browser);
      await loaded(page, `${root()}/${p}`);
      await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
      await page.getByText('only-on-a', { exact: true }).waitFor({ timeout: LIVENESS_MS });
      expect(await page.locator('#snapshot-version').textContent()).toBe(`v${vA}`);

      to(b);
      // B's market, and B's version number, replace A's: a lower number is no reason to keep what A said
      await page.getByText('only-on-b', { exact: true }).waitFor({ timeout: LIVENESS_MS });
      await expect.poll(() => page.locator('#snapshot-version').textContent(), { timeout: LIVENESS_MS }).toBe(`v${vB}`);
      expect(await page.getByText('only-on-a', { exact: true }).count()).toBe(0);
      await expect.poll(() => page.locator('#mode').textContent(), { timeout: LIVENESS_MS }).toBe('live stream');
      expect(pageErrors(errors)).toEqual([]);
      await page.context().close();
    }
  });

  it('Chart Repo lists and an open timeline are read again from the new sidecar, even at the same version number', async () => {
    // the two stores at one version number, with different content
    const same = Math.max(await settled(a), await settled(b));
    expect(await bump(a, filesA, dataA, same)).toBe(same);
    expect(await bump(b, filesB, dataB, same)).toBe(same);

    const { page, errors } = await openPage(browser);
    await loaded(page, `${root()}/dashboard`);
    await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
    await page.click('#cr-tabs [data-tab="apps"]');
    await page.fill('#f-cr-user', 'bob');
    const nextcloud = page.locator('#cr-apps-table tbody tr', { hasText: 'nextcloud' }).locator('.badge').first();
    await expect.poll(() => nextcloud.textContent(), { timeout: LIVENESS_MS }).toBe('completed');
    expect(await page.locator('#snapshot-version').textContent()).toBe(`v${same}`);
    to(b);
    await page.getByText('only-on-b', { exact: true }).waitFor({ timeout: LIVENESS_MS });
    expect(await page.locator('#snapshot-version').textContent()).toBe(`v${same}`);
    await expect.poll(() => nextcloud.textContent(), { timeout: LIVENESS_MS }).toBe('failed');
    expect(pageErrors(errors)).toEqual([]);
    await page.context().close();

    to(a);
    const flow = await openPage(browser);
    await loaded(flow.page, `${root()}/dashboard-app`);
    await expect.poll(() => flow.page.locator('#mode').textContent()).toBe('live stream');
    await flow.page.fill('#f-app', 'firefox');
    await expect.poll(() => flow.page.locator('#flow-table tbody tr:not(.detail)').count(), { timeout: LIVENESS_MS }).toBe(1);
    await flow.page.locator('#flow-table tr', { hasText: 'firefox' }).getByRole('button', { name: 'details' }).click();
    const timeline = flow.page.locator('#flow-table tr.detail .timeline');
    await expect.poll(() => timeline.locator('li').count(), { timeout: LIVENESS_MS }).toBeGreaterThan(0);
    expect(await timeline.textContent()).not.toContain('stopped');
    to(b);
    // B's timeline of firefox, read from B once the page follows it
    await expect.poll(() => timeline.textContent(), { timeout: LIVENESS_MS }).toContain('stopped on b');
    expect(await flow.page.locator('#snapshot-version').textContent()).toBe(`v${same}`);
    expect(pageErrors(flow.errors)).toEqual([]);
    await flow.page.context().close();
  });

  it('after the stream reconnects on a quiet market, ages still count on the server\'s clock (a snapshot\'s old time is not "now")', async () => {
    // the page's clock estimate may be replaced after 1 s (a minute by default): the market is quiet far longer
    const CLOCK_WINDOW_MS = 1000;
    const QUIET_MS = 12_000;
    // a page on the snapshot's clock would be off by the whole quiet time: half of it tells the two apart on a
    // busy machine too (a render late by seconds)
    const SKEW_S = QUIET_MS / 2000;
    const { page, errors } = await openPage(browser);
    await page.addInitScript((w) => { (window as unknown as { __runtimeDashboardOptions: object }).__runtimeDashboardOptions = { clockWindowMs: w }; }, CLOCK_WINDOW_MS);
    await loaded(page, `${root()}/dashboard`);
    await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
    const badge = page.locator('#apps-table tbody tr', { hasText: 'nextcloud' }).locator('.stuck-badge');
    await badge.waitFor({ timeout: LIVENESS_MS });
    const since = Date.parse((await badge.getAttribute('data-age-since'))!);
    expect(Number.isFinite(since)).toBe(true);
    /** the badge's age against the true one (this process shares the page's and the sidecar's clock), in s */
    const skew = async () => {
      const m = /^stuck (\d+)m (\d+)s$/.exec((await badge.textContent()) ?? '');
      if (!m) return Number.NaN;
      return Number(m[1]) * 60 + Number(m[2]) - (Date.now() - since) / 1000;
    };
    expect(Math.abs(await skew())).toBeLessThan(SKEW_S);
    // the market stays quiet: its version's time (the last content change) falls well behind the clock
    const versionTime = async () => Date.parse(((await (await a.get('/api/v2/runtime/overview')).json()) as { data: { timestamp: string } }).data.timestamp);
    await expect.poll(async () => Date.now() - await versionTime(), { timeout: QUIET_MS + LIVENESS_MS, interval: 500 }).toBeGreaterThan(QUIET_MS);
    const before = (await stats(page)).snapshots;
    // the connections cut and restored: the stream reconnects and starts with a snapshot of the quiet version
    proxy.retarget(portOf(a));
    await expect.poll(async () => (await stats(page)).snapshots, { timeout: LIVENESS_MS }).toBeGreaterThan(before);
    await expect.poll(() => page.locator('#mode').textContent(), { timeout: LIVENESS_MS }).toBe('live stream');
    // the next tick of the ages (once a second) shows them on the clock the page holds now
    const shown = await badge.textContent();
    await expect.poll(() => badge.textContent(), { timeout: LIVENESS_MS }).not.toBe(shown);
    expect(Math.abs(await skew())).toBeLessThan(SKEW_S);
    expect(pageErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('the warning banner\'s ages tick every second on their own, with no event, read or render', async () => {
    const { page, errors } = await openPage(browser);
    await loaded(page, `${root()}/dashboard`);
    filesA.write('chart_repo', { throw: 'chart repo unreachable' });
    await expect.poll(() => page.locator('#warning').textContent(), { timeout: LIVENESS_MS }).toContain('Chart Repo is failing');
    // paused: no stream, no polls, so no render and no new freshness from here on
    await page.uncheck('#auto');
    const age = page.locator('#warning li[data-source="chart_repo"] .banner-age');
    const first = await age.textContent();
    expect(first).toMatch(/ ago$/);
    const before = await stats(page);
    await expect.poll(() => age.textContent(), { timeout: LIVENESS_MS }).not.toBe(first);
    const after = await stats(page);
    expect(after.renders).toBe(before.renders);
    expect(after.fetches).toBe(before.fetches);
    expect(pageErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('while the sidecar does not answer, the pages say since when they have no data, and stop once it answers again', async () => {
    for (const p of ['dashboard', 'dashboard-app']) {
      const { page, errors } = await openPage(browser);
      await loaded(page, `${root()}/${p}`);
      await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
      const offline = page.locator('#offline');
      expect(await offline.isHidden()).toBe(true);

      proxy.retarget(null);
      await offline.waitFor({ state: 'visible', timeout: LIVENESS_MS });
      expect(await offline.textContent()).toMatch(/No data from the sidecar since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+s ago\)/);
      // its age moves on while nothing answers
      const age = offline.locator('.offline-age');
      const first = await age.textContent();
      await expect.poll(() => age.textContent(), { timeout: LIVENESS_MS }).not.toBe(first);
      expect(await offline.isVisible()).toBe(true);

      to(a);
      await offline.waitFor({ state: 'hidden', timeout: LIVENESS_MS });
      expect(await offline.textContent()).toBe('');
      expect(await pwned(page)).toBeUndefined();
      expect(pageErrors(errors)).toEqual([]);
      await page.context().close();
    }
  });

  it('a sidecar that stops answering without closing anything (frozen; a connection left half-open): the pages say so, and follow it again once it answers', async () => {
    for (const p of ['dashboard', 'dashboard-app']) {
      const { page, errors } = await openPage(browser);
      // shorter than the defaults (a minute of silence, half a minute per read) so the test runs in seconds
      await page.addInitScript(() => {
        (window as unknown as { __runtimeDashboardOptions: object }).__runtimeDashboardOptions = { streamSilenceMs: 3000, readTimeoutMs: 2000 };
      });
      await loaded(page, `${root()}/${p}`);
      await expect.poll(() => page.locator('#mode').textContent()).toBe('live stream');
      const offline = page.locator('#offline');
      expect(await offline.isHidden()).toBe(true);

      // nothing is closed: the stream goes silent and every read waits for an answer that does not come
      proxy.stall();
      try {
        await offline.waitFor({ state: 'visible', timeout: LIVENESS_MS });
        expect(await offline.textContent()).toMatch(/No data from the sidecar since .* \(it does not answer: no answer in 2 s\)/);
      } finally {
        proxy.resume();
      }
      await offline.waitFor({ state: 'hidden', timeout: LIVENESS_MS });
      // and it is live again: a change on the sidecar shows
      filesA.writeAll({ ...dataA, apps: [...dataA.apps, app('after-the-freeze')] });
      await page.getByText('after-the-freeze', { exact: true }).waitFor({ timeout: LIVENESS_MS });
      expect(await pwned(page)).toBeUndefined();
      expect(pageErrors(errors)).toEqual([]);
      await page.context().close();
    }
  });

  it('the summary cards fill their rows evenly: equal widths, rows as full as each other, the first row the grid\'s width', async () => {
    for (const width of [1440, 1100, 700]) {
      for (const p of ['dashboard', 'dashboard-app']) {
        const { page, errors } = await openPage(browser, { width, height: 900 });
        await loaded(page, `${a.base}/api/v2/runtime/${p}`);
        const layout = await page.evaluate(() => {
          const grid = document.getElementById('summary')!.getBoundingClientRect();
          const cards = [...document.querySelectorAll('#summary .card')].map((c) => c.getBoundingClientRect());
          return { grid: { left: grid.left, right: grid.right }, cards: cards.map((r) => ({ top: Math.round(r.top), left: r.left, right: r.right, width: r.width })) };
        });
        const what = `${p} at ${width}px: ${JSON.stringify(layout)}`;
        expect(layout.cards.length, what).toBeGreaterThanOrEqual(6);
        const widths = layout.cards.map((c) => c.width);
        expect(Math.max(...widths) - Math.min(...widths), what).toBeLessThanOrEqual(1);
        const byTop = new Map<number, typeof layout.cards>();
        for (const c of layout.cards) byTop.set(c.top, [...(byTop.get(c.top) ?? []), c]);
        const rows = [...byTop.values()];
        const counts = rows.map((r) => r.length);
        expect(Math.max(...counts) - Math.min(...counts), what).toBeLessThanOrEqual(1);
        expect(Math.abs(rows[0]![0]!.left - layout.grid.left), what).toBeLessThanOrEqual(1);
        expect(Math.abs(rows[0]!.at(-1)!.right - layout.grid.right), what).toBeLessThanOrEqual(1);
        expect(pageErrors(errors)).toEqual([]);
        await page.context().close();
      }
    }
  });
});
