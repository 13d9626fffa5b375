import { afterEach, describe, expect, it } from 'vitest';
import { maskRedisUrl } from '../../src/tasks/store/redis/redis-connection.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, scriptedConfig, startCli, tempDir, tempHome, until } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { isChild } from '../helpers/script.js';
import { gate } from './task-runtime-helpers.js';

/**
 * `run --dispatch-only` waits for its tasks, which live on in Redis and on the workers, through a Redis
 * outage for as long as it lasts, saying what it waits for; once Redis is back it goes on (issue 23).
 */

// With AOF: the tasks outlive the restart (a Redis restarted empty is test/tasks/redis-reset.test.ts).
const redis = await useTestRedis({ aof: { dir: tempDir('legate-outage-aof-') } });
// Longer than a store command waits through reconnections (about 10 s) before it fails.
const outageMs = 15_000;

let server: ScriptedServer | undefined;
let worker: RunningCli | undefined;
let run: RunningCli | undefined;
afterEach(async () => {
  for (const cli of [worker, run]) {
    cli?.kill('SIGKILL');
    await cli?.done;
  }
  await redis?.server?.start().catch(() => {});
  await server?.close();
});

const hasToolResult = (request: RecordedRequest) => request.body.messages.some((message: { role: string }) => message.role === 'tool');

describe.skipIf(!redis)('run --dispatch-only through a Redis outage', () => {
  it('keeps waiting while Redis is down, says so, and completes once it is back', async () => {
    const released = gate();
    server = await startScriptedServer({
      handler: async (request) => {
        if (isChild(request)) {
          await released.opened;
          return { text: 'OUTAGE-CHILD-DONE' };
        }
        if (!hasToolResult(request)) return { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'OUTAGE-GOAL' } }] };
        if (request.text.includes('OUTAGE-CHILD-DONE')) return { text: 'ALL DONE' };
        return { text: 'spawned it' };
      },
    });
    const tasks = { redis_url: redis!.url, redis_prefix: redis!.prefix, lease_seconds: 60 };
    const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks }));
    worker = startCli(['--config', dirs.configFile, 'worker'], { home: dirs.home, cwd: dirs.work });
    await until(() => /legate worker \S+: running tasks/.test(worker!.stderr()), 30_000, 'the worker to start');
    run = startCli(['--config', dirs.configFile, 'run', '--dispatch-only', 'go'], { home: dirs.home, cwd: dirs.work });
    await until(() => server!.requests.some(isChild), 30_000, 'the worker to run the task');

    await redis!.server!.stop({ kill: true });
    const started = Date.now();
    let exitedEarly: unknown;
    void run.done.then((result) => (exitedEarly ??= { ...result, afterMs: Date.now() - started }));
    await until(() => run!.stderr().includes(`waiting for the Redis at ${maskRedisUrl(redis!.url)}`), 30_000, 'the run to say it waits for Redis').catch(
      (error) => {
        throw new Error(`${error}\n${JSON.stringify(exitedEarly)}\nrun:\n${run!.stderr()}`);
      },
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageMs - (Date.now() - started))));
    expect(exitedEarly, run.stderr()).toBeUndefined();

    await redis!.server!.start();
    released.open();
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ALL DONE');
    expect(result.stderr).toContain(`the Redis at ${maskRedisUrl(redis!.url)} answers again`);
  }, 120_000);
});
