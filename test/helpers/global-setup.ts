import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A temporary directory for this run; `test/helpers/setup-temp.ts` makes it every test file's `os.tmpdir()`. */
    legateTempRoot: string;
  }
}

const root = resolve(import.meta.dirname, '../..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/**
 * Bring `dist/` up to date with `src/` (18 test files run the built CLI through `bin/legate.js`).
 * `tsc -b` is incremental: nothing changed costs about a second, one edited file a few.
 */
function build(): void {
  const started = Date.now();
  try {
    execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    throw new Error(`the build of dist/ failed, so the CLI tests would run stale code:\n${output.stdout ?? ''}${output.stderr ?? ''}`);
  }
  const took = Date.now() - started;
  if (took > 5_000) process.stderr.write(`legate: rebuilt dist/ in ${(took / 1000).toFixed(1)} s\n`);
}

/** Before any test: build dist/ (again before each watch-mode rerun) and make the run's temp root. */
export default function setup(project: TestProject): () => void {
  build();
  project.onTestsRerun(() => build());
  const tempRoot = mkdtempSync(join(tmpdir(), 'legate-test-run-'));
  project.provide('legateTempRoot', tempRoot);
  return () => {
    // Helpers remove what they make; whatever a test still left here is named, then removed with the root.
    const left = readdirSync(tempRoot);
    if (left.length > 0)
      process.stderr.write(`legate: tests left ${left.length} temp entries (${left.slice(0, 5).join(', ')}${left.length > 5 ? ', …' : ''}); removed\n`);
    rmSync(tempRoot, { recursive: true, force: true, maxRetries: 3 });
  };
}
