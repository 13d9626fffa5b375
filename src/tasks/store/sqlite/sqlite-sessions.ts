import type { SessionRecord } from '../../task-record.js';
import { parseStoredMessages, storedFormat } from '../stored-shapes.js';
import type { StatementCache } from './sqlite-statements.js';
import type { TaskRow } from './sqlite-task-row.js';

/** Stored sessions (the `sessions` table): a top-level conversation, saved whole, by id. */
export function saveSession(statements: StatementCache, session: SessionRecord): void {
  statements
    .get(`INSERT INTO sessions (id, cwd, created_at, updated_at, format, messages) VALUES (@id, @cwd, @createdAt, @updatedAt, @format, @messages)
      ON CONFLICT (id) DO UPDATE SET cwd = excluded.cwd, updated_at = excluded.updated_at, format = excluded.format, messages = excluded.messages`)
    .run({
      id: session.id,
      cwd: session.cwd,
      createdAt: session.createdAt,
      updatedAt: session.updatedAt,
      format: storedFormat,
      messages: JSON.stringify(session.messages),
    });
}

export function loadSession(statements: StatementCache, id: string): SessionRecord | undefined {
  const row = statements.get('SELECT * FROM sessions WHERE id = ?').get(id);
  return row ? sessionFromRow(row) : undefined;
}

/** Newest first (by `updatedAt`), at most `limit` (default 20), optionally of one directory. */
export function listSessions(statements: StatementCache, filter: { cwd?: string; limit?: number }): SessionRecord[] {
  const rows =
    filter.cwd === undefined
      ? statements.get('SELECT * FROM sessions ORDER BY updated_at DESC LIMIT ?').all(filter.limit ?? 20)
      : statements.get('SELECT * FROM sessions WHERE cwd = ? ORDER BY updated_at DESC LIMIT ?').all(filter.cwd, filter.limit ?? 20);
  return rows.map(sessionFromRow);
}

function sessionFromRow(row: TaskRow): SessionRecord {
  return {
    id: row.id as string,
    cwd: row.cwd as string,
    createdAt: row.created_at as number,
    updatedAt: row.updated_at as number,
    messages: parseStoredMessages(row.messages, row.format as number, `session "${String(row.id)}"`),
  };
}
