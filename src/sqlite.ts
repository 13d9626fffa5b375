/**
 * `legate/sqlite`: the durable task store (one SQLite file shared by every process of a
 * LEGATE_HOME). A subpath of its own so that the main entry does not load the native module.
 */

export { latestSchemaVersion, type SqliteMigration, sqliteMigrations } from './tasks/store/sqlite/sqlite-migrations.js';
export { SqliteTaskStore } from './tasks/store/sqlite/sqlite-store.js';
