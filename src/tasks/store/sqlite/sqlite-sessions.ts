import type { SessionRecord } from '../../task-record.js';
import { parseStoredCompaction } from '../checkpoint-log.js';
import type { SessionFilter, SessionStore } from '../session-store.js';
import { parseStoredMessages, storedFormat } from '../stored-shapes.js';
import type { StatementCache } from './sqlite-statements.js';
import type { TaskRow } from './sqlite-task-row.js';

/** Stored sessions (the `sessions` table of the task database): a top-level conversation, saved whole, by id. */
export class SqliteSessionStore implements SessionStore {
  constructor(private readonly statements: StatementCache) {}

  async save(session: SessionRecord): Promise<void> {
    this.statements
      .get(`INSERT INTO sessions (id, cwd, created_at, updated_at, format, messages, compaction)
      VALUES (@id, @cwd, @createdAt, @updatedAt, @format, @messages, @compaction)
      ON CONFLICT (id) DO UPDATE SET cwd = excluded.cwd, updated_at = excluded.updated_at, format = excluded.format, messages = excluded.messages,
        compaction = excluded.compaction`)
      .run({
        id: session.id,
        cwd: session.cwd,
        createdAt: session.createdAt,
        updatedAt: session.updatedAt,
        format: storedFormat,
        messages: JSON.stringify(session.messages),
        compaction: session.compaction ? JSON.stringify(session.compaction) : null,
      });
  }

  async load(id: string): Promise<SessionRecord | undefined> {
    const row = this.statements.get('SELECT * FROM sessions WHERE id = ?').get(id);
    return row ? sessionFromRow(row) : undefined;
  }

  async list(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    const rows =
      filter.cwd === undefined
        ? this.statements.get('SELECT * FROM sessions ORDER BY updated_at DESC LIMIT ?').all(filter.limit ?? 20)
        : this.statements.get('SELECT * FROM sessions WHERE cwd = ? ORDER BY updated_at DESC LIMIT ?').all(filter.cwd, filter.limit ?? 20);
    return rows.map(sessionFromRow);
  }
}

function sessionFromRow(row: TaskRow): SessionRecord {
  const where = `session "${String(row.id)}"`;
  return {
    id: row.id as string,
    cwd: row.cwd as string,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    messages: parseStoredMessages(row.messages, row.format as number, where),
    ...(row.compaction == null ? {} : { compaction: parseStoredCompaction(row.compaction, where) }),
  };
}
