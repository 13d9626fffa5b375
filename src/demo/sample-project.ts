import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when `dir` has nothing to survey: no entries, or only hidden ones (a fresh `git init`). */
export function looksEmpty(dir: string): boolean {
  return readdirSync(dir).every((name) => name.startsWith('.'));
}

/** A small sample project (a few files with TODO/FIXME notes) in a temp directory, for the demo to survey. */
export function makeSampleProject(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'legate-demo-sample-'));
  const files: Record<string, string> = {
    'package.json': '{\n  "name": "sample-app",\n  "version": "0.1.0",\n  "type": "module"\n}\n',
    'README.md': '# sample-app\n\nA tiny app the legate demo surveys when run in an empty directory.\n\nTODO: document the configuration.\n',
    'src/server.js':
      '// TODO: read the port from the environment\nexport const port = 8080;\n\n// FIXME: handle shutdown signals\nexport function start() {}\n',
    'src/parse.js': '// TODO: support quoted fields\nexport function parse(line) {\n  return line.split(",");\n}\n',
    'test/parse.test.js': '// FIXME: add a test for empty lines\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
