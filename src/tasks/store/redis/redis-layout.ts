import type { Redis } from 'ioredis';
import { LegateError } from '../../../errors.js';
import { maskRedisUrl, storeError } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';
import * as scripts from './scripts/index.js';

/** The key layout version this code writes. */
export const redisSchemaVersion = 3;

/**
 * Checks that the Redis at `url` can hold a deployment's tasks under `keys`, and its key layout
 * version (writing it for a new prefix, migrating layouts 1 and 2). Rejects with `store_unavailable`
 * (masked URL) when Redis cannot be reached, `store_too_new` when the prefix was written by a
 * newer legate, and `config_invalid` when Redis may evict keys (a memory limit with a
 * `maxmemory-policy` other than `noeviction`): an evicted record is a lost task.
 */
export async function checkRedisLayout(redis: Redis, url: string, keys: RedisKeys): Promise<void> {
  const command = async <T>(sent: Promise<T>): Promise<T> => {
    try {
      return await sent;
    } catch (error) {
      throw storeError(url, error);
    }
  };
  // A Redis whose ACL refuses INFO is not checked.
  const memory = await command(redis.info('memory')).catch((error: unknown) => {
    if (error instanceof LegateError) throw error;
    return '';
  });
  const limit = Number(/^maxmemory:(\d+)/m.exec(memory)?.[1] ?? 0);
  const policy = /^maxmemory_policy:(\S+)/m.exec(memory)?.[1] ?? 'noeviction';
  if (limit > 0 && policy !== 'noeviction') {
    throw new LegateError(
      'config_invalid',
      `the Redis at ${maskRedisUrl(url)} may evict keys (maxmemory ${limit}, maxmemory-policy ${policy})` +
        `: the task store needs maxmemory-policy noeviction`,
      { policy },
    );
  }
  await command(redis.set(keys.schema, String(redisSchemaVersion), 'NX'));
  let version = Number(await command(redis.get(keys.schema)));
  if (version === 1) {
    const migrated = redis.eval(scripts.migrate1to2Script, 3, keys.schema, keys.tasks, keys.sessions, keys.prefix, '1'); // a layout-1 deployment holds format-1 conversations
    version = Number(await command(migrated));
  }
  if (version === 2) {
    const migrated = redis.eval(scripts.migrate2to3Script, 3, keys.schema, keys.status('running'), keys.status('input_required'), keys.prefix);
    version = Number(await command(migrated));
  }
  if (version > redisSchemaVersion) {
    throw new LegateError(
      'store_too_new',
      `the Redis keys under "${keys.prefix}" were written by a newer legate (layout ${version}; this one knows ${redisSchemaVersion})`,
      { prefix: keys.prefix, version },
    );
  }
}
