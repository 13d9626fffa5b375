import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../src/testing/free-port.js';

/**
 * A private `redis-server` for one benchmark: a free port on 127.0.0.1, no persistence,
 * `maxmemory-policy noeviction` (what the task store requires), stopped (and its directory
 * removed) by `stop`, or killed if the bench process exits first. The same idea as
 * test/helpers/redis.ts, without vitest.
 */
export interface BenchRedis {
  url: string;
  /** A key prefix unique to this run, for `tasks.redis_prefix`. */
  prefix: string;
  version: string;
  stop(): Promise<void>;
}

export async function startBenchRedis(): Promise<BenchRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'legate-bench-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    const failed = new Promise<Error>((resolve) => {
      child.once('error', (error) => resolve(error));
      child.once('exit', (code) => resolve(new Error(`redis-server on port ${port} exited with code ${code}`)));
    });
    const url = `redis://127.0.0.1:${port}`;
    const version = await Promise.race([pingUntilUp(url, 10_000), failed]);
    if (typeof version === 'string') {
      const kill = (): void => void child.kill('SIGKILL');
      process.once('exit', kill);
      return {
        url,
        prefix: `legate-bench-${Date.now().toString(36)}`,
        version,
        stop: async () => {
          process.removeListener('exit', kill);
          if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await exited;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`could not start redis-server (is it installed?): ${version.message}`);
    }
  }
}

/** The server's version once it answers PING, or an Error after `timeoutMs`. */
async function pingUntilUp(url: string, timeoutMs: number): Promise<string | Error> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const probe = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    probe.on('error', () => {});
    try {
      await probe.connect();
      const info = await probe.info('server');
      return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      probe.disconnect();
    }
  }
  return new Error(`no answer at ${url} within ${timeoutMs} ms`);
}
