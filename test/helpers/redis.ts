import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll } from 'vitest';
import { freePort } from '../../src/testing/free-port.js';

export { freePort };

/**
 * Redis for shared-mode tests.
 *
 * Where it comes from, in order:
 * 1. `LEGATE_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`) if something answers there. The tests use a key
 *    prefix unique to this helper instance and delete only their own keys afterwards. An explicitly set URL that does
 *    not answer is an error, not a fallback.
 * 2. Otherwise, if `redis-server` is on PATH, a private server on a free port (no persistence by default, or AOF in a
 *    directory), stopped afterwards.
 * 3. Otherwise none: `useTestRedis` resolves `undefined` after printing one line saying why, so the file skips its
 *    shared-mode tests (`describe.skipIf(!redis)`), except under `CI=true`, where it throws.
 *
 * A test that must restart or stop Redis asks for `{ private: true }`: it always gets its own server.
 */
export interface TestRedis {
  /** Where to connect, e.g. `redis://127.0.0.1:41235`. Never holds a password in the private case. */
  readonly url: string;
  /** Unique to this instance (`legate-test-<time>-<random>`); keys are `${prefix}:…`. Fit for `tasks.redis_prefix`. */
  readonly prefix: string;
  /** `shared`: the server at LEGATE_TEST_REDIS_URL; `private`: one this helper started. */
  readonly source: 'shared' | 'private';
  /** The private server, to stop, start or restart it under a running test; undefined for a shared server. */
  readonly server: PrivateRedisServer | undefined;
  /** A new ioredis connection to `url`, closed by `stop()`. */
  connect(options?: RedisOptions): Redis;
  /** Every key under this instance's prefix. */
  keys(): Promise<string[]>;
  /** Delete every key under this instance's prefix (and nothing else). */
  deleteKeys(): Promise<void>;
  /** Delete this instance's keys, close its connections, stop the private server. Safe to call twice. */
  stop(): Promise<void>;
}

export interface PrivateRedisServer {
  readonly port: number;
  /** The running redis-server's pid; undefined while stopped. */
  readonly pid: number | undefined;
  /** Stop it (SHUTDOWN-like: SIGTERM, then SIGKILL after 5 s; `kill: true` sends SIGKILL at once). */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Start it again on the same port, with the same data directory (nothing when it is running). */
  start(): Promise<void>;
  restart(options?: { kill?: boolean }): Promise<void>;
}

export interface TestRedisOptions {
  /** Always start a private server, even if LEGATE_TEST_REDIS_URL answers. */
  private?: boolean;
  /**
   * Persistence of a private server (implies `private`). Default: none (`--save '' --appendonly no`).
   * With `aof`, `--appendonly yes --appendfsync always` in `aof.dir` (kept: the caller owns the directory).
   */
  aof?: { dir: string };
}

const defaultUrl = 'redis://127.0.0.1:6379';
let announced = false;

/**
 * For a test file's top level: `const redis = await useTestRedis();` then `describe.skipIf(!redis)(...)`.
 * Stops it after the file's tests. Resolves undefined (one line on stderr saying why) when there is no Redis,
 * and throws instead under `CI=true`.
 */
export async function useTestRedis(options: TestRedisOptions = {}): Promise<TestRedis | undefined> {
  const redis = await startTestRedis(options);
  if (redis) afterAll(() => redis.stop());
  return redis;
}

/** As `useTestRedis`, for a caller that calls `stop()` itself. */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis | undefined> {
  const prefix = `legate-test-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const explicit = process.env.LEGATE_TEST_REDIS_URL;
  const wantPrivate = options.private === true || options.aof !== undefined;
  if (!wantPrivate) {
    const url = explicit || defaultUrl;
    if (await answers(url)) return testRedis(url, prefix, undefined);
    if (explicit) throw new Error(`LEGATE_TEST_REDIS_URL=${maskUrl(url)} does not answer (PING failed)`);
  }
  const binary = onPath('redis-server');
  if (!binary) {
    const why = wantPrivate
      ? 'redis-server is not on PATH (this test starts its own server)'
      : `nothing answers at ${maskUrl(explicit || defaultUrl)} and redis-server is not on PATH (set LEGATE_TEST_REDIS_URL or install redis-server)`;
    if (process.env.CI === 'true') throw new Error(`shared-mode tests need Redis under CI=true: ${why}`);
    if (!announced) process.stderr.write(`legate: skipping shared-mode tests: ${why}\n`);
    announced = true;
    return undefined;
  }
  const { server, dispose } = await startPrivateServer(binary, options.aof);
  return testRedis(`redis://127.0.0.1:${server.port}`, prefix, server, dispose);
}

function testRedis(url: string, prefix: string, server: PrivateRedisServer | undefined, dispose?: () => Promise<void>): TestRedis {
  const clients = new Set<Redis>();
  let admin: Redis | undefined;
  let stopped = false;
  const adminClient = (): Redis => {
    admin ??= connectTo(url, { maxRetriesPerRequest: 1 });
    return admin;
  };
  const keys = async (): Promise<string[]> => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await adminClient().scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      found.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return [...new Set(found)];
  };
  const deleteKeys = async (): Promise<void> => {
    const own = await keys();
    for (let start = 0; start < own.length; start += 500) await adminClient().unlink(...own.slice(start, start + 500));
  };
  return {
    url,
    prefix,
    source: server ? 'private' : 'shared',
    server,
    connect(options = {}) {
      const client = connectTo(url, options);
      clients.add(client);
      return client;
    },
    keys,
    deleteKeys,
    async stop() {
      if (stopped) return;
      stopped = true;
      // A private server goes away with its keys; a shared one keeps everyone else's.
      if (!server) await deleteKeys();
      for (const client of [...clients, ...(admin ? [admin] : [])]) client.disconnect();
      clients.clear();
      await dispose?.();
    },
  };
}

function connectTo(url: string, options: RedisOptions): Redis {
  const client = new Redis(url, { connectTimeout: 2_000, ...options });
  // Connection errors (a server the test stopped or restarts) reject the commands that meet them; without a
  // listener ioredis would also print each one.
  client.on('error', () => {});
  return client;
}

/** Whether a Redis answers PING at `url` within a second, without retrying. */
async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  probe.on('error', () => {
    // the answer is the PING's outcome
  });
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** `redis://:secret@host` → `redis://:***@host`, for messages. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, (_, auth: string) => `//${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function startPrivateServer(binary: string, aof: { dir: string } | undefined): Promise<{ server: PrivateRedisServer; dispose(): Promise<void> }> {
  // Without AOF the directory only holds what redis-server insists on writing; it is removed on stop.
  const ownDir = aof ? undefined : mkdtempSync(join(tmpdir(), 'legate-redis-'));
  const dir = aof?.dir ?? ownDir!;
  const persistence = aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  let port = 0;
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      ...persistence,
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ];
    const started = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    started.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4_000)));
    started.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-4_000)));
    const exited = new Promise<number | null>((resolve) => started.once('exit', (code) => resolve(code)));
    child = started;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const early = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 50))]);
      if (early !== 'running') {
        child = undefined;
        throw new Error(`redis-server on port ${port} exited with code ${early}: ${output.trim().split('\n').slice(-3).join(' | ')}`);
      }
      if (await answers(`redis://127.0.0.1:${port}`)) return;
    }
    started.kill('SIGKILL');
    child = undefined;
    throw new Error(`redis-server on port ${port} did not answer within 10 s: ${output.trim().split('\n').slice(-3).join(' | ')}`);
  };

  const stop = async (options: { kill?: boolean } = {}): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill(options.kill ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  // A port that was free a moment ago can be taken before redis-server binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) {
        if (ownDir) rmSync(ownDir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  // If the test process ends without stop(), the server must not outlive it.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const server: PrivateRedisServer = {
    get port() {
      return port;
    },
    get pid() {
      return child?.pid;
    },
    stop: (options) => stop(options),
    // Already running: nothing to start. (A second launch on the same port fails to bind, and it used to
    // replace `child`, so the running server was no longer stopped at the end: it outlived the run.)
    start: () => (child && child.exitCode === null && child.signalCode === null ? Promise.resolve() : launch()),
    restart: async (options) => {
      await stop(options);
      await launch();
    },
  };
  const dispose = async (): Promise<void> => {
    await stop();
    process.removeListener('exit', killOnExit);
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  };
  return { server, dispose };
}

/** Every key under the test prefix with its value (whatever its type), as text. */
export async function dumpKeys(test: TestRedis): Promise<string> {
  const client = test.connect();
  const lines: string[] = [];
  for (const key of await test.keys()) {
    const type = await client.type(key);
    const value =
      type === 'string'
        ? await client.get(key)
        : type === 'hash'
          ? await client.hgetall(key)
          : type === 'list'
            ? await client.lrange(key, 0, -1)
            : type === 'set'
              ? await client.smembers(key)
              : type === 'zset'
                ? await client.zrange(key, 0, -1, 'WITHSCORES')
                : type === 'stream'
                  ? await client.xrange(key, '-', '+')
                  : `(${type})`;
    lines.push(`${key} ${JSON.stringify(value)}`);
  }
  return lines.join('\n');
}
