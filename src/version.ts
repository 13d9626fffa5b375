import { createRequire } from 'node:module';

/** legate's version, from package.json (one level above both `src/` and `dist/`). */
export const legateVersion: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
