import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { afterRequest, childWith, isParent, lastToolResults } from '../helpers/script.js';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

describe('stored sessions', () => {
  it('a task outlives its session; chat --resume sees it in list_tasks and gets its notice exactly once', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'OUTLIVE-GOAL' } }] } },
      { match: isParent, reply: afterRequest(server, childWith('OUTLIVE-GOAL'), { text: 'started; not waiting' }) },
      // In flight when the run exits (so it is aborted and handed back, nothing checkpointed)…
      { match: childWith('OUTLIVE-GOAL'), reply: { delayMs: 5000, text: 'never delivered' } },
      // …and answered when the worker runs it again.
      { match: childWith('OUTLIVE-GOAL'), reply: { text: 'OUTLIVE-SUMMARY: finished by the worker' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    // 1. A run that does not wait: its task is handed back when the process exits.
    const run = await runMain(['--config', configFile, 'run', '--no-wait', '--json', 'SESSION-ONE: start it'], { home, cwd: work });
    expect(run.code, run.stderr).toBe(0);
    const sessionId = JSON.parse(run.stdout).session_id as string;
    const listed = await runMain(['--config', configFile, 'tasks', 'list', '--json'], { home, cwd: work });
    const [task] = JSON.parse(listed.stdout).tasks;
    expect(task).toMatchObject({ status: 'interrupted', session_id: sessionId });

    // 2. A worker finishes it while no session is running.
    const worker = await runMain(['--config', configFile, 'worker', '--until-idle'], { home, cwd: work });
    expect(worker.code, worker.stderr).toBe(0);

    // 3. The session resumes: the notice is its first new turn, and list_tasks sees the earlier task.
    server.enqueue(
      { match: (request) => isParent(request) && request.text.includes('OUTLIVE-SUMMARY'), reply: { text: 'RESUMED-NOTICE-SEEN' } },
      { match: isParent, reply: { toolCalls: [{ name: 'list_tasks', arguments: {} }] } },
      { match: isParent, reply: { text: 'listed' } },
    );
    const before = server.requests.length;
    const resumed = await runMain(['--config', configFile, 'chat', '--resume', sessionId], { home, cwd: work, input: 'what tasks do I have?\n' });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`session ${sessionId} resumed`);
    expect(resumed.stdout).toContain('RESUMED-NOTICE-SEEN');
    const requests = server.requests.slice(before);
    // The resumed conversation carries the first session's messages.
    expect(requests[0]!.text).toContain('SESSION-ONE: start it');
    const listRequest = requests.find((request) => request.text.includes('what tasks do I have?') && lastToolResults(request)[0]?.tasks)!;
    expect(lastToolResults(listRequest)[0].tasks).toEqual([expect.objectContaining({ task_id: task.task_id, status: 'completed' })]);
    server.assertDone();

    // 4. Resuming again delivers nothing twice; --resume without an id picks the latest session here.
    server.enqueue({ match: isParent, reply: { text: 'quiet' } });
    const again = await runMain(['--config', configFile, 'chat', '--resume'], { home, cwd: work, input: 'anything new?\n' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`session ${sessionId} resumed`);
    const last = server.requests.at(-1)!;
    expect((last.text.match(/OUTLIVE-SUMMARY/g) ?? []).length).toBe(1);
    server.assertDone();
  });

  it('resuming an unknown session names it', async () => {
    const { home, work, configFile } = tempHome(scriptedConfig('http://127.0.0.1:9/v1'));
    const result = await runMain(['--config', configFile, 'chat', '--resume', 's_nope'], { home, cwd: work, input: '' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no session "s_nope"');
  });
});
