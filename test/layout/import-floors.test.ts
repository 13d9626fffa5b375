import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesUnder } from '../helpers/files.js';

const src = resolve(import.meta.dirname, '../../src');

/** Every module a file under `src/<folder>` imports (static, type-only, re-exports and `import()`), as paths relative to src/. */
function importsOf(folder: string): { file: string; target: string }[] {
  const pattern = /(?:from\s+|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g;
  return filesUnder(join(src, folder))
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(pattern)].map((match) => ({
        file: relative(src, file),
        target: relative(src, resolve(dirname(file), match[1]!)),
      })),
    );
}

describe('import floors: a lower folder never imports a higher one', () => {
  it('finds the imports it checks (the check would see a violation)', () => {
    const delegation = importsOf('delegation');
    expect(delegation.some(({ target }) => target.startsWith('tasks/'))).toBe(true);
    expect(importsOf('acp').some(({ target }) => target.startsWith('delegation/'))).toBe(true);
  });

  it.each([
    ['delegation', 'acp'],
    ['tasks', 'acp'],
    ['tasks', 'delegation'],
    ['agent', 'delegation'],
    // Tracing is an event consumer above the loop, the tasks and the tools: none of them knows it.
    ['agent', 'telemetry'],
    ['tasks', 'telemetry'],
    ['delegation', 'telemetry'],
    ['tools', 'telemetry'],
    ['provider', 'telemetry'],
  ])('%s/ does not import %s/ (the runtime hands it what it needs, e.g. runnerFor(route))', (lower, higher) => {
    const upward = importsOf(lower).filter(({ target }) => target === higher || target.startsWith(`${higher}/`));
    expect(upward).toEqual([]);
  });

  it('product code does not import testing/ (the demo model is product code in demo/)', () => {
    const product = importsOf('.').filter(({ file }) => !file.startsWith('testing/'));
    expect(product.some(({ file }) => file.startsWith('cli/'))).toBe(true);
    expect(product.filter(({ target }) => target.startsWith('testing/'))).toEqual([]);
  });
});
