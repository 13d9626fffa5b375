import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { afterRequest, childWith, isParent } from '../helpers/script.js';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

describe('legate worker', () => {
  it('runs a handed-back task, and Ctrl-C hands it back again as interrupted (not cancelled, not lost)', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'WORKER-GOAL' } }] } },
      { match: isParent, reply: afterRequest(server, childWith('WORKER-GOAL'), { text: 'left it running' }) },
      { label: 'aborted by --no-wait exit', match: childWith('WORKER-GOAL'), reply: { hang: true } },
      { label: 'aborted by worker Ctrl-C', match: childWith('WORKER-GOAL'), reply: { hang: true } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));
    expect((await runCli(['--config', configFile, 'run', '--no-wait', 'go'], { home, cwd: work })).code).toBe(0);

    const worker = startCli(['--config', configFile, 'worker'], { home, cwd: work });
    await until(() => server.requests.some((request) => request.stepLabel === 'aborted by worker Ctrl-C'), 15_000, 'the worker to run the task');
    const listedWhileRunning = JSON.parse((await runCli(['--config', configFile, 'tasks', 'list', '--json'], { home, cwd: work })).stdout);
    expect(listedWhileRunning.tasks[0].status).toBe('running');
    worker.kill('SIGINT');
    const stopped = await worker.done;

    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain('handing running tasks back');
    const listed = JSON.parse((await runCli(['--config', configFile, 'tasks', 'list', '--json'], { home, cwd: work })).stdout);
    expect(listed.tasks).toEqual([expect.objectContaining({ goal: 'WORKER-GOAL', status: 'interrupted' })]);
    expect(server.requests.find((request) => request.stepLabel === 'aborted by worker Ctrl-C')!.aborted).toBe(true);
    server.assertDone();
  });

  it('keeps running while idle, says once that it waits, runs a task another process hands it later, and Ctrl-C exits 0', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'LATE-GOAL' } }] } },
      { match: isParent, reply: afterRequest(server, childWith('LATE-GOAL'), { text: 'left it running' }) },
      { label: 'cut by --no-wait exit', match: childWith('LATE-GOAL'), reply: { hang: true } },
      { label: 'run by the worker', match: childWith('LATE-GOAL'), reply: { text: 'LATE-SUMMARY' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const worker = startCli(['--config', configFile, 'worker'], { home, cwd: work });
    await until(() => worker.stderr().includes('waiting for tasks'), 15_000, 'the worker to say it waits');

    // The task appears only now, from another process.
    expect((await runCli(['--config', configFile, 'run', '--no-wait', 'go'], { home, cwd: work })).code).toBe(0);
    await until(() => /◂ t_[0-9a-f]+ completed/.test(worker.stderr()), 30_000, 'the worker to finish the task');
    const listed = JSON.parse((await runCli(['--config', configFile, 'tasks', 'list', '--json'], { home, cwd: work })).stdout);
    expect(listed.tasks).toEqual([expect.objectContaining({ goal: 'LATE-GOAL', status: 'completed' })]);
    // Idle again: still there, and it said it waits once per idle spell, not at every poll.
    await until(() => worker.stderr().split('waiting for tasks').length === 3, 15_000, 'the worker to wait again');
    worker.kill('SIGINT');
    const stopped = await worker.done;

    expect(stopped.code).toBe(0);
    expect(stopped.stderr.split('waiting for tasks').length).toBe(3);
    expect(server.requests.find((request) => request.stepLabel === 'run by the worker')).toBeDefined();
    server.assertDone();
  });

  it('--until-idle exits 0 at once when nothing is queued', async () => {
    server = await startScriptedServer();
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const result = await runCli(['--config', configFile, 'worker', '--until-idle'], { home, cwd: work });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('waiting for tasks');
  });
});
