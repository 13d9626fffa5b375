import { Redis } from 'ioredis';
import { errorMessage, LegateError } from '../../../errors.js';

/** `redis://:***@host:6379/0`: the URL with its password (if any) masked, for messages and logs. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL: show nothing that could be a secret.
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

export interface RedisConnectionOptions {
  /** How long one connection attempt may take; default 5 s. */
  connectTimeoutMs?: number;
  /**
   * How many reconnection attempts a command waits through before it fails with
   * `store_unavailable`; default 20 (ioredis' default, about 20 s of backoff).
   */
  maxRetriesPerRequest?: number;
}

/**
 * One ioredis connection to `url`, connected. Rejects with `store_unavailable` naming the masked
 * URL when Redis cannot be reached (and stops trying).
 */
export async function connectRedis(url: string, options: RedisConnectionOptions = {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    maxRetriesPerRequest: options.maxRetriesPerRequest ?? 20,
    // Commands sent but unanswered when a connection drops are sent again, before any queued
    // later: order is kept, and every write of the store is safe to apply twice.
    autoResendUnfulfilledCommands: true,
    enableOfflineQueue: true,
  });
  // Without a listener ioredis prints every connection error; failures reach callers instead.
  redis.on('error', () => {});
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw unavailable(url, error);
  }
}

/**
 * The error for a failed command: Redis' own replies (a script error, OOM) pass through; anything
 * else (refused, closed, retries exhausted) means Redis could not be reached.
 */
export function storeError(url: string, error: unknown): unknown {
  if (error instanceof LegateError) return error;
  if (error instanceof Error && error.name === 'ReplyError') return error;
  return unavailable(url, error);
}

function unavailable(url: string, error: unknown): LegateError {
  const masked = maskRedisUrl(url);
  return new LegateError('store_unavailable', `cannot reach the Redis task store at ${masked}: ${errorMessage(error).replaceAll(url, masked)}`, {
    url: masked,
  });
}

/**
 * Close `redis`: QUIT (pending replies first) while it is connected; at once while it is not, since a
 * QUIT queued behind a reconnecting connection waits for a Redis that may never come back (every command
 * still pending is rejected with "Connection is closed").
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}
