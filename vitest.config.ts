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
    ],
  },
});
