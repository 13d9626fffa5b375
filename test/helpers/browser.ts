import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';

/**
 * Debian's headless Chromium for end-to-end tests, driven by playwright-core (which downloads no
 * browser of its own). `LEGATE_TEST_CHROMIUM` names another binary. Where none is found the tests
 * skip with one line, except under `CI=true` (where `.ci/run` installs it), where it is an error.
 */
export function chromiumPath(): string | undefined {
  const candidates = [process.env.LEGATE_TEST_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((path): path is string => Boolean(path));
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  const why = `no Chromium at ${candidates.join(' or ')} (apt-get install chromium, or set LEGATE_TEST_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`browser tests need Chromium under CI=true: ${why}`);
  process.stderr.write(`legate: skipping browser tests: ${why}\n`);
  return undefined;
}

/** Launch it headless, with the flags a machine with no outside network needs (no background connections). */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Where browser tests write their screenshots: `$LEGATE_TEST_OUTPUT/NAME`, else `test-output/NAME` in the repo. */
export function testOutputDir(name: string): string {
  const dir = join(process.env.LEGATE_TEST_OUTPUT ?? resolve(import.meta.dirname, '../../test-output'), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
