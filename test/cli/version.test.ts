import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../helpers/main.js';
import { home } from './cli-harness.js';

const version = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

describe('legate --version', () => {
  it('--version and -V print the version and exit 0, with no config and no key', async () => {
    const { home: legateHome, work } = home();
    for (const flag of ['--version', '-V']) {
      const result = await runMain([flag], { home: legateHome, cwd: work });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`${version}\n`);
      expect(result.stderr).toBe('');
    }
  });
});
