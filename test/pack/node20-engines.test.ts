import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The README supports Node 20: every package `npm ci` installs (dev dependencies and the bench peers
 * included) must accept it, or a fresh install prints EBADENGINE warnings. Read from package-lock.json.
 */

const node20 = [20, 19, 0];

/** Whether one engines alternative (`>=18`, `^20.3.0`, `20.x`, `20 || >=22` split already) admits `node20`. */
function admits(range: string): boolean {
  const parts = range
    .trim()
    .replace(/([<>]=?|\^|~)\s+/g, '$1')
    .split(/\s+/);
  return parts.every((part) => {
    if (part === '*' || part === '' || part === 'x') return true;
    const match = /^(>=|>|<=|<|\^|~)?v?(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?$/.exec(part);
    if (!match) throw new Error(`unreadable engines range "${range}"`);
    const [, op = '', major, minor = 'x', patch = 'x'] = match;
    const want = [Number(major), minor === 'x' ? 0 : Number(minor), patch === 'x' ? 0 : Number(patch)];
    const cmp = node20[0]! - want[0]! || node20[1]! - want[1]! || node20[2]! - want[2]!;
    if (op === '>=') return cmp >= 0;
    if (op === '>') return cmp > 0;
    if (op === '<') return cmp < 0;
    if (op === '<=') return cmp <= 0;
    if (op === '^') return node20[0] === want[0] && cmp >= 0;
    if (op === '~') return node20[0] === want[0] && node20[1] === want[1] && cmp >= 0;
    return node20[0] === want[0] && (minor === 'x' || node20[1] === want[1]);
  });
}

describe('a fresh install on Node 20', () => {
  it('installs no package whose engines exclude Node 20', () => {
    const lock = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
    };
    const refused = Object.entries(lock.packages)
      .filter(([, entry]) => {
        const range = !Array.isArray(entry.engines) ? entry.engines?.node : undefined;
        return range !== undefined && !range.split('||').some(admits);
      })
      .map(([path, entry]) => `${path} (${(entry.engines as { node: string }).node})`);
    expect(refused).toEqual([]);
  });
});
