import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { childWith, isChild, isParent, taskIds } from '../helpers/script.js';
import { sandboxArgsForCommands } from '../sandbox/commands-sandbox.js';

let server: ScriptedServer;
let running: RunningCli[] = [];
afterEach(async () => {
  for (const cli of running) cli.kill('SIGKILL');
  running = [];
  await server?.close();
});

function start(args: string[], options: Parameters<typeof startCli>[1]): RunningCli {
  const cli = startCli(args, options);
  running.push(cli);
  return cli;
}

const hasToolResult = (request: RecordedRequest): boolean => (request.body.messages as { role: string }[]).some((message) => message.role === 'tool');

async function listJson(configFile: string, home: string, work: string): Promise<{ task_id: string; status: string; goal: string }[]> {
  const listed = await runCli(['--config', configFile, 'tasks', 'list', '--all', '--json'], { home, cwd: work });
  expect(listed.code, listed.stderr).toBe(0);
  return JSON.parse(listed.stdout).tasks;
}

describe('durable tasks across processes', () => {
  it('SIGKILL mid-step → interrupted in a new process → resume from the checkpoint (no repeated step) → collect in a third process', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'CRASH-GOAL' } }] } },
      { match: isParent, reply: { hang: true } },
      { label: 'child-1', match: childWith('CRASH-GOAL'), reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { label: 'child-2-hangs', match: childWith('CRASH-GOAL'), reply: { hang: true } },
      { label: 'child-2-resumed', match: childWith('CRASH-GOAL'), reply: { text: 'CRASH-SUMMARY: survived' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const first = start(['--config', configFile, 'run', 'go'], { home, cwd: work });
    await until(() => server.requests.some((request) => request.stepLabel === 'child-2-hangs'), 15_000, 'the child to be mid-step');
    first.kill('SIGKILL');
    await first.done;

    const [task] = await listJson(configFile, home, work);
    expect(task).toMatchObject({ status: 'interrupted', goal: 'CRASH-GOAL' });

    const resumed = await runCli(['--config', configFile, 'tasks', 'resume', task!.task_id], { home, cwd: work });
    expect(resumed.stderr).toContain('resumed');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('CRASH-SUMMARY: survived');

    // The step already done (the first model call and its list_dir) was not repeated.
    const childRequests = server.requests.filter(isChild);
    expect(childRequests.filter((request) => !hasToolResult(request))).toHaveLength(1);
    expect(childRequests.map((request) => request.stepLabel)).toEqual(['child-1', 'child-2-hangs', 'child-2-resumed']);
    const resumedRequest = childRequests.at(-1)!;
    expect(resumedRequest.body.messages).toEqual(childRequests[1]!.body.messages);

    const collected = await runCli(['--config', configFile, 'tasks', 'collect', task!.task_id, '--json'], { home, cwd: work });
    expect(collected.code).toBe(0);
    expect(JSON.parse(collected.stdout)).toMatchObject({ task_id: task!.task_id, status: 'completed', timed_out: false, summary: 'CRASH-SUMMARY: survived' });
    const text = await runCli(['--config', configFile, 'tasks', 'collect', task!.task_id], { home, cwd: work });
    expect(text.stdout.trim()).toBe('CRASH-SUMMARY: survived');
  });

  it('a tool call in flight at the crash gets a result saying its effects are unknown', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'TOOL-CRASH' } }] } },
      { match: isParent, reply: { hang: true } },
      { match: childWith('TOOL-CRASH'), reply: { toolCalls: [{ name: 'terminal', arguments: { command: 'echo started > marker && sleep 30' } }] } },
      { label: 'after-resume', match: childWith('TOOL-CRASH'), reply: { text: 'checked the marker' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const first = start(['--config', configFile, 'run', ...sandboxArgsForCommands(), 'go'], { home, cwd: work });
    await until(
      async () => (await listJson(configFile, home, work))[0]?.status === 'running' && server.requests.filter(isChild).length === 1,
      15_000,
      'the tool to be running',
    );
    // The command has started once its marker exists: kill the process while the tool call runs.
    await until(() => existsSync(join(work, 'marker')), 15_000, 'the tool to write its marker');
    first.kill('SIGKILL');
    await first.done;

    const [task] = await listJson(configFile, home, work);
    expect(task!.status).toBe('interrupted');
    const resumed = await runCli(['--config', configFile, 'tasks', 'resume', task!.task_id], { home, cwd: work });
    expect(resumed.code).toBe(0);
    const last = server.requests.at(-1)!;
    expect(last.stepLabel).toBe('after-resume');
    const toolMessage = (last.body.messages as { role: string; content: string }[]).find((message) => message.role === 'tool')!;
    expect(toolMessage.content).toMatch(/stopped while this tool call was running\. Its effects are unknown/);
  });

  it('cross-process steer and cancel reach the owning process', async () => {
    let markSteerAccepted!: () => void;
    const steerAccepted = new Promise<void>((resolve) => (markSteerAccepted = resolve));
    server = await startScriptedServer();
    server.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'delegate_task_async', arguments: { goal: 'STEER-ME' } },
            { name: 'delegate_task_async', arguments: { goal: 'CANCEL-ME' } },
          ],
        },
      },
      {
        match: isParent,
        reply: (request) => ({ toolCalls: taskIds(request).map((id) => ({ name: 'collect_task', arguments: { task_id: id, timeout: 60 } })) }),
      },
      { match: isParent, reply: { text: 'owner done' } },
      // The first reply waits until the outside steer was accepted, so the steer is always pending at the next call.
      { match: childWith('STEER-ME'), reply: () => steerAccepted.then(() => ({ toolCalls: [{ name: 'list_dir', arguments: {} }] })) },
      { match: childWith('STEER-ME', 'OUTSIDE-STEER'), reply: { text: 'steered from outside' } },
      { match: childWith('CANCEL-ME'), reply: { hang: true } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const owner = start(['--config', configFile, 'run', 'go'], { home, cwd: work });
    await until(() => server.requests.filter(isChild).length === 2, 15_000, 'both children in flight');
    const tasks = await listJson(configFile, home, work);
    const steerId = tasks.find((task) => task.goal === 'STEER-ME')!.task_id;
    const cancelId = tasks.find((task) => task.goal === 'CANCEL-ME')!.task_id;

    const steered = await runCli(['--config', configFile, 'tasks', 'steer', steerId, 'OUTSIDE-STEER: use the short form'], { home, cwd: work });
    expect(steered.code, steered.stderr).toBe(0);
    markSteerAccepted();
    const cancelled = await runCli(['--config', configFile, 'tasks', 'cancel', cancelId], { home, cwd: work });
    expect(cancelled.code).toBe(0);
    // From the moment the cancel is stored (the CLI's own start-up, seconds on a loaded machine, is not the owner's latency).
    const cancelledAt = Date.now();
    const cancelRequest = server.requests.find(childWith('CANCEL-ME'))!;
    await until(() => cancelRequest.aborted, 5000, 'the owner to abort the cancelled child');
    expect(Date.now() - cancelledAt).toBeLessThan(3000);

    const result = await owner.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('owner done');
    expect(server.requests.filter(childWith('CANCEL-ME'))).toHaveLength(1);
    expect(server.requests.some(childWith('STEER-ME', 'OUTSIDE-STEER'))).toBe(true);
    const final = await listJson(configFile, home, work);
    expect(Object.fromEntries(final.map((task) => [task.goal, task.status]))).toEqual({ 'STEER-ME': 'completed', 'CANCEL-ME': 'cancelled' });
    server.assertDone();
  });

  it('50 tasks in flight, SIGKILL, a worker resumes them all: 50/50 completed, none lost, no step repeated', async () => {
    let phase: 'crash' | 'resume' = 'crash';
    server = await startScriptedServer({
      handler: (request) => {
        if (isParent(request)) {
          if (hasToolResult(request)) return { hang: true };
          return { toolCalls: Array.from({ length: 50 }, (_, index) => ({ name: 'delegate_task_async', arguments: { goal: `FLEET-${index}` } })) };
        }
        if (!hasToolResult(request)) return { toolCalls: [{ name: 'list_dir', arguments: {} }] };
        if (phase === 'crash') return { hang: true };
        return { text: `done ${/FLEET-\d+/.exec(request.text)![0]}` };
      },
    });
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl, { delegation: { max_concurrent_children: 50 } }));

    const first = start(['--config', configFile, 'run', 'go'], { home, cwd: work });
    await until(() => server.requests.filter((request) => isChild(request) && hasToolResult(request)).length === 50, 30_000, '50 children mid-step');
    first.kill('SIGKILL');
    await first.done;

    const interrupted = await listJson(configFile, home, work);
    expect(interrupted).toHaveLength(50);
    expect(new Set(interrupted.map((task) => task.status))).toEqual(new Set(['interrupted']));

    phase = 'resume';
    const worker = await runCli(['--config', configFile, 'worker', '--until-idle'], { home, cwd: work });
    expect(worker.code, worker.stderr).toBe(0);

    const finished = await listJson(configFile, home, work);
    expect(finished).toHaveLength(50);
    expect(finished.filter((task) => task.status === 'completed')).toHaveLength(50);
    for (let index = 0; index < 50; index++) {
      const mine = server.requests.filter((request) => isChild(request) && new RegExp(`FLEET-${index}\\b`).test(request.text));
      // First step once; the in-flight second call once before the crash and once after.
      expect(mine.filter((request) => !hasToolResult(request))).toHaveLength(1);
      expect(mine).toHaveLength(3);
    }
  });
});
