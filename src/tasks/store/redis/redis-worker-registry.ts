import type { Redis } from 'ioredis';
import type { WorkerInfo, WorkerRegistry } from '../../worker-registry.js';
import { closeRedis, connectRedis, storeError } from './redis-connection.js';
import { defaultRedisPrefix, RedisKeys } from './redis-keys.js';

/** Entries silent this long are dropped when listed. */
const forgetAfterMs = 86_400_000;

/**
 * The worker registry of a shared deployment: one hash, `<prefix>:workers`, field = the worker's
 * owner id, value = its `WorkerInfo` as JSON. Each write touches that one key.
 */
export class RedisWorkerRegistry implements WorkerRegistry {
  private readonly key: string;

  private constructor(
    private readonly redis: Redis,
    private readonly url: string,
    prefix: string,
  ) {
    this.key = `${new RedisKeys(prefix).prefix}:workers`;
  }

  static async open(options: { url: string; prefix?: string; connectTimeoutMs?: number }): Promise<RedisWorkerRegistry> {
    const prefix = options.prefix ?? defaultRedisPrefix;
    new RedisKeys(prefix);
    const redis = await connectRedis(options.url, { ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}) });
    return new RedisWorkerRegistry(redis, options.url, prefix);
  }

  async announce(worker: WorkerInfo): Promise<void> {
    await this.redis.hset(this.key, worker.id, JSON.stringify(worker)).catch((error: unknown) => Promise.reject(storeError(this.url, error)));
  }

  async leave(id: string): Promise<void> {
    await this.redis.hdel(this.key, id).catch((error: unknown) => Promise.reject(storeError(this.url, error)));
  }

  async list(): Promise<WorkerInfo[]> {
    const all = await this.redis.hgetall(this.key).catch((error: unknown) => Promise.reject(storeError(this.url, error)));
    const now = Date.now();
    const workers: WorkerInfo[] = [];
    const stale: string[] = [];
    for (const [id, text] of Object.entries(all)) {
      const worker = parse(text);
      if (!worker || now - worker.heartbeatAt > forgetAfterMs) stale.push(id);
      else workers.push(worker);
    }
    if (stale.length > 0) await this.redis.hdel(this.key, ...stale).catch(() => {}); // dropping stale entries is housekeeping: the next listing tries again
    return workers;
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }
}

function parse(text: string): WorkerInfo | undefined {
  try {
    const value = JSON.parse(text) as Partial<WorkerInfo>;
    if (typeof value.id === 'string' && typeof value.heartbeatAt === 'number' && typeof value.concurrency === 'number') return value as WorkerInfo;
  } catch {
    // a damaged entry is dropped
  }
  return undefined;
}
