import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import type { QueueWorkers } from '../../src/tasks/shared/queue-workers.js';
import { SharedDispatch } from '../../src/tasks/shared/shared-dispatch.js';
import { RedisTaskStore } from '../../src/tasks/store/redis/redis-store.js';
import type { TestRedis } from '../helpers/redis.js';

/** One legate "process" of a shared-mode deployment, in this test process: its own store connection, queues and workers. */
export interface SharedNode {
  runtime: Runtime;
  shared: SharedDispatch;
  store: RedisTaskStore;
  workers: QueueWorkers | undefined;
  /** As `legate worker` stops: refuse jobs, hand running tasks back, close. */
  close(): Promise<void>;
}

export interface SharedNodeOptions {
  baseUrl: string;
  cwd: string;
  /** Run tasks from the queues with this many slots per depth (a worker); absent: only dispatch. */
  concurrency?: number;
  leaseSeconds?: number;
  maxSpawnDepth?: number;
  /** `tasks.max_resumes`. */
  maxResumes?: number;
  /** More config (routes…), merged at the top level. */
  config?: Record<string, unknown>;
  apiKey?: string;
}

export async function sharedNode(redis: TestRedis, options: SharedNodeOptions): Promise<SharedNode> {
  const leaseSeconds = options.leaseSeconds ?? 1.5;
  const config = configSchema.parse({
    model: { provider: 'openai', name: 'm', base_url: options.baseUrl, api_key: options.apiKey ?? 'sk-test-shared-0001', max_retries: 0 },
    tasks: { redis_url: redis.url, redis_prefix: redis.prefix, lease_seconds: leaseSeconds, max_resumes: options.maxResumes ?? 3 },
    delegation: { max_spawn_depth: options.maxSpawnDepth ?? 1 },
    ...options.config,
  });
  const store = await RedisTaskStore.open({ url: redis.url, prefix: redis.prefix });
  const shared = await SharedDispatch.open({
    url: redis.url,
    prefix: redis.prefix,
    store,
    leaseMs: leaseSeconds * 1000,
    queueSpawns: true,
    fallbackPollMs: 1000,
  });
  const runtime = new Runtime({
    loaded: { config, file: undefined, home: options.cwd, unset: new Map() },
    cwd: options.cwd,
    store,
    taskParts: shared.serviceOptions(),
    checkCapabilities: true,
    resources: [shared],
  });
  const workers =
    options.concurrency === undefined
      ? undefined
      : shared.startWorkers(runtime.tasks, {
          concurrency: options.concurrency,
          maxDepth: config.delegation.max_spawn_depth,
          stalledIntervalMs: 500,
          sweepMs: 1000,
        });
  let closed = false;
  return {
    runtime,
    shared,
    store,
    workers,
    async close() {
      if (closed) return;
      closed = true;
      workers?.beginClose();
      await runtime.tasks.shutdown();
      await workers?.close();
      await runtime.close();
    },
  };
}
