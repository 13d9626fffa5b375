import { describe, expect, it } from 'vitest';
import { LegateError } from '../../src/errors.js';
import { RedisTaskStore } from '../../src/tasks/store/redis/redis-store.js';
import { RedisWorkerRegistry } from '../../src/tasks/store/redis/redis-worker-registry.js';
import { operator, TaskService } from '../../src/tasks/task-service.js';
import { startScriptedServer } from '../../src/testing/scripted-server.js';
import { startDashboard } from '../../src/ui/dashboard-server.js';
import type { WorkerView } from '../../src/ui/view-types.js';
import { TaskOwnerDirectory } from '../../src/ui/worker-directory.js';
import { WorktreeManager } from '../../src/worktrees/worktree-manager.js';
import { scriptedConfig, startCli, tempHome } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { afterTest, until } from './ui-harness.js';

const redis = await useTestRedis();

describe.skipIf(!redis)('legate ui: the Workers page in shared mode', () => {
  it('lists a worker with its host, concurrency and the task it holds; killed, it shows as dead', async () => {
    const server = await startScriptedServer({ handler: () => ({ hang: true }) });
    afterTest(() => server.close());
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: { redis_url: redis!.url, redis_prefix: redis!.prefix } }));
    const store = await RedisTaskStore.open({ url: redis!.url, prefix: redis!.prefix });
    afterTest(() => store.close());
    const registry = await RedisWorkerRegistry.open({ url: redis!.url, prefix: redis!.prefix });
    afterTest(() => registry.close());
    // A worker of a crashed machine that never left: silent for a minute.
    await registry.announce({ id: 'far-host:77:aa:k', host: 'far-host', concurrency: 8, startedAt: Date.now() - 120_000, heartbeatAt: Date.now() - 60_000 });
    await store.create(taskFixture({ id: 't_heldbyw01', status: 'queued', cwd: work, goal: 'GOAL-HELD' }));

    const worker = startCli(['--config', configFile, 'worker', '--concurrency', '3'], { home, cwd: work });
    afterTest(async () => {
      worker.kill('SIGKILL');
      await worker.done;
    });
    await server.waitForRequests(1, 20_000);

    const tasks = new TaskService({
      store,
      maxConcurrent: 1,
      runner: { run: (task) => Promise.reject(new LegateError('invalid_arguments', `task "${task.id}" cannot run here`)) },
    });
    afterTest(async () => void (await tasks.shutdown()));
    const dashboard = await startDashboard({
      tasks,
      sessions: store.sessions,
      port: 0,
      cwd: work,
      prices: {},
      secrets: [],
      workers: new TaskOwnerDirectory(tasks, registry),
      worktrees: new WorktreeManager(work),
      resume: (id) => Promise.reject(new LegateError('invalid_arguments', `cannot resume "${id}" here`)),
      answerApproval: (id, answer) => tasks.answerApproval(operator, id, answer),
    });
    afterTest(() => dashboard.close());
    const workers = async (): Promise<WorkerView[]> =>
      (await (await fetch(`${dashboard.origin}/api/workers`, { headers: { 'x-legate-token': dashboard.token } })).json()).workers;

    const owner = (await store.get('t_heldbyw01'))!.owner!;
    await until(async () => (await workers()).some((entry) => entry.id === owner), 'the worker to be listed');
    const [alive, far] = await workers();
    expect(alive).toMatchObject({ id: owner, host: owner.split(':')[0], concurrency: 3, tasks: ['t_heldbyw01'], dead: false });
    expect(Date.now() - alive!.lastHeartbeat!).toBeLessThan(30_000);
    expect(far).toMatchObject({ id: 'far-host:77:aa:k', host: 'far-host', concurrency: 8, tasks: [], dead: true });

    worker.kill('SIGKILL');
    await worker.done;
    await until(async () => (await workers()).find((entry) => entry.id === owner)?.dead === true, 'the killed worker to show as dead');
  });
});
