import type { SessionRecord } from '../../task-record.js';
import type { SessionFilter, SessionStore } from '../session-store.js';
import { storedFormat } from '../stored-shapes.js';
import type { RedisKeys } from './redis-keys.js';
import { sessionFromReply } from './redis-record.js';
import * as scripts from './scripts/index.js';

/** The calls of the task store's connection that sessions use (in its order, with its error mapping). */
export interface SessionCommands {
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  /** HGETALL as a flat field/value list. */
  hash(key: string): Promise<string[]>;
}

/**
 * Sessions in Redis, on the task store's connection: one hash per session (`<prefix>:session:<id>`)
 * and a sorted set of ids by update time (`<prefix>:sessions`); the scripts are `saveSessionScript`
 * and `listSessionsScript`.
 */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly keys: RedisKeys,
    private readonly redis: SessionCommands,
  ) {}

  async save(session: SessionRecord): Promise<void> {
    await this.redis.eval(
      scripts.saveSessionScript,
      [this.keys.session(session.id), this.keys.sessions],
      [
        session.id,
        String(session.updatedAt),
        JSON.stringify(session.id),
        JSON.stringify(session.cwd),
        JSON.stringify(session.createdAt),
        JSON.stringify(session.updatedAt),
        JSON.stringify(session.messages),
        JSON.stringify(storedFormat),
        session.compaction ? JSON.stringify(session.compaction) : '',
      ],
    );
  }

  async load(id: string): Promise<SessionRecord | undefined> {
    return sessionFromReply(await this.redis.hash(this.keys.session(id)));
  }

  async list(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    const limit = filter.limit ?? 20;
    if (limit <= 0) return [];
    const reply = (await this.redis.eval(
      scripts.listSessionsScript,
      [this.keys.sessions],
      [this.keys.prefix, filter.cwd === undefined ? '' : JSON.stringify(filter.cwd), String(limit)],
    )) as string[][];
    return reply.map((fields) => sessionFromReply(fields)!);
  }
}
