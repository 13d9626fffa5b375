import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { openRuntime } from '../src/cli/context.js';
import type { Runtime } from '../src/runtime.js';
import { type BenchRedis, startBenchRedis } from './redis-server.js';

/**
 * A runtime in shared mode, built as every command builds its own (`openRuntime` over a
 * config.yaml with `tasks.redis_url`), on a private Redis started for it: the bench's in-process
 * fan-out and lifecycle measured against the store (and dispatch) shared mode really uses.
 * `close` closes the runtime, then stops Redis.
 */
export async function openSharedRuntime(options: { home: string; cwd: string; config: Record<string, unknown> }): Promise<{
  runtime: Runtime;
  redis: BenchRedis;
  close(): Promise<void>;
}> {
  const redis = await startBenchRedis();
  try {
    const configFile = join(options.home, 'config.yaml');
    writeFileSync(configFile, stringify({ ...options.config, tasks: { redis_url: redis.url, redis_prefix: redis.prefix } }));
    const quiet = new PassThrough().resume();
    const runtime = await openRuntime(
      { config: configFile, cwd: options.cwd },
      { stdout: quiet, stderr: quiet, stdin: new PassThrough(), env: { ...process.env, LEGATE_HOME: options.home, LEGATE_REDIS_URL: '' } },
    );
    return {
      runtime,
      redis,
      close: async () => {
        await runtime.close();
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}
