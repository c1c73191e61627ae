import { defineConfig } from 'vitest/config';

// Three projects: `unit` (pure, fast, beside the code), `integration` (real regtest
// Lightning network, started once by its global setup) and `e2e` (Debian Chromium with
// the built extension loaded, plus the regtest network).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'server/**/*.test.ts', 'scripts/**/*.test.ts', 'test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        // Integration and browser tests share ONE regtest network started by the global setup.
        test: {
          name: 'regtest',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // A browser, a service worker and a Lightning network answer in their own time, slower under CI
          // load: a poll waits up to 15 s (it returns as soon as the condition holds) instead of vitest's 1 s.
          expect: { poll: { timeout: 15_000 } },
        },
      },
    ],
  },
});
