import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { errorMessage, LegateError } from '../../../errors.js';
import { migrate } from './sqlite-migrations.js';

const openRetryMs = 5_000;

/**
 * Opens (creating it and its parent directories if needed) and migrates the database at `file`:
 * WAL mode, a busy timeout, foreign keys. `:memory:` gives a private in-memory database. Throws
 * `store_too_new` for a database written by a newer legate, `store_locked` when another process
 * keeps it locked past the retry window.
 */
export function openTaskDatabase(file: string): Database.Database {
  if (file !== ':memory:' && file !== '') mkdirSync(dirname(file), { recursive: true });
  // Processes starting together on a new file race to switch it to WAL and migrate it; a loser
  // can be refused "database is locked" at once, without the busy timeout: it tries again.
  const giveUpAt = Date.now() + openRetryMs;
  for (let attempt = 1; ; attempt++) {
    const db = new Database(file);
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, file);
      return db;
    } catch (error) {
      db.close();
      if (!isBusy(error)) throw error;
      if (Date.now() >= giveUpAt) {
        throw new LegateError('store_locked', `task store "${file}" stayed locked by another process for ${openRetryMs / 1000} s: ${errorMessage(error)}`, {
          file,
        });
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(200, 10 * attempt));
    }
  }
}

function isBusy(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY');
}
