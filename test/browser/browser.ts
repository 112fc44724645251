import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { CHROMIUM_PATH } from '../helpers/services.ts';
import { LIVENESS_MS, startInProcess, untilReady } from '../helpers/sidecar.ts';
import type { Dataset, FixtureFiles } from './fixtures.ts';

const OUTPUT_DIR = new URL('../../test-output/', import.meta.url).pathname;

/**
 * Debian's chromium (never a downloaded browser; CHROMIUM_PATH overrides), with launch flags known to work in
 * containers and CI sandboxes (no sandbox, no GPU, no background traffic). Suites that call this are declared
 * with describeWith('chromium', ...).
 */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records console errors, page errors and failed requests (CSP violations show up as console errors). */
export async function openPage(browser: Browser, viewport = { width: 1440, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return { page, errors };
}

export function screenshotPath(name: string): string {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  return `${OUTPUT_DIR}${name}.png`;
}

/**
 * The page's errors without chromium's note of an aborted change-stream request: closing an EventSource
 * (falling back to polling, leaving) while its request is in flight is how the page is meant to work.
 */
export const realErrors = (errors: string[]) => errors.filter((e) => !/^requestfailed: \S+\/events\S* net::ERR_ABORTED/.test(e));

/** Set by the hostile fixtures' payloads if any of them ever runs. */
export const pwned = (page: Page) => page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);

/** Rows of the visible page of a table (detail and "nothing here" rows excluded). */
export function rowCount(page: Page, container: string): Promise<number> {
  return page.locator(`${container} tbody tr:not(.detail):not(.empty)`).count();
}

/** Opens a dashboard and waits for its first render. */
export async function loaded(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => ((window as unknown as { __runtimeDashboard?: { renders?: number } }).__runtimeDashboard?.renders ?? 0) > 0, null, { timeout: LIVENESS_MS });
}

/**
 * A sidecar fed by fixture files (by default a pass every 200 ms; a version only when a file's content changed) and a chromium, for the
 * duration of the enclosing describe. Read `sidecar` and `browser` inside tests, after beforeAll ran.
 */
export function dashboardsOn(files: FixtureFiles, dataset: () => Dataset, intervalMs = 200) {
  const ctx = {
    browser: null as unknown as Browser,
    sidecar: null as unknown as Awaited<ReturnType<typeof startInProcess>>,
  };
  beforeAll(async () => {
    files.writeAll(dataset());
    ctx.sidecar = await startInProcess(files.collectors(), { intervalMs });
    await untilReady(ctx.sidecar.base);
    ctx.browser = await launch();
  });
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.sidecar?.sup.stop();
  });
  return ctx;
}

/** The counters a dashboard page keeps for tests (src/http/dashboard/live-state.js, window.__runtimeDashboard). */
export interface Stats {
  fetches: number; notModified: number; renders: number; errors: number;
  firstRenderMs: number | null; lastRenderMs: number | null; version: number | null;
  mode: string; snapshots: number; changes: number; streamOpens: number; fallbacks: number; fallbackReason: string | null;
  freshness: number;
}

/** The page's counters now. */
export const stats = (page: Page): Promise<Stats> => page.evaluate(() => (window as unknown as { __runtimeDashboard: Stats }).__runtimeDashboard);
