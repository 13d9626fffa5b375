import { afterEach, describe, expect, it } from 'vitest';
import { maskRedisUrl } from '../../src/tasks/store/redis/redis-connection.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { isChild } from '../helpers/script.js';
import { gate } from './task-runtime-helpers.js';

/**
 * A Redis restarted empty (no AOF) loses every task: the deployment marker tells that from a task taken or
 * cancelled elsewhere, and the worker, the run waiting on its task and `legate tasks` say so (issue 23).
 */

const redis = await useTestRedis({ private: true });
const lost = (url: string) => `the Redis at ${maskRedisUrl(url)} has lost this deployment's tasks (restarted without persistence?)`;

let server: ScriptedServer | undefined;
let worker: RunningCli | undefined;
afterEach(async () => {
  worker?.kill('SIGKILL');
  await worker?.done;
  await server?.close();
});

describe.skipIf(!redis)('shared mode: a Redis that lost its tasks', () => {
  it('the worker, the waiting run (its --json result too) and legate tasks say so', async () => {
    const released = gate();
    server = await startScriptedServer({
      handler: async (request: RecordedRequest) => {
        if (isChild(request)) {
          await released.opened;
          return { text: 'CHILD-DONE' };
        }
        if (!request.body.messages.some((message: { role: string }) => message.role === 'tool'))
          return { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'RESET-GOAL' } }] };
        return { text: 'spawned it' };
      },
    });
    const tasks = { redis_url: redis!.url, redis_prefix: redis!.prefix, lease_seconds: 5 };
    const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks }));
    worker = startCli(['--config', dirs.configFile, 'worker'], { home: dirs.home, cwd: dirs.work });
    await until(() => /legate worker \S+: running tasks/.test(worker!.stderr()), 30_000, 'the worker to start');
    const run = startCli(['--config', dirs.configFile, 'run', '--dispatch-only', '--json', 'go'], { home: dirs.home, cwd: dirs.work });
    await until(() => server!.requests.some(isChild), 30_000, 'the worker to run the task');

    // Redis comes back empty (as after a restart without persistence).
    const admin = redis!.connect();
    await admin.flushall();
    released.open();

    await until(() => worker!.stderr().includes(lost(redis!.url)), 30_000, 'the worker to say the Redis lost the tasks').catch((error) => {
      throw new Error(`${error}\nworker:\n${worker!.stderr()}\nrun:\n${run.stderr()}`);
    });
    const ran = await run.done;
    expect(ran.code, ran.stderr).toBe(1);
    expect(ran.stderr).toContain(lost(redis!.url));
    expect(JSON.parse(ran.stdout)).toMatchObject({ status: 'failed', error_code: 'store_reset', error: expect.stringContaining(lost(redis!.url)) });
    expect(ran.stderr + worker.stderr()).not.toContain('claimed by another process');
    // Said once by the worker, however many stores it has open.
    expect(worker.stderr().split(lost(redis!.url)).length).toBe(2);

    // A process opened after the reset learns of it from what this home saw before: once.
    const taskId = /task (t_[0-9a-f]+) spawned/.exec(ran.stderr)![1]!;
    const shown = await runCli(['--config', dirs.configFile, 'tasks', 'show', taskId], { home: dirs.home, cwd: dirs.work });
    expect(shown.code).toBe(1);
    expect(shown.stderr).toContain(`store_reset: ${lost(redis!.url)}: no task "${taskId}"`);
    const again = await runCli(['--config', dirs.configFile, 'tasks', 'list'], { home: dirs.home, cwd: dirs.work });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('has lost');
  }, 90_000);
});
