import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { LIVENESS_MS } from './liveness.ts';

/**
 * The one place that decides whether a suite needing a real service runs, fails or is skipped.
 *
 * - The service is there: the suite runs.
 * - It is missing in CI (CI set, not "false"/"0"): the suite fails with the reason. CI must run everything.
 * - It is missing elsewhere (a laptop): the suite is skipped. The skip is printed with the suite and the reason
 *   when the file loads, and listed again at the end of `npm test` (test/reporter/summary.ts reads the reason
 *   from the suite's meta).
 */

declare module 'vitest' {
  interface TaskMeta {
    /** why this suite or test was skipped (set only by this helper) */
    skipReason?: string;
  }
}

export type Service = 'chromium' | 'go' | 'nats-server' | 'nats' | 'postgres' | 'promtool' | 'linux';

export interface ServiceCheck {
  service: Service;
  available: boolean;
  /** what was found, or what is missing and how to get it */
  detail: string;
}

const ciValue = process.env.CI ?? '';
/** CI=true (any value but "", "false", "0"): every service is required. */
export const CI = ciValue !== '' && ciValue !== 'false' && ciValue !== '0';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const NATS_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
export const PROMTOOL_PATH = process.env.PROMTOOL_PATH || '/usr/bin/promtool';
export const GO_BIN = process.env.GO_BIN || '/usr/bin/go';

export function check(service: Service): ServiceCheck {
  switch (service) {
    case 'chromium':
      return existsSync(CHROMIUM_PATH)
        ? { service, available: true, detail: `chromium at ${CHROMIUM_PATH}` }
        : { service, available: false, detail: `no chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)` };
    case 'go':
      return existsSync(GO_BIN)
        ? { service, available: true, detail: `go at ${GO_BIN}` }
        : { service, available: false, detail: `no go at ${GO_BIN} (apt-get install -y golang-go, or set GO_BIN)` };
    case 'nats-server':
      return existsSync(NATS_BIN)
        ? { service, available: true, detail: `nats-server at ${NATS_BIN}` }
        : { service, available: false, detail: `no nats-server at ${NATS_BIN} (apt-get install -y nats-server, or set NATS_SERVER_BIN)` };
    case 'nats':
      return process.env.MARKET_NATS_URL
        ? { service, available: true, detail: `NATS at MARKET_NATS_URL` }
        : { service, available: false, detail: 'MARKET_NATS_URL is not set (a running NATS server, e.g. nats://127.0.0.1:4222)' };
    case 'postgres':
      return process.env.MARKET_PG_URL
        ? { service, available: true, detail: 'PostgreSQL at MARKET_PG_URL' }
        : { service, available: false, detail: 'MARKET_PG_URL is not set (a real PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres)' };
    case 'promtool':
      return existsSync(PROMTOOL_PATH)
        ? { service, available: true, detail: `promtool at ${PROMTOOL_PATH}` }
        : { service, available: false, detail: `no promtool at ${PROMTOOL_PATH} (apt-get install -y prometheus, or set PROMTOOL_PATH)` };
    case 'linux':
      return process.platform === 'linux'
        ? { service, available: true, detail: 'Linux' }
        : { service, available: false, detail: `needs Linux (/proc), this is ${process.platform}` };
  }
}

/** The error a suite fails with in CI when its service is missing. */
export function missingInCI(c: ServiceCheck): Error {
  return new Error(`CI is set and ${c.service} is required: ${c.detail}`);
}

/** What happens to a suite needing `service`: run it, fail it (CI) or skip it (with the printed reason). */
function decide(service: Service, name: string): { run: true } | { run: false; fail: Error } | { run: false; skipReason: string } {
  const c = check(service);
  if (c.available) return { run: true };
  if (CI) return { run: false, fail: missingInCI(c) };
  const skipReason = `needs ${service}: ${c.detail}`;
  console.warn(`[skipped] ${name}: ${skipReason}`);
  return { run: false, skipReason };
}

/**
 * A browser test's timeout: its steps are each bounded by a liveness bound (playwright's 30 s an action, LIVENESS_MS a
 * poll), and on a busy machine chromium is slow at every one of them, so one bound for the whole test is too few.
 */
const BROWSER_TEST_MS = 4 * LIVENESS_MS;

/** describe() for a suite that needs a real service (see the top of this file). */
export function describeWith(service: Service, name: string, fn: () => void): void {
  const d = decide(service, name);
  if (d.run) describe(name, service === 'chromium' ? { timeout: BROWSER_TEST_MS } : {}, fn);
  else if ('fail' in d) describe(name, () => { it(`needs ${service}`, () => { throw d.fail; }); });
  // registered, so the skipped tests are counted and listed by name
  else describe(name, { skip: true, meta: { skipReason: d.skipReason } }, fn);
}

/**
 * For a suite that uses `service` where it is there and covers less without it (one collector fewer): whether to
 * use it. Missing in CI, the suite's file fails to load (CI must run everything); elsewhere the loss is printed,
 * and stands as one skipped test named `name`, so the closing summary lists it with the skipped suites.
 */
export function useIfPresent(service: Service, name: string): boolean {
  const c = check(service);
  if (c.available) return true;
  if (CI) throw missingInCI(c);
  const skipReason = `the rest of the file runs without ${service}: ${c.detail}`;
  console.warn(`[partial] ${name}: ${skipReason}`);
  it(name, { skip: true, meta: { skipReason } }, () => {});
  return false;
}

/** it() for one test that needs a real service inside a suite that runs without it. */
export function itWith(service: Service, name: string, fn: () => Promise<void>, timeout?: number): void {
  const d = decide(service, name);
  if (d.run) it(name, fn, timeout);
  else if ('fail' in d) it(name, () => { throw d.fail; });
  else it(name, { skip: true, meta: { skipReason: d.skipReason } }, fn);
}
