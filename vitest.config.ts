import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds dist/ from the current src/ before any test (the CLI tests run bin/legate.js → dist/), and owns the run's temp root.
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup-temp.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
