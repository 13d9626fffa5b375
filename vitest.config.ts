import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit` runs in this process against src/ (`npm run test:unit`, the inner loop, well
 * under a minute); `e2e` holds every file that starts processes or services: the built CLI
 * (`runCli`/`startCli`), tmux, Chromium, a private redis-server, workers and ACP/MCP peers, and the
 * reliability suite. A file is e2e when its source says so (the pattern below), so a test that starts
 * a process lands there by itself. `npm test` runs both.
 */
const root = import.meta.dirname;
const startsProcesses = /\b(startCli|runCli)\b|helpers\/(tmux|browser|redis)\.js|node:child_process|(acp-harness|shared-nodes)\.js/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const all = testFiles(join(root, 'test'));
const e2e = all.filter(
  (file) =>
    file.startsWith('test/reliability/') ||
    file.startsWith('test/pack/') ||
    file.startsWith('test/acp/') ||
    startsProcesses.test(readFileSync(join(root, file), 'utf8')),
);
const unit = all.filter((file) => !e2e.includes(file));

export default defineConfig({
  test: {
    // Builds dist/ from the current src/ before any test (the CLI tests run bin/legate.js → dist/), and owns the run's temp root.
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/setup-temp.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Three on two cores: most e2e time is spent waiting on child processes, timers and scripted latency.
    maxWorkers: 3,
    projects: [
      // Unit files share their worker's modules (no re-import per file): 105 s → 33 s for the project. A unit
      // test leaves no module state behind that another reads (temp dirs, servers and stores are its own).
      { extends: true, test: { name: 'unit', include: unit, isolate: false } },
      { extends: true, test: { name: 'e2e', include: e2e } },
    ],
  },
});
