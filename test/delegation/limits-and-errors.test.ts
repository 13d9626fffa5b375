import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { childWith, isChild, isParent, lastToolResults, taskIds, toolNames } from '../helpers/script.js';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

const asyncTools = ['delegate_task_async', 'check_task', 'steer_task', 'collect_task', 'cancel_task', 'list_tasks'];

describe('delegation limits', () => {
  it('refuses delegation past max_spawn_depth: children at the limit get no delegation tools and a call to one is an error', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'DEPTH-CHILD' } }] } },
      { match: isParent, reply: { text: 'ok' } },
      { match: childWith('DEPTH-CHILD'), reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'grandchild' } }] } },
      { match: childWith('DEPTH-CHILD'), reply: { text: 'could not delegate' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work });

    expect(result.code).toBe(0);
    const [parentFirst] = server.requests.filter(isParent);
    expect(toolNames(parentFirst!)).toEqual(expect.arrayContaining(['delegate_task', ...asyncTools, 'read_file', 'terminal']));
    const children = server.requests.filter(isChild);
    expect(toolNames(children[0]!)).toEqual(expect.arrayContaining(['read_file', 'terminal']));
    for (const name of ['delegate_task', ...asyncTools]) expect(toolNames(children[0]!)).not.toContain(name);
    expect(lastToolResults(children[1]!)[0]).toMatch(/unknown_tool: no tool named "delegate_task_async"/);
    server.assertDone();
  });

  it('max_spawn_depth 2 lets a child delegate once more, and its grandchild cannot', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'LEVEL-1' } }] } },
      { match: isParent, reply: { text: 'ok' } },
      { match: childWith('LEVEL-1'), reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'LEVEL-2' } }] } },
      { match: childWith('LEVEL-1'), reply: { text: 'level 1 done' } },
      { match: childWith('LEVEL-2'), reply: { text: 'level 2 done' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl, { delegation: { max_spawn_depth: 2 } }));

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work });

    expect(result.code).toBe(0);
    const level1 = server.requests.filter(childWith('LEVEL-1')).filter((request) => !request.text.includes('LEVEL-2'));
    expect(toolNames(level1[0]!)).toContain('delegate_task');
    const level2 = server.requests.find((request) => isChild(request) && request.text.includes('Goal:\nLEVEL-2'))!;
    expect(toolNames(level2)).not.toContain('delegate_task');
    const [batch] = lastToolResults(server.requests.filter(childWith('LEVEL-1')).at(-1)!);
    expect(batch.results[0]).toMatchObject({ status: 'completed', summary: 'level 2 done' });
    server.assertDone();
  });
});

describe('honest status', () => {
  it('a child is completed only with a usable answer: HTTP errors, empty answers and the iteration cap are failed with the reason', async () => {
    server = await startScriptedServer();
    server.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'delegate_task', arguments: { tasks: [{ goal: 'FAIL-HTTP' }, { goal: 'FAIL-EMPTY' }, { goal: 'FAIL-LOOP' }, { goal: 'OK-TASK' }] } },
          ],
        },
      },
      { match: isParent, reply: { text: 'reported' } },
      { match: childWith('FAIL-HTTP'), reply: { status: 400, errorBody: { error: { message: 'model "x" does not exist', type: 'invalid_request_error' } } } },
      { match: childWith('FAIL-EMPTY'), reply: { text: '' } },
      { match: childWith('FAIL-LOOP'), reply: { toolCalls: [{ name: 'list_dir', arguments: {} }] } },
      { match: childWith('FAIL-LOOP'), reply: { toolCalls: [{ name: 'list_dir', arguments: {} }] } },
      // Out of model calls: one last call, without tool use, for its summary.
      { match: childWith('FAIL-LOOP'), reply: { text: 'LOOP-SUMMARY: listed the directory twice' } },
      { match: childWith('OK-TASK'), reply: { text: 'fine' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl, { delegation: { max_iterations: 2 } }));

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work });

    expect(result.code).toBe(0);
    const [batch] = lastToolResults(server.requests.filter(isParent)[1]!);
    const [http, empty, loop, ok] = batch.results;
    expect(http).toMatchObject({ status: 'failed', exit_reason: 'error' });
    expect(http.error).toContain('400');
    expect(http.error).toContain('does not exist');
    expect(empty).toMatchObject({ status: 'failed', exit_reason: 'error' });
    expect(empty.error).toMatch(/empty final answer/);
    // Two calls allowed, and the summary call (counted: it is a model call too).
    expect(loop).toMatchObject({ status: 'failed', exit_reason: 'max_iterations', api_calls: 3, summary: 'LOOP-SUMMARY: listed the directory twice' });
    expect(loop.error).toMatch(/max_iterations/);
    expect(ok).toMatchObject({ status: 'completed', summary: 'fine' });
    server.assertDone();
  });

  it('child_timeout_seconds fails a slow child with exit_reason timeout', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'SLOW' } }] } },
      { match: isParent, reply: { text: 'ok' } },
      { match: childWith('SLOW'), reply: { hang: true } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl, { delegation: { child_timeout_seconds: 0.5 } }));

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work });

    expect(result.code).toBe(0);
    const [batch] = lastToolResults(server.requests.filter(isParent)[1]!);
    expect(batch.results[0]).toMatchObject({ status: 'failed', exit_reason: 'timeout' });
  });
});

describe('bad arguments get clear errors naming the value', () => {
  it('unknown ids, bad timeouts, bad statuses, missing goals, unknown routes, finished tasks', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'QUICK' } }] } },
      {
        match: isParent,
        reply: (request) => {
          const [id] = taskIds(request);
          return {
            toolCalls: [
              { name: 'collect_task', arguments: { task_id: id, timeout: 30 } },
              { name: 'check_task', arguments: { task_id: 't_nope1234' } },
              { name: 'steer_task', arguments: { task_id: 't_nope1234', message: 'hi' } },
              { name: 'cancel_task', arguments: { task_id: 't_nope1234' } },
              { name: 'collect_task', arguments: { task_id: 't_nope1234' } },
              { name: 'collect_task', arguments: { task_id: id, timeout: -1 } },
              { name: 'collect_task', arguments: { task_id: id, timeout: 'soon' } },
              { name: 'list_tasks', arguments: { status: 'bogus' } },
              { name: 'delegate_task', arguments: {} },
              { name: 'delegate_task_async', arguments: { goal: 'x', route: 'nowhere' } },
              { name: 'delegate_task_async', arguments: { goal: '   ' } },
              { name: 'delegate_task_async', arguments: { goal: 'x', toolsets: ['telepathy'] } },
              { name: 'check_task', arguments: '{"task_id": ' },
            ],
          };
        },
      },
      {
        match: isParent,
        reply: (request) => {
          const [id] = taskIds(request);
          return {
            toolCalls: [
              { name: 'steer_task', arguments: { task_id: id, message: 'too late' } },
              { name: 'cancel_task', arguments: { task_id: id } },
            ],
          };
        },
      },
      { match: isParent, reply: { text: 'done' } },
      { match: childWith('QUICK'), reply: { text: 'quick done' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work });

    expect(result.code).toBe(0);
    const parent = server.requests.filter(isParent);
    const results = lastToolResults(parent[2]!);
    const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
    expect(results[0]).toMatchObject({ status: 'completed' });
    for (const index of [1, 2, 3, 4]) expect(text(results[index])).toBe('task_not_found: no task "t_nope1234" in this session');
    // One refusal shape for every tool result: plain `code: message` text, whether the executor or an operation refused.
    for (const index of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) expect(results[index]).toMatch(/^(task_not_found|invalid_arguments|unknown_route): /);
    expect(text(results[5])).toMatch(/invalid_arguments: collect_task: timeout: timeout must be a number of seconds >= 0 \(got -1\)/);
    expect(text(results[6])).toMatch(/invalid_arguments: collect_task: timeout: .*number.*\(got "soon"\)/);
    expect(text(results[7])).toMatch(/invalid_arguments: list_tasks: status: .*\(got "bogus"\)/);
    expect(text(results[8])).toMatch(/give either goal \(one task\) or tasks/);
    expect(text(results[9])).toMatch(/unknown_route: no route "nowhere"/);
    expect(text(results[10])).toMatch(/goal must be a non-empty string/);
    expect(text(results[11])).toMatch(/toolsets "telepathy" not available/);
    expect(text(results[12])).toMatch(/invalid_arguments: arguments for check_task are not valid JSON/);
    const [steerLate, cancelLate] = lastToolResults(parent[3]!);
    expect(text(steerLate)).toMatch(/^task_not_running: task "t_[0-9a-f]+" is completed/);
    expect(text(cancelLate)).toMatch(/^task_finished: task "t_[0-9a-f]+" already ended \(completed\)/);
    server.assertDone();
  });
});

describe('legate chat', () => {
  it('a task that ends while the agent is idle enters the conversation as a new turn; slash commands work', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'CHAT-GOAL' } }] } },
      { match: isParent, reply: { text: 'CHAT-SPAWNED' } },
      { match: (request) => isParent(request) && request.text.includes('CHAT-SUMMARY'), reply: { text: 'CHAT-NOTICE-SEEN' } },
      { match: childWith('CHAT-GOAL'), reply: { delayMs: 500, text: 'CHAT-SUMMARY: finished' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['--config', configFile, 'chat'], { home, cwd: work, input: 'start the background job\n/tasks\n/steer t_nope hi\n' });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('CHAT-SPAWNED');
    expect(result.stdout).toContain('CHAT-NOTICE-SEEN');
    expect(result.stdout).toMatch(/t_[0-9a-f]+ {2}(running|completed) +CHAT-GOAL/);
    expect(result.stderr).toContain('task_not_found: no task "t_nope" in this session');
    const last = server.requests.filter(isParent).at(-1)!;
    expect((last.body.messages as { role: string; content: string }[]).at(-1)!.content).toMatch(/\[Background task t_[0-9a-f]+ ended: completed\]/);
    server.assertDone();
  });
});
