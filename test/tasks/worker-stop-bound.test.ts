import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ScriptedServer, type ScriptedStep, startScriptedServer } from '../../src/testing/scripted-server.js';
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
  });

  describe.skipIf(!redis)('shared mode, Redis down', () => {
    // Both cases on the one Redis that dies (each with its own prefix, so neither worker takes the other's
    // task): the outage and the bound are waited out once.
    const cases = new Map<string, { worker: RunningCli; server: ScriptedServer; taskId?: string; result?: { code: number | null; stderr: string } }>();
    afterAll(async () => {
      for (const { worker: running, server: model } of cases.values()) {
        running.kill('SIGKILL');
        await running.done;
        await model.close();
      }
      await redis?.server?.start().catch(() => {});
    });

    async function sharedWorker(
      name: string,
      steps: (model: ScriptedServer) => ScriptedStep[],
      ready: (worker: RunningCli, model: ScriptedServer) => Promise<void>,
    ): Promise<void> {
      const model = await startScriptedServer();
      model.enqueue(...steps(model));
      const tasks = { lease_seconds: leaseSeconds, redis_url: redis!.url, redis_prefix: `${redis!.prefix}-${name}` };
      const dirs = tempHome(scriptedConfig(model.openaiBaseUrl, { tasks }));
      const started = await runCli(['--config', dirs.configFile, 'run', '--no-wait', 'go'], { home: dirs.home, cwd: dirs.work });
      expect(started.code, started.stderr).toBe(0);
      const running = startCli(['--config', dirs.configFile, 'worker'], { home: dirs.home, cwd: dirs.work });
      cases.set(name, { worker: running, server: model });
      await ready(running, model);
    }

    beforeAll(async () => {
      await Promise.all([
        sharedWorker(
          'ran',
          (model) => [
            { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'STOP-GOAL' } }] } },
            { match: isParent, reply: afterRequest(model, childWith('STOP-GOAL'), { text: 'left it running' }) },
            { label: 'cut by --no-wait exit', match: childWith('STOP-GOAL'), reply: { hang: true } },
            { label: 'run by the worker', match: childWith('STOP-GOAL'), reply: { text: 'STOP-SUMMARY' } },
          ],
          (running) => until(() => /◂ t_[0-9a-f]+ completed/.test(running.stderr()), 30_000, 'the worker to finish the task'),
        ),
        sharedWorker(
          'running',
          (model) => [
            { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'HANG-GOAL' } }] } },
            { match: isParent, reply: afterRequest(model, childWith('HANG-GOAL'), { text: 'left it running' }) },
            { label: 'cut by --no-wait exit', match: childWith('HANG-GOAL'), reply: { hang: true } },
            { label: 'running on the worker', match: childWith('HANG-GOAL'), reply: { hang: true } },
          ],
          async (running, model) => {
            await until(() => model.requests.some((request) => request.stepLabel === 'running on the worker'), 30_000, 'the worker to run the task');
            cases.get('running')!.taskId = /▸ (t_[0-9a-f]+) running/.exec(running.stderr())![1]!;
          },
        ),
      ]);
      await redis!.server!.stop({ kill: true });
      // Down for a while: the workers' connections are retrying when the signal comes.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      await Promise.all(
        [...cases.values()].map(async (entry) => {
          entry.worker.kill('SIGTERM');
          entry.result = await Promise.race([entry.worker.done, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), boundMs))]);
        }),
      );
    }, 120_000);

    const stoppedCase = (name: string) => {
      const entry = cases.get(name)!;
      expect(entry.result, `the worker did not exit within ${boundMs} ms of SIGTERM; it said:\n${entry.worker.stderr()}`).toBeDefined();
      return { ...entry, result: entry.result! };
    };

    it('a worker that ran a task exits on SIGTERM, saying what it could not do', () => {
      expect(stoppedCase('ran').result.stderr).toContain('stopping: handing running tasks back as interrupted');
    });

    it('under a running task: the worker exits on SIGTERM and names the task it could not hand back', () => {
      const { result, taskId } = stoppedCase('running');
      expect(result.stderr).toContain('stopping: handing running tasks back as interrupted');
      // When the hand-back write is still pending at the lease's end, it says so; when it already failed, the lease
      // keeper gave the task up (it is taken over once its lease runs out either way).
      if (result.stderr.includes('could not hand back')) {
        expect(result.stderr).toContain(`could not hand back ${taskId}: the Redis at ${redis!.url}`);
        expect(result.stderr).toContain('taken over once their lease runs out');
      }
    });
  });
});
