import { join } from 'node:path';
import { WaitingError, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { missingCapabilities } from '../../src/tasks/shared/capability-checked-runner.js';
import { jobIdFor, queueName, taskIdOfJob } from '../../src/tasks/shared/queue-names.js';
import { operator } from '../../src/tasks/task-service.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import { type ScriptedReply, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, tempHome } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { childWith } from '../helpers/script.js';
import { type SharedNode, sharedNode } from './shared-nodes.js';
import { childSpec, gate, removeDirs, tempDir, until } from './task-runtime-helpers.js';

const redis = await useTestRedis();

let server: ScriptedServer | undefined;
const nodes: SharedNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const node of nodes.splice(0)) await node.close().catch(() => {});
  await server?.close();
  server = undefined;
  await redis?.deleteKeys();
  removeDirs(dirs);
});

async function node(options: Omit<Parameters<typeof sharedNode>[1], 'baseUrl'>): Promise<SharedNode> {
  const made = await sharedNode(redis!, { baseUrl: server!.openaiBaseUrl, ...options });
  nodes.push(made);
  return made;
}

/** A scripted server answering each request with `answer` (called in arrival order). */
async function serve(answer: (request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>): Promise<ScriptedServer> {
  server = await startScriptedServer({ handler: answer });
  return server;
}

describe('queue names', () => {
  it('a job id per task and epoch, without ":", and the task id back from it', () => {
    expect(jobIdFor('t_0a1b2c3d', 0)).toBe('t_0a1b2c3d-e0');
    expect(jobIdFor('t_0a1b2c3d', 2)).not.toBe(jobIdFor('t_0a1b2c3d', 0));
    expect(jobIdFor('t_0a1b2c3d', 2)).not.toContain(':');
    expect(taskIdOfJob(jobIdFor('t_0a1b2c3d', 7))).toBe('t_0a1b2c3d');
    expect(queueName(2)).toBe('tasks-depth-2');
  });
});

describe('capability check', () => {
  it('names the missing working directory, route and toolsets', () => {
    const task = { ...childSpec('X', '/nowhere/at/all'), route: 'special', toolsets: ['file', 'notes'], id: 't_1', status: 'queued' as const };
    const worker = { owner: () => 'w1', hasRoute: (route: string) => route === 'fast', toolsets: () => new Set(['file', 'terminal']) };
    const missing = missingCapabilities(
      { ...task, createdAt: 0, apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, outputLines: 0, reported: false },
      worker,
    );
    expect(missing).toEqual(['no working directory "/nowhere/at/all"', 'no route "special" in its delegation.routes', 'no toolset or MCP server "notes"']);
  });

  it("names a worktree child's worktree when it is not at the same path here (issue 28)", () => {
    const here = tempDir('legate-cap-', dirs);
    const worktree = { repository: here, branch: 'legate/t_2', path: '/other/home/worktrees/t_2', base: 'f'.repeat(40), parentHadUncommittedChanges: false };
    const task = { ...childSpec('X', here), worktree, id: 't_2', status: 'queued' as const };
    const worker = { owner: () => 'w1', hasRoute: () => true, toolsets: () => new Set(['file', 'terminal']) };
    const missing = missingCapabilities(
      { ...task, createdAt: 0, apiCalls: 0, usage: { inputTokens: 0, outputTokens: 0 }, outputLines: 0, reported: false },
      worker,
    );
    expect(missing).toEqual(['no worktree "/other/home/worktrees/t_2" (isolation "worktree" needs the repository and the worktree at the same paths here)']);
  });
});

describe('--dispatch-only', () => {
  it('is refused without shared mode, naming what turns it on', async () => {
    const { home, work, configFile } = tempHome(scriptedConfig('http://127.0.0.1:9/v1'));
    const result = await runCli(['--config', configFile, 'run', '--dispatch-only', 'anything'], { home, cwd: work });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--dispatch-only needs shared mode: set tasks.redis_url in config.yaml or LEGATE_REDIS_URL');
  });
});

describe.skipIf(!redis)('shared mode dispatch on BullMQ', () => {
  it('a dispatch-only process runs nothing itself: a worker runs its task; a cancel from a third process aborts the model call within 1 s', async () => {
    const calling = gate();
    await serve(() => {
      calling.open();
      return { hang: true };
    });
    const work = tempDir('legate-bull-', dirs);
    const parent = await node({ cwd: work });
    const worker = await node({ cwd: work, concurrency: 2 });
    const desk = await node({ cwd: work });
    const heard: string[] = [];
    parent.runtime.tasks.watchEnds((taskId) => heard.push(taskId));
    const task = await parent.runtime.tasks.spawn(childSpec('CANCEL-ME', work));
    await calling.opened;
    const running = await desk.runtime.tasks.get(operator, task.id);
    expect(running).toMatchObject({ status: 'running', owner: worker.runtime.tasks.owner });
    expect(parent.runtime.tasks.activeCount).toBe(0);

    const cancelledAt = Date.now();
    await desk.runtime.tasks.cancel(operator, task.id);
    await until(() => server!.requests[0]!.aborted, 'the model call to be aborted', 5_000);
    expect(server!.requests[0]!.finishedAt! - cancelledAt).toBeLessThan(1_000);
    const { task: ended, timedOut } = await parent.runtime.tasks.waitForEnd(operator, task.id, 10_000);
    expect(timedOut).toBe(false);
    expect(ended).toMatchObject({ status: 'cancelled', cancelledBy: 'user' });
    // Every process hears the end (a chat's notices): the canceller and the worker both tell it.
    await until(() => heard.includes(task.id), 'the parent to hear the end', 5_000);
  });

  it('a worker that loses the job lock aborts its child and writes nothing more; the task is resumed, never run twice at once', async () => {
    const firstCall = gate();
    await serve(async (request) => {
      if (request.index === 0) {
        firstCall.open();
        return { hang: true };
      }
      return { text: 'RESUMED-SUMMARY' };
    });
    const work = tempDir('legate-bull-', dirs);
    const parent = await node({ cwd: work });
    const a = await node({ cwd: work, concurrency: 1 });
    const task = await parent.runtime.tasks.spawn(childSpec('LOCK', work));
    await firstCall.opened;
    expect(await parent.runtime.tasks.get(operator, task.id)).toMatchObject({ owner: a.runtime.tasks.owner, epoch: 1 });

    // The lock disappears under the live worker (as when it was cut off past its lock).
    const client = redis!.connect();
    expect(await client.del(`${redis!.prefix}:${queueName(1)}:${jobIdFor(task.id, 0)}:lock`)).toBe(1);
    await until(() => server!.requests[0]!.aborted, "A's model call to be aborted", 5_000);
    const b = await node({ cwd: work, concurrency: 1 });
    const { task: ended } = await parent.runtime.tasks.waitForEnd(operator, task.id, 20_000);
    expect(ended).toMatchObject({ status: 'completed', summary: 'RESUMED-SUMMARY', epoch: 2 });
    expect([a.runtime.tasks.owner, b.runtime.tasks.owner]).toContain(ended.owner);
    // Never two model calls of the task at once.
    const [first, second] = server!.requests;
    expect(server!.requests).toHaveLength(2);
    expect(first!.finishedAt!).toBeLessThanOrEqual(second!.startedAt);
  });

  it("BullMQ's stall limit is not legate's: past tasks.max_resumes a task that keeps losing its worker fails with max_resumes", async () => {
    const firstCall = gate();
    await serve(() => {
      firstCall.open();
      return { hang: true };
    });
    const work = tempDir('legate-bull-', dirs);
    const parent = await node({ cwd: work });
    await node({ cwd: work, concurrency: 1, maxResumes: 0 });
    const task = await parent.runtime.tasks.spawn(childSpec('RESUME-LIMIT', work));
    await firstCall.opened;
    const client = redis!.connect();
    expect(await client.del(`${redis!.prefix}:${queueName(1)}:${jobIdFor(task.id, 0)}:lock`)).toBe(1);
    const { task: ended } = await parent.runtime.tasks.waitForEnd(operator, task.id, 20_000);
    expect(ended).toMatchObject({ status: 'failed', exitReason: 'max_resumes', takeovers: 1 });
    expect(ended.error).toContain('tasks.max_resumes is 0');
    expect(server!.requests).toHaveLength(1);
  });

  it('a closing worker puts back a job its fetch already took; another worker runs the task', async () => {
    await serve(() => ({ text: 'RUN-BY-B' }));
    const work = tempDir('legate-bull-', dirs);
    const parent = await node({ cwd: work });
    const a = await node({ cwd: work, concurrency: 1 });
    a.workers!.beginClose();
    const task = await parent.runtime.tasks.spawn(childSpec('CLOSING', work));
    // The job as a fetch that was pending when the worker began closing brings it.
    const fetcher = new Worker(queueName(1), undefined, { connection: redis!.connect({ maxRetriesPerRequest: null }), prefix: redis!.prefix, autorun: false });
    try {
      let job: Awaited<ReturnType<typeof fetcher.getNextJob>>;
      await until(async () => (job = await fetcher.getNextJob('fetch-token')) !== undefined, 'the job', 5_000);
      await expect(a.workers!.process(job!, 'fetch-token')).rejects.toBeInstanceOf(WaitingError);
      expect(await parent.shared.queues.queue(1).getJobState(job!.id!)).toBe('waiting');
      expect(await parent.runtime.tasks.get(operator, task.id)).toMatchObject({ status: 'queued' });
    } finally {
      await fetcher.close();
    }
    const b = await node({ cwd: work, concurrency: 1 });
    const { task: ended } = await parent.runtime.tasks.waitForEnd(operator, task.id, 15_000);
    expect(ended).toMatchObject({ status: 'completed', summary: 'RUN-BY-B', owner: b.runtime.tasks.owner });
  });

  it('depth 2 with one slot per depth: a child waiting on its own child finishes (one queue per depth, no deadlock)', async () => {
    await serve((request) => {
      if (request.text.includes('GRANDCHILD-DONE')) return { text: 'CHILD-DONE' };
      if (request.text.includes('TOP-CHILD')) return { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'GRANDCHILD-GOAL' } }] };
      expect(childWith('GRANDCHILD-GOAL')(request)).toBe(true);
      return { text: 'GRANDCHILD-DONE' };
    });
    const work = tempDir('legate-bull-', dirs);
    const parent = await node({ cwd: work, maxSpawnDepth: 2 });
    await node({ cwd: work, concurrency: 1, maxSpawnDepth: 2 });
    const task = await parent.runtime.tasks.spawn({ ...childSpec('TOP-CHILD', work), toolsets: ['delegation'] });
    const { task: ended, timedOut } = await parent.runtime.tasks.waitForEnd(operator, task.id, 20_000);
    expect(timedOut).toBe(false);
    expect(ended).toMatchObject({ status: 'completed', summary: 'CHILD-DONE' });
    const grandchildren = await parent.runtime.tasks.list(operator, {});
    expect(grandchildren.find((each) => each.depth === 2)).toMatchObject({ status: 'completed', summary: 'GRANDCHILD-DONE' });
  });

  it('a worker without the route, the directory or a toolset fails the task naming them and itself', async () => {
    await serve(() => ({ text: 'must not be asked' }));
    const work = tempDir('legate-bull-', dirs);
    const routes = { delegation: { routes: { special: { model: 'special-model' } } } };
    const parent = await node({ cwd: work, config: routes });
    const worker = await node({ cwd: work, concurrency: 1 });
    const task = await parent.runtime.tasks.spawn({ ...childSpec('ROUTED', join(work, 'only-on-the-parent')), route: 'special', toolsets: ['file', 'notes'] });
    const { task: ended } = await parent.runtime.tasks.waitForEnd(operator, task.id, 15_000);
    expect(ended.status).toBe('failed');
    expect(ended.error).toContain(`cannot run on worker ${worker.runtime.tasks.owner}`);
    expect(ended.error).toContain('no route "special"');
    expect(ended.error).toContain(`no working directory "${join(work, 'only-on-the-parent')}"`);
    expect(ended.error).toContain('no toolset or MCP server "notes"');
    expect(server!.requests).toHaveLength(0);
  });

  it('waiting does not settle on interrupted: a worker that stops hands the task back, another resumes it, the waiter gets the end', async () => {
    const firstCall = gate();
    await serve(async (request) => {
      if (request.index === 0) {
        firstCall.open();
        return { hang: true };
      }
      return { text: 'HANDED-ON' };
    });
    const work = tempDir('legate-bull-', dirs);
    const parent = await node({ cwd: work });
    const a = await node({ cwd: work, concurrency: 1 });
    const task = await parent.runtime.tasks.spawn(childSpec('HANDBACK', work));
    await firstCall.opened;
    let settled = false;
    const waiting = parent.runtime.tasks.waitForEnd(operator, task.id, 20_000).then((result) => {
      settled = true;
      return result;
    });
    await a.close();
    expect(await parent.runtime.tasks.get(operator, task.id)).toMatchObject({ status: 'interrupted' });
    expect(settled).toBe(false);
    const b = await node({ cwd: work, concurrency: 1 });
    const { task: ended, timedOut } = await waiting;
    expect(timedOut).toBe(false);
    expect(ended).toMatchObject({ status: 'completed', summary: 'HANDED-ON', owner: b.runtime.tasks.owner, epoch: 2 });
  });
});
