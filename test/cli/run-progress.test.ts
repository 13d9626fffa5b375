import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, scriptedConfig, startCli, until } from '../helpers/cli.js';
import { childWith, isParent } from '../helpers/script.js';
import { home, scriptedServer } from './cli-harness.js';

/** `legate run` shows what happens (like the demo), and says what it leaves behind when stopped. */
describe('legate run: progress and what is left behind', () => {
  test('Ctrl-C while waiting for a background task: exit 130, the task handed back as interrupted, and how to continue it', async () => {
    const server = await scriptedServer();
    server.enqueue(
      {
        match: isParent,
        reply: { text: 'Starting the survey in the background.', toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'SURVEY-GOAL' } }] },
      },
      { match: isParent, reply: { text: 'The survey is running.' } },
      { label: 'child', match: childWith('SURVEY-GOAL'), reply: { hang: true } },
    );
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const run = startCli(['run', 'survey this'], { home: legateHome, cwd: work });
    await until(() => run.stderr().includes('waiting for 1 background task'), 20_000, 'run to wait for its task');
    await until(() => server.requests.some((request) => request.stepLabel === 'child'), 20_000, 'the child to call the model');
    run.kill('SIGINT');
    const result = await run.done;

    expect(result.code).toBe(130);
    // The answer the parent gave is still printed.
    expect(result.stdout).toBe('The survey is running.\n');
    const id = /task (t_\w+) spawned/.exec(result.stderr)?.[1];
    expect(id, result.stderr).toBeDefined();
    expect(result.stderr).toContain('interrupted (Ctrl-C)');
    expect(result.stderr).toContain(`${id} interrupted: SURVEY-GOAL`);
    expect(result.stderr).toContain('legate worker');
    expect(result.stderr).toContain(`legate tasks resume ${id}`);
    // And the store agrees: the task is interrupted, resumable.
    const listed = JSON.parse((await runCli(['tasks', 'list', '--json'], { home: legateHome, cwd: work })).stdout);
    expect(listed.tasks).toEqual([expect.objectContaining({ task_id: id, status: 'interrupted' })]);
  });

  test('Ctrl-C during the parent model call: exit 130, no answer on stdout, and it says the run stopped before its answer', async () => {
    const server = await scriptedServer([{ label: 'parent', reply: { hang: true } }]);
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const run = startCli(['run', 'think hard'], { home: legateHome, cwd: work });
    await until(() => server.requests.some((request) => request.stepLabel === 'parent'), 20_000, 'the parent model call');
    run.kill('SIGINT');
    const result = await run.done;

    expect(result.code).toBe(130);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('interrupted (Ctrl-C): the run stopped before its final answer');
    expect(result.stderr).not.toContain('did not finish in this run');
    expect(server.requests[0]!.aborted).toBe(true);
  });

  test('--no-wait leaving a task behind says so and how to continue it (exit 0)', async () => {
    const server = await scriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'NOWAIT-GOAL' } }] } },
      { match: isParent, reply: { text: 'Left it running.' } },
      { label: 'child', match: childWith('NOWAIT-GOAL'), reply: { hang: true } },
    );
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const result = await runCli(['run', '--no-wait', 'go'], { home: legateHome, cwd: work });

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Left it running.\n');
    expect(result.stderr).toMatch(/1 background task did not finish in this run/);
    expect(result.stderr).toMatch(/t_\w+ (interrupted|queued): NOWAIT-GOAL/);
    expect(result.stderr).toContain('legate worker');
    expect(result.stderr).toMatch(/legate tasks resume t_\w+/);
  });

  test("progress on stderr: the parent's text, a child spawned, steered and ended, the wait; --json keeps stdout to the JSON", async () => {
    const server = await scriptedServer();
    server.enqueue(
      { match: isParent, reply: { text: 'Spawning a helper.', toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'HELPER-GOAL' } }] } },
      {
        match: (request) => isParent(request) && request.text.includes('"task_id"'),
        reply: (request) => {
          const id = /"task_id":"(t_\w+)"/.exec(request.text)![1]!;
          return { text: 'Steering it.', toolCalls: [{ name: 'steer_task', arguments: { task_id: id, message: 'FOCUS-ON-TESTS' } }] };
        },
      },
      { match: isParent, reply: { text: 'Waiting for the helper.' } },
      { label: 'child first call', match: childWith('HELPER-GOAL'), reply: { delayMs: 1500, toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { match: childWith('HELPER-GOAL'), reply: { text: 'HELPER-SUMMARY' } },
      { match: (request) => isParent(request) && request.text.includes('HELPER-SUMMARY'), reply: { text: 'All done.' } },
    );
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const result = await runCli(['run', '--json', 'go'], { home: legateHome, cwd: work });

    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ final: 'All done.', status: 'completed' });
    const err = result.stderr;
    const at = (pattern: RegExp): number => {
      const match = pattern.exec(err);
      expect(match, `stderr should match ${pattern}:\n${err}`).not.toBeNull();
      return match!.index;
    };
    const order = [
      /parent› Spawning a helper\./,
      /▸ task t_\w+ spawned: HELPER-GOAL/,
      /↪ task t_\w+ steered: FOCUS-ON-TESTS/,
      /waiting for 1 background task: t_\w+ \d+s/,
      /◂ task t_\w+ completed/,
    ].map(at);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The log file keeps the task's lifecycle too.
    const log = readFileSync(join(legateHome, 'logs', 'legate.log'), 'utf8');
    expect(log).toMatch(/run: task t_\w+ spawned \(parent-model, depth 1\): HELPER-GOAL/);
    expect(log).toMatch(/run: task t_\w+ steered: FOCUS-ON-TESTS/);
    expect(log).toMatch(/run: task t_\w+ completed after 2 model calls/);
    server.assertDone();
  });
});
