import type { SessionRecord } from '../task-record.js';

/**
 * Stored conversations of top-level agents (`legate chat --resume`, `legate sessions`), kept by
 * the same backend as the tasks (a store's `sessions`) but nothing to do with them: tasks never
 * read a session, sessions never read a task. Its own conformance cases run against every backend.
 */
export interface SessionStore {
  /** Create or replace a session (by id); `createdAt` is kept from the first save. */
  save(session: SessionRecord): Promise<void>;
  /** A stored session; one whose conversation is not valid rejects with `store_corrupt` naming the session. */
  load(id: string): Promise<SessionRecord | undefined>;
  /** Most recently updated first; at most `limit` (default 20), of one directory when `cwd` is given. */
  list(filter?: SessionFilter): Promise<SessionRecord[]>;
}

export interface SessionFilter {
  cwd?: string;
  /** Default 20. */
  limit?: number;
}

/** The session `which` names: by id, or the most recently updated one in `cwd`; undefined when there is none. */
export async function findSession(sessions: SessionStore, which: { id: string } | { cwd: string }): Promise<SessionRecord | undefined> {
  if ('id' in which) return sessions.load(which.id);
  const [latest] = await sessions.list({ cwd: which.cwd, limit: 1 });
  return latest;
}

/** Sessions in this process's memory (the memory store's, and tests'). */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();

  async save(session: SessionRecord): Promise<void> {
    const first = this.sessions.get(session.id);
    this.sessions.set(session.id, structuredClone(first ? { ...session, createdAt: first.createdAt } : session));
  }

  async load(id: string): Promise<SessionRecord | undefined> {
    const session = this.sessions.get(id);
    return session ? structuredClone(session) : undefined;
  }

  async list(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    return [...this.sessions.values()]
      .filter((session) => filter.cwd === undefined || session.cwd === filter.cwd)
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .slice(0, filter.limit ?? 20)
      .map((session) => structuredClone(session));
  }
}
