import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome, until } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { childWith, isChild, isParent, lastToolResults, taskIds } from '../helpers/script.js';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

describe('async delegation through the real CLI', () => {
  it('spawns without waiting, checks while running, steers the next child call, collects the summary, isolates the child', async () => {
    server = await startScriptedServer();
    server.enqueue(
      {
        label: 'parent: spawn',
        match: isParent,
        reply: {
          text: 'Spawning.',
          toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'GOAL-A: count the widgets', context: 'CTX-A: widgets live in ./w' } }],
        },
      },
      {
        label: 'parent: check + steer',
        match: isParent,
        reply: (request) => {
          const [id] = taskIds(request);
          return {
            toolCalls: [
              { name: 'check_task', arguments: { task_id: id } },
              { name: 'steer_task', arguments: { task_id: id, message: 'STEER-TEXT-1: count only blue widgets' } },
            ],
          };
        },
      },
      {
        label: 'parent: collect',
        match: isParent,
        reply: (request) => ({ toolCalls: [{ name: 'collect_task', arguments: { task_id: taskIds(request)[0], timeout: 30 } }] }),
      },
      { label: 'parent: final', match: isParent, reply: { text: 'PARENT-FINAL: the child says there are 3 blue widgets' } },
      { label: 'child: list', match: childWith('GOAL-A'), reply: { delayMs: 1500, toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { label: 'child: steered answer', match: childWith('GOAL-A', 'STEER-TEXT-1'), reply: { text: 'SUMMARY-A: 3 blue widgets' } },
    );
    const { home, work } = tempHome();
    const config = tempHome(scriptedConfig(server.openaiBaseUrl)).configFile;

    const result = await runMain(['--config', config, 'run', 'PARENT-SECRET-CONTEXT: please count widgets'], { home, cwd: work });

    expect(result.stderr).not.toContain('legate: run');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('PARENT-FINAL');
    server.assertDone();

    const parent = server.requests.filter(isParent);
    const child = server.requests.filter(isChild);
    // The spawn returned before the child answered: the parent's next call started while the child's first call was pending.
    expect(parent[1]!.startedAt).toBeLessThan(child[0]!.finishedAt!);
    // check_task while running.
    const [check, steer] = lastToolResults(parent[2]!);
    expect(check).toMatchObject({ status: 'running', api_calls: 0 });
    expect(steer).toMatchObject({ ok: true, delivery: 'queued' });
    // Steering text is in the child's next model request, and not in the one before.
    expect(child[0]!.text).not.toContain('STEER-TEXT-1');
    expect(child[1]!.text).toContain('STEER-TEXT-1');
    // collect_task returned the summary, and shows the steer as delivered.
    const [collected] = lastToolResults(parent[3]!);
    expect(collected).toMatchObject({ status: 'completed', timed_out: false, summary: 'SUMMARY-A: 3 blue widgets', api_calls: 2 });
    expect(collected.steering).toEqual([{ message: 'STEER-TEXT-1: count only blue widgets', state: 'delivered' }]);
    expect(collected.output).toContain('→ list_dir');
    // Isolation: the child saw its goal and context, nothing of the parent's conversation.
    for (const request of child) {
      expect(request.text).toContain('GOAL-A');
      expect(request.text).toContain('CTX-A');
      expect(request.text).not.toContain('PARENT-SECRET-CONTEXT');
      expect(request.text).not.toContain('Spawning.');
    }
    // Only the summary came back to the parent, not the child's intermediate tool calls.
    expect(parent[3]!.text).toContain('SUMMARY-A');
  });

  it('a timed-out collect leaves the task running; cancel aborts the pending HTTP request and no child call follows', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'GOAL-B: slow work' } }] } },
      { match: isParent, reply: (request) => ({ toolCalls: [{ name: 'collect_task', arguments: { task_id: taskIds(request)[0], timeout: 0.5 } }] }) },
      { match: isParent, reply: (request) => ({ toolCalls: [{ name: 'cancel_task', arguments: { task_id: taskIds(request)[0] } }] }) },
      { match: isParent, reply: (request) => ({ toolCalls: [{ name: 'collect_task', arguments: { task_id: taskIds(request)[0], timeout: 30 } }] }) },
      { match: isParent, reply: { text: 'PARENT-DONE' } },
      { match: childWith('GOAL-B'), reply: { hang: true } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const started = Date.now();
    const result = await runMain(['--config', configFile, 'run', 'do slow work'], { home, cwd: work });

    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const parent = server.requests.filter(isParent);
    const [timedOut] = lastToolResults(parent[2]!);
    expect(timedOut).toMatchObject({ status: 'running', timed_out: true });
    const [cancelled] = lastToolResults(parent[3]!);
    expect(cancelled).toMatchObject({ ok: true, status: 'cancelled' });
    const [afterCancel] = lastToolResults(parent[4]!);
    expect(afterCancel).toMatchObject({ status: 'cancelled', timed_out: false, exit_reason: 'cancelled' });
    // The child's in-flight HTTP request was aborted, and it never called the model again.
    await until(() => server.requests.filter(isChild)[0]?.aborted === true, 5000, 'child request aborted');
    expect(server.requests.filter(isChild)).toHaveLength(1);
    server.assertDone();
  });

  it('a batch of three 1-second children runs side by side and returns results in task order', async () => {
    server = await startScriptedServer();
    server.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [{ name: 'delegate_task', arguments: { tasks: [{ goal: 'BATCH-0' }, { goal: 'BATCH-1', context: 'second' }, { goal: 'BATCH-2' }] } }],
        },
      },
      { match: isParent, reply: { text: 'batch done' } },
      // Scripted in reverse so a sequential runner would still be told apart by timing and overlap.
      { match: childWith('BATCH-2'), reply: { delayMs: 1000, text: 'RESULT-2' } },
      { match: childWith('BATCH-1'), reply: { delayMs: 1000, text: 'RESULT-1' } },
      { match: childWith('BATCH-0'), reply: { delayMs: 1000, text: 'RESULT-0' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['--config', configFile, 'run', 'batch'], { home, cwd: work });

    expect(result.code).toBe(0);
    const [batch] = lastToolResults(server.requests.filter(isParent)[1]!);
    expect(batch.results.map((entry: { task_index: number; summary: string; status: string }) => [entry.task_index, entry.status, entry.summary])).toEqual([
      [0, 'completed', 'RESULT-0'],
      [1, 'completed', 'RESULT-1'],
      [2, 'completed', 'RESULT-2'],
    ]);
    expect(batch.results[0]).toMatchObject({ api_calls: 1, model: 'parent-model', exit_reason: 'completed' });
    expect(batch.results[0].usage.total_tokens).toBeGreaterThan(0);
    expect(batch.results[0]).not.toHaveProperty('tokens');
    // About one second, not three: all three child calls were in flight at once.
    expect(batch.total_duration_seconds).toBeLessThan(2.5);
    const children = server.requests.filter(isChild);
    const latestStart = Math.max(...children.map((request) => request.startedAt));
    const earliestFinish = Math.min(...children.map((request) => request.finishedAt!));
    expect(latestStart).toBeLessThan(earliestFinish);
    server.assertDone();
  });

  it('tasks past max_concurrent_children wait in a FIFO queue with status queued', async () => {
    server = await startScriptedServer();
    server.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'delegate_task_async', arguments: { goal: 'QUEUE-1' } },
            { name: 'delegate_task_async', arguments: { goal: 'QUEUE-2' } },
            { name: 'delegate_task_async', arguments: { goal: 'QUEUE-3' } },
          ],
        },
      },
      { match: isParent, reply: { toolCalls: [{ name: 'list_tasks', arguments: {} }] } },
      {
        match: isParent,
        reply: (request) => ({ toolCalls: taskIds(request).map((id) => ({ name: 'collect_task', arguments: { task_id: id, timeout: 30 } })) }),
      },
      { match: isParent, reply: { text: 'queue done' } },
      { match: childWith('QUEUE-1'), reply: { delayMs: 400, text: 'done 1' } },
      { match: childWith('QUEUE-2'), reply: { delayMs: 100, text: 'done 2' } },
      { match: childWith('QUEUE-3'), reply: { delayMs: 100, text: 'done 3' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl, { delegation: { max_concurrent_children: 1 } }));

    const result = await runMain(['--config', configFile, 'run', 'queue'], { home, cwd: work });

    expect(result.code).toBe(0);
    const [first, second, third] = lastToolResults(server.requests.filter(isParent)[1]!);
    expect([first.status, second.status, third.status]).toEqual(['running', 'queued', 'queued']);
    const [list] = lastToolResults(server.requests.filter(isParent)[2]!);
    expect(list.tasks.map((task: { status: string }) => task.status).sort()).toEqual(['queued', 'queued', 'running']);
    const collected = lastToolResults(server.requests.filter(isParent)[3]!);
    expect(collected.map((entry: { status: string }) => entry.status)).toEqual(['completed', 'completed', 'completed']);
    // FIFO, one at a time: each child call starts after the previous one finished.
    const children = server.requests.filter(isChild);
    expect(children.map((request) => request.text.match(/QUEUE-\d/)![0])).toEqual(['QUEUE-1', 'QUEUE-2', 'QUEUE-3']);
    expect(children[1]!.startedAt).toBeGreaterThanOrEqual(children[0]!.finishedAt!);
    expect(children[2]!.startedAt).toBeGreaterThanOrEqual(children[1]!.finishedAt!);
  });

  it('completion notices: run waits for background tasks and gives the parent one more turn; --no-wait skips it', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'NOTICE-GOAL' } }] } },
      { match: isParent, reply: { text: 'FIRST-ANSWER: started it' } },
      { match: (request) => isParent(request) && request.text.includes('NOTICE-SUMMARY'), reply: { text: 'SECOND-ANSWER: saw the notice' } },
      { match: childWith('NOTICE-GOAL'), reply: { delayMs: 800, text: 'NOTICE-SUMMARY: all good' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['--config', configFile, 'run', 'go'], { home, cwd: work });

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SECOND-ANSWER');
    const last = server.requests.filter(isParent).at(-1)!;
    const messages = last.body.messages as { role: string; content: string }[];
    // A new turn at the end, never an edit of earlier messages.
    expect(messages.at(-1)!.role).toBe('user');
    expect(messages.at(-1)!.content).toMatch(/\[Background task t_[0-9a-f]+ ended: completed\]/);
    expect(messages.at(-1)!.content).toContain('Goal: NOTICE-GOAL');
    expect(messages.filter((message) => message.role === 'user' && message.content.includes('NOTICE-SUMMARY'))).toHaveLength(1);
    server.assertDone();

    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'NOWAIT-GOAL' } }] } },
      { match: isParent, reply: { text: 'NOWAIT-ANSWER' } },
      { match: childWith('NOWAIT-GOAL'), reply: { delayMs: 5000, text: 'late' } },
    );
    const before = server.requests.length;
    const noWait = await runMain(['--config', configFile, 'run', '--no-wait', 'go'], { home, cwd: work });
    expect(noWait.code).toBe(0);
    expect(noWait.stdout).toContain('NOWAIT-ANSWER');
    expect(server.requests.slice(before).filter(isParent)).toHaveLength(2);
  });
});
