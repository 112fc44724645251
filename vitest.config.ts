import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // each file gets its own process: suites start real threads, servers and embedded databases
    pool: 'forks',
    // two cores: more parallel files only makes the thread-heavy suites slower
    maxWorkers: 2,
  },
});
