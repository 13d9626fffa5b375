import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * legate's version, from its package.json: the nearest one above this file that names `legate`
 * (one level above `src/` and `dist/`; further for a copy compiled elsewhere, as `bench/dist/src/`).
 */
export const legateVersion: string = findVersion(dirname(fileURLToPath(import.meta.url)));

function findVersion(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'legate' && manifest.version) return manifest.version;
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}
