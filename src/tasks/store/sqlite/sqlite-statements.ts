import type Database from 'better-sqlite3';
import type { TaskRow } from './sqlite-task-row.js';

/** Prepared statements of one database, each prepared on first use and cached by its SQL text. */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement<unknown[], TaskRow>>();

  constructor(readonly db: Database.Database) {}

  /** The prepared statement for `sql`. */
  get(sql: string): Database.Statement<unknown[], TaskRow> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<unknown[], TaskRow>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
