import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, startCli, tempDir, tempHome, until } from '../helpers/cli.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';

/**
 * The approval flow end to end, across processes: `legate run` (agent.approval: on-request,
 * workspace-write) spawns a background child whose `terminal` command writes outside the
 * workspace; the child's task parks `input_required`; `legate tasks list` in another process shows
 * the request; `legate tasks approve` from a third runs the command exactly once; a second request
 * is denied with a reason, which the child gets as its tool result; the child finishes completed.
 */
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The task as the SQLite file holds it now (read from this process, as a third party would). */
async function readTask(home: string, id?: string): Promise<TaskRecord | undefined> {
  if (!existsSync(join(home, 'state.db'))) return undefined;
  const store = SqliteTaskStore.open(join(home, 'state.db'));
  try {
    const tasks = await store.list({ limit: 10 });
    return id === undefined ? tasks.find((task) => task.depth === 1) : tasks.find((task) => task.id === id);
  } finally {
    await store.close();
  }
}

describe('approvals across processes', () => {
  it('a parked child is shown, approved and denied from other processes; the approved call runs once; the child completes', async () => {
    const outside = tempDir('legate-outside-');
    const approvedFile = join(outside, 'approved.txt');
    const deniedFile = join(outside, 'denied.txt');
    const first = `echo approved-run >> ${approvedFile}`;
    const second = `echo should-not-run >> ${deniedFile}`;
    server = await startScriptedServer();
    server.enqueue(
      {
        label: 'parent spawns',
        match: (request) => isParent(request) && request.text.endsWith('go'),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'WRITER: write outside' } }] },
      },
      { label: 'parent waits', match: (request) => isParent(request) && !request.text.includes('WRITER done'), reply: { text: 'spawned it' } },
      { label: 'parent notice', match: (request) => isParent(request) && request.text.includes('WRITER done'), reply: { text: 'ALL-DONE' } },
      {
        label: 'child asks 1',
        match: (request) => childWith('WRITER')(request) && lastToolResults(request).length === 0,
        reply: { toolCalls: [{ name: 'terminal', arguments: { command: first, escalate: true } }] },
      },
      {
        label: 'child asks 2',
        match: (request) => childWith('WRITER')(request) && !String(lastToolResults(request)[0]).includes('was denied'),
        reply: { toolCalls: [{ name: 'terminal', arguments: { command: second, escalate: true } }] },
      },
      { label: 'child ends', match: childWith('WRITER'), reply: { text: 'WRITER done' } },
    );
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { agent: { approval: 'on-request' } }));
    const run = startCli(['run', '--sandbox', 'workspace-write', 'go'], { home, cwd: work });
    try {
      await until(async () => (await readTask(home))?.status === 'input_required', 30_000, 'the child to park').catch((error) => {
        throw new Error(
          `${String(error)}\nrun stderr: ${run.stderr()}\nrun stdout: ${run.stdout()}\nunexpected: ${server!.unexpected.join('; ')}\nrequests: ${server!.requests.map((request) => request.text.slice(-300)).join('\n---\n')}`,
        );
      });
      const parked = (await readTask(home))!;
      expect(parked.approval).toMatchObject({ id: '1.1', kind: 'exec', subject: first, mode: 'workspace-write' });
      expect(parked.approval!.reason).toContain(`command ${JSON.stringify(first)} asks to run outside the sandbox in workspace-write mode`);

      // Another process lists it with its request and how to answer.
      const list = await runCli(['tasks', 'list'], { home, cwd: work });
      expect(list.code).toBe(0);
      expect(list.stdout).toContain(`${parked.id}  input_required`);
      expect(list.stdout).toContain(`${parked.id} waits for approval 1.1 (exec): ${first}`);
      expect(list.stdout).toContain(`legate tasks approve ${parked.id}`);
      const json = JSON.parse((await runCli(['tasks', 'list', '--json'], { home, cwd: work })).stdout) as { tasks: Record<string, any>[] };
      expect(json.tasks[0]).toMatchObject({ task_id: parked.id, status: 'input_required', approval: { request_id: '1.1', kind: 'exec', subject: first } });
      const show = await runCli(['tasks', 'show', parked.id], { home, cwd: work });
      expect(show.stdout).toContain(`${parked.id} waits for approval 1.1 (exec): ${first}`);
      expect(show.stdout).toContain('⏸ waiting for approval 1.1');
      expect(existsSync(approvedFile)).toBe(false);

      // Approved from a third process: the command runs, once.
      const approve = await runCli(['tasks', 'approve', parked.id], { home, cwd: work });
      expect(approve.stderr).toBe('');
      expect(approve.stdout).toContain(`${parked.id}: approved request 1.1 (command ${JSON.stringify(first)})`);
      expect(approve.code).toBe(0);

      await until(async () => (await readTask(home, parked.id))?.approval?.id === '1.2', 30_000, 'the second request');
      expect(readFileSync(approvedFile, 'utf8')).toBe('approved-run\n');
      expect((await readTask(home, parked.id))!.approval).toMatchObject({ kind: 'exec', subject: second });
      // Answering the same request twice is refused, naming the task.
      const deny = await runCli(['tasks', 'deny', parked.id, '--reason', 'not in that directory, use ./out'], { home, cwd: work });
      expect(deny.stdout).toContain(`${parked.id}: denied request 1.2`);
      expect(deny.code).toBe(0);
      const again = await runCli(['tasks', 'deny', parked.id], { home, cwd: work });
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(new RegExp(`not_waiting: task "${parked.id}" is (input_required|running|completed)`));

      const result = await run.done;
      expect(result.stderr).not.toContain('Error');
      expect(result.stdout).toContain('ALL-DONE');
      expect(result.code).toBe(0);
      expect(await readTask(home, parked.id)).toMatchObject({ status: 'completed', summary: 'WRITER done' });
      expect((await readTask(home, parked.id))!.approval).toBeUndefined();
      // Run exactly once; the denied one never ran.
      expect(readFileSync(approvedFile, 'utf8')).toBe('approved-run\n');
      expect(existsSync(deniedFile)).toBe(false);
      const childRequests = server.requests.filter(childWith('WRITER'));
      expect(childRequests).toHaveLength(3);
      expect(lastToolResults(childRequests[1]!)).toEqual(['exit code: 0\n(no output)']);
      const [denial] = lastToolResults(childRequests[2]!);
      expect(denial).toContain(`running command ${JSON.stringify(second)} outside the sandbox was denied by`);
      expect(denial).toContain('not in that directory, use ./out');
      server.assertDone();
    } finally {
      run.kill('SIGKILL');
      await run.done;
    }
  }, 120_000);

  it('approve and deny: clear errors for an unknown task, a task not waiting, and an empty reason', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'QUICK' } }] } },
      { match: childWith('QUICK'), reply: { text: 'quick done' } },
      { match: isParent, reply: { text: 'ok' } },
    );
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    expect((await runCli(['run', 'go'], { home, cwd: work })).code).toBe(0);
    const unknown = await runCli(['tasks', 'approve', 't_nothere'], { home, cwd: work });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown_task: no task "t_nothere" in this LEGATE_HOME; nothing to approve or deny');
    const id = (await readTask(home))!.id;
    const finished = await runCli(['tasks', 'deny', id, '--reason', 'no'], { home, cwd: work });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain(`not_waiting: task "${id}" is completed, not waiting for an approval`);
    const empty = await runCli(['tasks', 'deny', id, '--reason', '  '], { home, cwd: work });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--reason must not be empty');
  }, 60_000);
});
