import type Database from 'better-sqlite3';
import { LegateError } from '../../../errors.js';

/**
 * One step of the SQLite store's schema. After it runs, `PRAGMA user_version` is `version`.
 * A released migration is never edited: change the schema by appending the next one, and add a
 * fixture of the old version under `test/fixtures/sqlite-store/`.
 */
export interface SqliteMigration {
  version: number;
  description: string;
  sql: string;
}

export const sqliteMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'tasks, output buffer, checkpoints, steers',
    sql: `
      CREATE TABLE tasks (
        id               TEXT PRIMARY KEY,
        session_id       TEXT NOT NULL,
        status           TEXT NOT NULL,
        created_at       INTEGER NOT NULL,
        cwd              TEXT NOT NULL,
        goal             TEXT NOT NULL,
        context          TEXT,
        toolsets         TEXT,              -- JSON array of names; NULL = the parent's
        route            TEXT,
        model            TEXT NOT NULL,
        depth            INTEGER NOT NULL,
        mode             TEXT NOT NULL,
        started_at       INTEGER,
        ended_at         INTEGER,
        exit_reason      TEXT,
        error            TEXT,
        summary          TEXT,
        api_calls        INTEGER NOT NULL DEFAULT 0,
        usage            TEXT NOT NULL,     -- JSON Usage
        current_tool     TEXT,
        last_activity    TEXT,
        output_lines     INTEGER NOT NULL DEFAULT 0,
        reported         INTEGER NOT NULL DEFAULT 0,
        owner            TEXT,
        lease_expires_at INTEGER,
        extra            TEXT               -- JSON object: record fields without a column of their own
      );
      CREATE INDEX tasks_session_created ON tasks (session_id, created_at, id);
      CREATE INDEX tasks_status ON tasks (status);

      CREATE TABLE task_output (
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,           -- 0-based number of the line among all ever written
        line    TEXT NOT NULL,
        PRIMARY KEY (task_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE task_checkpoints (
        step      INTEGER PRIMARY KEY,      -- append order
        task_id   TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        iteration INTEGER NOT NULL,
        messages  TEXT NOT NULL             -- JSON Message[]
      );
      CREATE INDEX task_checkpoints_task ON task_checkpoints (task_id, step);

      CREATE TABLE task_steers (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id    TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        message    TEXT NOT NULL,
        state      TEXT NOT NULL,           -- queued | delivered | missed
        created_at INTEGER NOT NULL,
        settled_at INTEGER
      );
      CREATE INDEX task_steers_task ON task_steers (task_id, id);
    `,
  },
  {
    version: 2,
    description: 'sessions (stored conversations); lease lookup by owner',
    sql: `
      CREATE TABLE sessions (
        id         TEXT PRIMARY KEY,
        cwd        TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        messages   TEXT NOT NULL            -- JSON Message[]
      );
      CREATE INDEX sessions_cwd_updated ON sessions (cwd, updated_at);
      CREATE INDEX tasks_owner ON tasks (owner) WHERE owner IS NOT NULL;
    `,
  },
  {
    version: 3,
    description: 'fencing epoch, takeovers and who cancelled on tasks; checkpoints keyed by (task, step); stored formats',
    sql: `
      ALTER TABLE tasks ADD COLUMN epoch INTEGER;          -- takeover counter, +1 at each claim; NULL = never claimed
      ALTER TABLE tasks ADD COLUMN cancelled_by TEXT;      -- parent | user | timeout | shutdown
      ALTER TABLE tasks ADD COLUMN takeovers INTEGER;      -- interruptions because the owner was gone

      CREATE TABLE task_checkpoints_v3 (
        task_id   TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        step      INTEGER NOT NULL,         -- 0-based step number within the task: the idempotency key
        iteration INTEGER NOT NULL,
        format    INTEGER NOT NULL DEFAULT 1,
        messages  TEXT NOT NULL,            -- JSON Message[] (format 1)
        PRIMARY KEY (task_id, step)
      ) WITHOUT ROWID;
      INSERT INTO task_checkpoints_v3 (task_id, step, iteration, messages)
        SELECT task_id, row_number() OVER (PARTITION BY task_id ORDER BY step) - 1, iteration, messages FROM task_checkpoints;
      DROP TABLE task_checkpoints;
      ALTER TABLE task_checkpoints_v3 RENAME TO task_checkpoints;

      ALTER TABLE sessions ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
    `,
  },
  {
    version: 4,
    description: 'approvals: the pending request of an input_required task, and which request the parent was told of',
    sql: `
      ALTER TABLE tasks ADD COLUMN approval TEXT;          -- JSON PendingApproval while input_required; NULL otherwise
      ALTER TABLE tasks ADD COLUMN approval_noticed TEXT;  -- id of the request whose notice reached the parent
    `,
  },
  {
    version: 5,
    description: "compactions: compaction steps in the checkpoint log, a session's latest compaction (docs/compaction.md)",
    sql: `
      ALTER TABLE task_checkpoints ADD COLUMN compaction TEXT;  -- JSON StoredCompaction on a compaction step (its messages '[]'); NULL otherwise
      ALTER TABLE sessions ADD COLUMN compaction TEXT;          -- JSON StoredCompaction: the latest of the conversation; NULL = none
    `,
  },
];

export const latestSchemaVersion: number = sqliteMigrations.at(-1)!.version;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database up to `latestSchemaVersion`, each migration in its own immediate
 * transaction (so two processes opening a fresh file apply each step once). Throws
 * `store_too_new`, naming `file` and both versions, for a database a newer legate wrote.
 */
export function migrate(db: Database.Database, file: string): void {
  const opened = schemaVersion(db);
  refuseNewer(opened, file);
  for (const migration of sqliteMigrations) {
    if (migration.version <= opened) continue;
    db.transaction(() => {
      const current = schemaVersion(db);
      refuseNewer(current, file);
      if (current >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}

function refuseNewer(version: number, file: string): void {
  if (version <= latestSchemaVersion) return;
  throw new LegateError(
    'store_too_new',
    `task store "${file}" has schema version ${version}, but this legate knows versions up to ${latestSchemaVersion}` +
      `; upgrade legate or use another LEGATE_HOME`,
    { file, version, latestSchemaVersion },
  );
}
