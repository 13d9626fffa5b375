import { afterEach, describe, expect, it } from 'vitest';
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { childWith, isChild, isParent } from '../helpers/script.js';

/** Issue 23: a task that failed when its model call's retries ran out resumes from its last checkpoint. */

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

const hasToolResult = (request: RecordedRequest): boolean => (request.body.messages as { role: string }[]).some((message) => message.role === 'tool');

describe('legate tasks resume of a failed task', () => {
  it('a child failed by a cut stream (no retries left) is shown as resumable, resumes from its checkpoint and completes', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { label: 'parent-spawns', match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'FLAKY-GOAL' } }] } },
      { label: 'parent-waits', match: isParent, reply: { text: 'started it' } },
      { label: 'child-1', match: childWith('FLAKY-GOAL'), reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { label: 'child-2-cut', match: childWith('FLAKY-GOAL'), reply: { text: 'half of an answer that the network cuts off', cutStream: true } },
      { label: 'parent-told', match: isParent, reply: { text: 'the child failed' } },
      { label: 'child-2-resumed', match: childWith('FLAKY-GOAL'), reply: { text: 'FLAKY-SUMMARY: done after all' } },
    );
    // max_retries 0 (scriptedConfig): the first cut ends the child.
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const cli = (args: string[]) => runMain(['--config', configFile, ...args], { home, cwd: work });

    const run = await cli(['run', '--json', 'go']);
    expect(run.code, run.stderr).toBe(0);
    const [task] = JSON.parse(run.stdout).tasks as { task_id: string; status: string }[];
    expect(task).toMatchObject({ status: 'failed' });
    const id = task!.task_id;

    const shown = await cli(['tasks', 'show', id]);
    expect(shown.stdout).toMatch(/error: stream (interrupted|ended before)/);
    expect(shown.stdout).toContain(`can be resumed from its last checkpoint: legate tasks resume ${id}`);
    const shownJson = JSON.parse((await cli(['tasks', 'show', id, '--json'])).stdout);
    expect(shownJson).toMatchObject({ status: 'failed', can_resume: true });

    const resumed = await cli(['tasks', 'resume', id]);
    expect(resumed.stderr).toContain(`resumed ${id} from its last checkpoint`);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('FLAKY-SUMMARY: done after all');

    // Resumed from the checkpoint: the first step (model call + list_dir) was not repeated, and the
    // cut reply is nowhere in the resumed request.
    const child = server.requests.filter(isChild);
    expect(child.map((request) => request.stepLabel)).toEqual(['child-1', 'child-2-cut', 'child-2-resumed']);
    expect(child.filter((request) => !hasToolResult(request))).toHaveLength(1);
    expect(child.at(-1)!.text).not.toContain('half of an answer');

    const after = JSON.parse((await cli(['tasks', 'show', id, '--json'])).stdout);
    expect(after).toMatchObject({ status: 'completed', can_resume: false });
    expect(after.error).toBeUndefined();
    server.assertDone();
  });

  it('a completed task is still refused, naming the states that resume', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'DONE-GOAL' } }] } },
      { match: childWith('DONE-GOAL'), reply: { text: 'done' } },
      { match: isParent, reply: { text: 'ok' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const cli = (args: string[]) => runMain(['--config', configFile, ...args], { home, cwd: work });
    const run = await cli(['run', '--json', 'go']);
    const [task] = JSON.parse(run.stdout).tasks as { task_id: string }[];
    const resumed = await cli(['tasks', 'resume', task!.task_id]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(`task "${task!.task_id}" is completed; only an interrupted, failed or queued task can be resumed`);
  });
});
