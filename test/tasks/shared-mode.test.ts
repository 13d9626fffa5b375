import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { dumpKeys, freePort, useTestRedis } from '../helpers/redis.js';
import { afterRequest, childWith, isParent } from '../helpers/script.js';

const redis = await useTestRedis();

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe.skipIf(!redis)('shared mode: tasks in Redis (tasks.redis_url, LEGATE_REDIS_URL)', () => {
  it('a task spawned in one LEGATE_HOME is run by a worker of another and collected from the first; no API key reaches Redis', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'SHARED-GOAL' } }] } },
      // The run exits only once its child's request is in flight (else the worker's would take the hanging step).
      { match: isParent, reply: afterRequest(server, childWith('SHARED-GOAL'), { text: 'left it running' }) },
      { label: 'cut by --no-wait exit', match: childWith('SHARED-GOAL'), reply: { hang: true } },
      { label: 'run by worker B', match: childWith('SHARED-GOAL'), reply: { text: 'SHARED-SUMMARY' } },
    );
    const keyA = 'sk-home-a-SECRET-1111';
    const keyB = 'sk-home-b-SECRET-2222';
    // Home A names the Redis in its config; home B takes it from LEGATE_REDIS_URL.
    const a = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: { redis_url: redis!.url, redis_prefix: redis!.prefix } }, { api_key: keyA }));
    const b = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: { redis_prefix: redis!.prefix } }, { api_key: keyB }));
    const envB = { LEGATE_REDIS_URL: redis!.url };

    expect((await runCli(['--config', a.configFile, 'run', '--no-wait', 'go'], { home: a.home, cwd: a.work })).code).toBe(0);
    const worker = startCli(['--config', b.configFile, 'worker'], { home: b.home, cwd: b.work, env: envB });
    await until(() => /◂ t_[0-9a-f]+ completed/.test(worker.stderr()), 60_000, 'worker B to finish the task');
    worker.kill('SIGINT');
    const stopped = await worker.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(new RegExp(`legate worker \\S+: running tasks of the shared store at ${redis!.url.replaceAll('.', '\\.')}`));
    const id = /◂ (t_[0-9a-f]+) completed/.exec(stopped.stderr)![1]!;

    const collected = await runCli(['--config', a.configFile, 'tasks', 'collect', id], { home: a.home, cwd: a.work });
    expect(collected.code).toBe(0);
    expect(collected.stdout).toContain('SHARED-SUMMARY');
    // Each home spoke to the model with its own key.
    expect(server.requests.find((request) => request.stepLabel === 'run by worker B')!.apiKey).toBe(keyB);
    expect(server.requests.find((request) => request.stepLabel === 'cut by --no-wait exit')!.apiKey).toBe(keyA);
    server.assertDone();

    const stored = await dumpKeys(redis!);
    expect(stored).toContain('SHARED-SUMMARY');
    expect(stored).not.toContain(keyA);
    expect(stored).not.toContain(keyB);
    expect(stored).not.toContain('SECRET');
    // Four CLI processes and a takeover: 13 s on a quiet 2-core machine, more under load.
  }, 90_000);

  it('a command that cannot reach Redis fails with store_unavailable naming the URL, password masked', async () => {
    const port = await freePort();
    const { home, work } = tempHome();
    const result = await runCli(['tasks', 'list'], { home, cwd: work, env: { LEGATE_REDIS_URL: `redis://:pw-s3cret@127.0.0.1:${port}/0` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('store_unavailable');
    expect(result.stderr).toContain(`redis://:***@127.0.0.1:${port}/0`);
    expect(result.stderr).not.toContain('pw-s3cret');
  });
});
