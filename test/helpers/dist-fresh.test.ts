import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The CLI tests run bin/legate.js → dist/. The global setup (test/helpers/global-setup.ts) builds dist/ from src/
// before any test, so an edit in src/ is what they exercise. This fails if that wiring is lost and dist/ is stale.
describe('dist/ under test', () => {
  it('is up to date with src/ (tsc -b would build nothing)', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const report = execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json', '--dry'], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
    });
    expect(report).not.toMatch(/would build/);
  });
});
