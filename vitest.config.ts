import { defineConfig } from 'vitest/config';
import { LIVENESS_MS } from './test/helpers/liveness.ts';

const shared = {
  // above the liveness bound: a test waiting on something that never comes fails with its own message
  testTimeout: 2 * LIVENESS_MS,
  // expect.poll waits like eventually(): a liveness bound, not vitest's 1 s default
  expect: { poll: { timeout: LIVENESS_MS } },
  hookTimeout: 3 * LIVENESS_MS,
  // each file gets its own process: suites start real threads, servers and embedded databases
  pool: 'forks' as const,
  // every /state a suite fetches is checked as a Go client decodes it (issue 19)
  setupFiles: ['./test/setup/go-wire-fetch.ts'],
};

export default defineConfig({
  test: {
    // vitest's own report, then one plain line "N passed, N failed, N skipped" and the skipped suites with reasons
    reporters: ['default', './test/reporter/summary.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/browser/**'],
          // two cores: more parallel files only makes the thread-heavy suites slower
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // chromium is heavy: the browser suites run last and one at a time (their times: npm run bench:dashboard)
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
