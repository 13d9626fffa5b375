import { describe, expect, test } from 'vitest';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { freePort, useTestRedis } from '../helpers/redis.js';
import { home, scriptedServer } from './cli-harness.js';

const redis = await useTestRedis();

/** `legate doctor` in shared mode: the task store is the Redis, shown without its password and checked; not state.db. */
describe.skipIf(!redis)('legate doctor in shared mode', () => {
  test('a Redis that answers: its URL and ok, no state.db', async () => {
    const server = await scriptedServer();
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl, { tasks: { redis_url: redis!.url, redis_prefix: redis!.prefix } }));
    const result = await runMain(['doctor'], { home: legateHome, cwd: work });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`tasks:\\s+shared store at ${redis!.url}/? \\(Redis, prefix ${redis!.prefix}\\): ok`));
    expect(result.stdout).not.toContain('state.db');
  });

  test('a Redis that does not answer: the URL with its password masked, unreachable, exit 1', async () => {
    const server = await scriptedServer();
    const url = `redis://:doctor-secret-pw@127.0.0.1:${await freePort()}`;
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl, { tasks: { redis_url: url } }));
    const result = await runMain(['doctor'], { home: legateHome, cwd: work });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/tasks:\s+shared store at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/? \(Redis, prefix legate\): unreachable: /);
    expect(result.stdout + result.stderr).not.toContain('doctor-secret-pw');
    expect(result.stdout).not.toContain('state.db');
  });
});
