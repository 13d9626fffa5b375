import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { afterRequest, childWith, isParent } from '../helpers/script.js';

/**
 * Every stop of a worker is bounded: within `lease_seconds` + 5 s of SIGINT/SIGTERM it exits, whatever the
 * store and the model server do, and says what it could not hand back. Checked for a worker that has run a
 * task (the case that hung), in local and shared mode, with Redis up and down. The waits below are the bound
 * plus a generous margin for a loaded machine: what they catch is a worker that never exits.
 */

const leaseSeconds = 2;
const boundMs = (leaseSeconds + 5) * 1000 + 15_000;
const redis = await useTestRedis({ private: true });

let server: ScriptedServer | undefined;
let worker: RunningCli | undefined;
afterEach(async () => {
  worker?.kill('SIGKILL');
  await worker?.done;
  await redis?.server?.start().catch(() => {});
  await server?.close();
});

/** A task spawned by `run --no-wait` in this home, and a worker that runs it to the end, then idles. */
async function workerThatRanATask(tasks: Record<string, unknown>): Promise<{ home: string; work: string; configFile: string }> {
  server = await startScriptedServer();
  server.enqueue(
    { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'STOP-GOAL' } }] } },
    { match: isParent, reply: afterRequest(server, childWith('STOP-GOAL'), { text: 'left it running' }) },
    { label: 'cut by --no-wait exit', match: childWith('STOP-GOAL'), reply: { hang: true } },
    { label: 'run by the worker', match: childWith('STOP-GOAL'), reply: { text: 'STOP-SUMMARY' } },
  );
  const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: { lease_seconds: leaseSeconds, ...tasks } }));
  const started = await runCli(['--config', dirs.configFile, 'run', '--no-wait', 'go'], { home: dirs.home, cwd: dirs.work });
  expect(started.code, started.stderr).toBe(0);
  worker = startCli(['--config', dirs.configFile, 'worker'], { home: dirs.home, cwd: dirs.work });
  await until(() => /◂ t_[0-9a-f]+ completed/.test(worker!.stderr()), 30_000, 'the worker to finish the task');
  return dirs;
}

async function stopped(signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  worker!.kill(signal);
  const exited = await Promise.race([worker!.done, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), boundMs))]);
  expect(exited, `the worker did not exit within ${boundMs} ms of ${signal}; it said:\n${worker!.stderr()}`).toBeDefined();
  return exited!;
}

describe('legate worker: a bounded stop', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`local mode: a worker that ran a task exits on ${signal}`, async () => {
      await workerThatRanATask({});
      const result = await stopped(signal);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('stopping: handing running tasks back as interrupted');
    }, 90_000);
  }

  describe.skipIf(!redis)('shared mode', () => {
    it('Redis up: a worker that ran a task exits on SIGTERM', async () => {
      await workerThatRanATask({ redis_url: redis!.url, redis_prefix: redis!.prefix });
      const result = await stopped('SIGTERM');
      expect(result.code).toBe(0);
      expect(result.stderr).toContain('stopping: handing running tasks back as interrupted');
    }, 90_000);

    it('Redis down: a worker that ran a task exits on SIGTERM, saying what it could not do', async () => {
      await workerThatRanATask({ redis_url: redis!.url, redis_prefix: redis!.prefix });
      await redis!.server!.stop({ kill: true });
      // Down for a while: the worker's connections are retrying when the signal comes.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      const result = await stopped('SIGTERM');
      expect(result.stderr).toContain('stopping: handing running tasks back as interrupted');
    }, 90_000);

    it('Redis down under a running task: the worker exits on SIGTERM and names the task it could not hand back', async () => {
      server = await startScriptedServer();
      server.enqueue(
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'HANG-GOAL' } }] } },
        { match: isParent, reply: afterRequest(server, childWith('HANG-GOAL'), { text: 'left it running' }) },
        { label: 'cut by --no-wait exit', match: childWith('HANG-GOAL'), reply: { hang: true } },
        { label: 'running on the worker', match: childWith('HANG-GOAL'), reply: { hang: true } },
      );
      const tasks = { lease_seconds: leaseSeconds, redis_url: redis!.url, redis_prefix: redis!.prefix };
      const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks }));
      expect((await runCli(['--config', dirs.configFile, 'run', '--no-wait', 'go'], { home: dirs.home, cwd: dirs.work })).code).toBe(0);
      worker = startCli(['--config', dirs.configFile, 'worker'], { home: dirs.home, cwd: dirs.work });
      await until(() => server!.requests.some((request) => request.stepLabel === 'running on the worker'), 30_000, 'the worker to run the task');
      const taskId = /▸ (t_[0-9a-f]+) running/.exec(worker.stderr())![1]!;
      await redis!.server!.stop({ kill: true });
      const result = await stopped('SIGTERM');
      expect(result.stderr).toContain('stopping: handing running tasks back as interrupted');
      // When the hand-back write is still pending at the lease's end, it says so; when it already failed, the lease
      // keeper gave the task up (it is taken over once its lease runs out either way).
      if (result.stderr.includes('could not hand back')) {
        expect(result.stderr).toContain(`could not hand back ${taskId}: the Redis at ${redis!.url}`);
        expect(result.stderr).toContain('taken over once their lease runs out');
      }
    }, 90_000);
  });
});
