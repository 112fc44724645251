import { expect, it } from 'vitest';
import { LIVENESS_MS } from '../helpers/liveness.ts';
import { describeWith } from '../helpers/services.ts';
import { dashboardsOn, loaded, openPage, pwned, realErrors } from './browser.ts';
import {
  FixtureFiles, INHERITED_NAME_STATUSES, UNFAMILIAR_APP_STATE, UNFAMILIAR_IMAGE_STATUS, UNFAMILIAR_STEP_STATUS, smallDataset, withUnfamiliarValues,
} from './fixtures.ts';

/**
 * A Chart Repo app state or image status the pages have never seen is kept by the sidecar (as Go keeps any
 * string, docs/go-wire.md): both dashboards show it as sent, as text, counted with the others.
 * Needs chromium (test/helpers/services.ts).
 */
describeWith('chromium', 'unfamiliar Chart Repo values in the dashboards', () => {
  const files = new FixtureFiles();
  const data = withUnfamiliarValues(smallDataset());
  const env = dashboardsOn(files, () => data);
  const root = () => `${env.sidecar.base}/api/v2/runtime`;

  it('/dashboard counts and lists an unfamiliar app state, step status and image status as text', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard`);

    await page.click('#cr-tabs [data-tab="apps"]');
    await expect.poll(() => page.locator('#cr-apps-note').textContent(), { timeout: LIVENESS_MS }).toContain(`1 ${UNFAMILIAR_APP_STATE}`);
    await page.fill('#f-cr-user', 'alice');
    const row = page.locator('#cr-apps-table tbody tr', { hasText: 'firefox' });
    await expect.poll(() => row.count(), { timeout: LIVENESS_MS }).toBe(1);
    expect(await row.locator('.badge').allTextContents()).toEqual([UNFAMILIAR_APP_STATE, UNFAMILIAR_STEP_STATUS]);
    // its times were left out (Go's zero time on the wire): no time, not the year 1
    expect(await row.locator('td').last().textContent()).toBe('—');
    // the markup in the step status is text, not an element
    expect(await page.locator('#cr-apps-table b').count()).toBe(0);

    await page.click('#cr-tabs [data-tab="images"]');
    await expect.poll(() => page.locator('#images-note').textContent(), { timeout: LIVENESS_MS }).toContain(`1 ${UNFAMILIAR_IMAGE_STATUS}`);
    await page.fill('#f-img', 'firefox');
    const image = page.locator('#images-table tbody tr', { hasText: 'firefox:128' });
    await expect.poll(() => image.count(), { timeout: LIVENESS_MS }).toBe(1);
    expect(await image.locator('.badge').first().textContent()).toBe(UNFAMILIAR_IMAGE_STATUS);

    expect(await pwned(page)).toBeUndefined();
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('/dashboard-app reads a hydrator status named like an inherited property ("constructor", "__proto__") as unknown', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard-app`);
    await page.fill('#f-user', 'dave');
    const chips = page.locator('#flow-table tbody tr li.step[data-step="Market Hydration"]');
    await expect.poll(() => chips.count(), { timeout: LIVENESS_MS }).toBe(INHERITED_NAME_STATUSES.length);
    for (let i = 0; i < INHERITED_NAME_STATUSES.length; i++) {
      const chip = chips.nth(i);
      expect(await chip.getAttribute('data-status')).toBe('unknown');
      expect(await chip.getAttribute('title')).toBe('Market Hydration: unknown');
      expect(await chip.getAttribute('class')).toBe('step st-unknown');
    }
    expect(await page.locator('#flow-table').textContent()).not.toMatch(/native code|\[object Object\]/);
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });

  it('/dashboard-app shows the app\'s unfamiliar Chart Repo state in its details, as text', async () => {
    const { page, errors } = await openPage(env.browser);
    await loaded(page, `${root()}/dashboard-app`);
    await page.fill('#f-app', 'firefox');
    const row = page.locator('#flow-table tbody tr', { hasText: 'firefox' });
    await expect.poll(() => row.count(), { timeout: LIVENESS_MS }).toBe(1);
    await row.getByRole('button', { name: 'details' }).click();
    const detail = page.locator('#flow-table tr.detail');
    // the state's markup is there as text (it is the only upstream markup this page shows), not as an element
    await expect.poll(() => detail.textContent(), { timeout: LIVENESS_MS }).toContain(`Chart Repo state${UNFAMILIAR_APP_STATE}`);
    expect(await page.locator('#flow-table b').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
    expect(realErrors(errors)).toEqual([]);
    await page.context().close();
  });
});
