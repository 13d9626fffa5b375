import { afterEach, describe, expect, it } from 'vitest';
import { operator } from '../../src/tasks/task-service.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, scriptedConfig, startCli, tempDir, tempHome, until } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { type SharedNode, sharedNode } from './shared-nodes.js';
import { childSpec, gate } from './task-runtime-helpers.js';

// A private redis-server with AOF (appendfsync always), which the test kills and starts again.
const redis = await useTestRedis({ aof: { dir: tempDir('legate-aof-') } });

let server: ScriptedServer | undefined;
let worker: RunningCli | undefined;
let parent: SharedNode | undefined;
afterEach(async () => {
  worker?.kill('SIGKILL');
  await worker?.done;
  await parent?.close();
  await server?.close();
});

function stepOf(request: RecordedRequest): 1 | 2 {
  return request.body.messages.some((message: { role: string }) => message.role === 'tool') ? 2 : 1;
}

describe.skipIf(!redis)('shared mode: Redis restarted under a running worker', () => {
  it('the tasks finish and none is lost: their steps are not run again', async () => {
    const restarted = gate();
    const goals = Array.from({ length: 6 }, (_, index) => `RESTART-GOAL-${index + 1}`);
    const goalOf = (request: RecordedRequest) => goals.find((goal) => request.text.includes(goal))!;
    server = await startScriptedServer({
      handler: async (request) => {
        if (stepOf(request) === 1) return { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] };
        await restarted.opened;
        return { text: `DONE-${goalOf(request)}` };
      },
    });
    const shared = { redis_url: redis!.url, redis_prefix: redis!.prefix, lease_seconds: 5 };
    const home = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: shared }, { api_key: 'sk-restart-worker-0001' }));
    worker = startCli(['--config', home.configFile, 'worker', '--concurrency', '6'], { home: home.home, cwd: home.work });
    await until(() => /legate worker \S+: running tasks/.test(worker!.stderr()), 30_000, 'the worker to start');
    parent = await sharedNode(redis!, { baseUrl: server.openaiBaseUrl, cwd: home.work, leaseSeconds: 5 });
    const tasks = await Promise.all(goals.map((goal) => parent!.runtime.tasks.spawn(childSpec(goal, home.work))));

    // Every task is in its second model call, its first step checkpointed: Redis dies and comes back.
    await until(() => server!.requests.filter((request) => stepOf(request) === 2).length === goals.length, 30_000, 'every task to reach its second step');
    await redis!.server!.restart({ kill: true });
    restarted.open();

    for (const task of tasks) {
      const { task: ended, timedOut } = await parent.runtime.tasks.waitForEnd(operator, task.id, 30_000);
      expect(timedOut).toBe(false);
      expect(ended).toMatchObject({ status: 'completed', summary: `DONE-${task.goal}`, epoch: 1 });
    }
    // One request per step of each task: nothing was run again.
    const pairs = server.requests.map((request) => `${goalOf(request)}#${stepOf(request)}`);
    expect(pairs.sort()).toEqual(goals.flatMap((goal) => [`${goal}#1`, `${goal}#2`]).sort());
    expect(worker.stderr()).not.toMatch(/◂ t_\S+ (failed|interrupted)/);
  }, 90_000);
});
