import { type Dirent, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every file under `dir` now. Files and directories come and go while a CLI runs beside the
 * caller (SQLite's -wal on close): no stat between listing and use, and a directory gone is empty.
 */
export function filesUnder(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}
