import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { Session } from '../../src/session.js';
import { operator, sessionCaller } from '../../src/tasks/caller.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { childWith, isParent, lastToolResults, toolNames } from '../helpers/script.js';
import { bubblewrapAvailable } from './fixture.js';

const bubblewrap = bubblewrapAvailable();

/**
 * Approvals of background children, in one process through the real runtime, loop and OpenAI
 * wire: the timeout turns silence into a denial, a cancel works while waiting, `approval: never`
 * refuses at once, the parent is told and sees the request in check_task and list_tasks, only its
 * own session (or the operator) may answer, and a task interrupted while waiting comes back
 * waiting when resumed.
 */
let server: ScriptedServer;
const runtimes: Runtime[] = [];
let root: string;
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Setup {
  ws: string;
  outside: string;
  home: string;
}

function dirs(): Setup {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'legate-approvals-')));
  const setup = { ws: join(root, 'ws'), outside: join(root, 'outside'), home: join(root, 'home') };
  for (const dir of Object.values(setup)) mkdirSync(dir);
  return setup;
}

function runtimeFor(setup: Setup, agent: Record<string, unknown>, store?: TaskStore): Runtime {
  const config = configSchema.parse({ model: { provider: 'openai', name: 'm', base_url: server.openaiBaseUrl, api_key: 'sk-test-approvals-0001' }, agent });
  const runtime = new Runtime({
    loaded: { config, file: undefined, home: setup.home, unset: new Map() },
    cwd: setup.ws,
    sandbox: 'workspace-write',
    ...(store ? { store } : {}),
  });
  runtimes.push(runtime);
  return runtime;
}

/** The next `task.input_required` event of `runtime`. */
function nextParked(runtime: Runtime): Promise<TaskRecord> {
  return new Promise((resolve) => {
    const stop = runtime.tasks.subscribe((event) => {
      if (event.type !== 'task.input_required') return;
      stop();
      resolve(event.task);
    });
  });
}

/** The parent spawns one background child with `goal` on its first turn; "spawned" after. */
function parentSpawns(goal: string): void {
  server.enqueue(
    {
      label: 'spawn',
      match: (request) => isParent(request) && request.text.endsWith('go'),
      reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal } }] },
    },
    {
      label: 'spawned',
      match: (request) => isParent(request) && String(lastToolResults(request)[0]?.task_id ?? '').startsWith('t_'),
      reply: { text: 'spawned' },
    },
  );
}

const writeOutside = (outside: string, name: string): { command: string; file: string } => {
  const file = join(outside, name);
  return { command: `echo ran >> ${file}`, file };
};

describe('approvals of background children', () => {
  it('approval_timeout_seconds turns a silent request into a denial; the child goes on and completes', async () => {
    server = await startScriptedServer();
    const setup = dirs();
    const { command, file } = writeOutside(setup.outside, 'late.txt');
    parentSpawns('TIMED');
    server.enqueue(
      {
        match: (request) => childWith('TIMED')(request) && lastToolResults(request).length === 0,
        reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
      },
      { match: childWith('TIMED'), reply: { text: 'TIMED done' } },
    );
    const runtime = runtimeFor(setup, { approval: 'on-request', approval_timeout_seconds: 1 });
    const parked = nextParked(runtime);
    await new Session(runtime).turn('go');
    const task = await parked;
    expect(task.approval).toMatchObject({ kind: 'exec', subject: command, mode: 'workspace-write' });
    const { task: ended } = await runtime.tasks.waitForEnd(operator, task.id, 30_000);
    expect(ended).toMatchObject({ status: 'completed', summary: 'TIMED done' });
    expect(ended.approval).toBeUndefined();
    const [denial] = lastToolResults(server.requests.filter(childWith('TIMED'))[1]!);
    expect(denial).toContain(
      `running command ${JSON.stringify(command)} outside the sandbox was denied by timeout: no answer within 1 s (agent.approval_timeout_seconds)`,
    );
    expect(existsSync(file)).toBe(false);
    // A late answer is refused: nothing waits for it any more.
    await expect(runtime.tasks.answerApproval(operator, task.id, { approved: true })).rejects.toMatchObject({ code: 'not_waiting' });
    server.assertDone();
  }, 60_000);

  it('a cancel works from input_required: the task ends cancelled, the call never runs, the child is not asked again', async () => {
    server = await startScriptedServer();
    const setup = dirs();
    const { command, file } = writeOutside(setup.outside, 'never.txt');
    parentSpawns('CANCELLED');
    server.enqueue({ match: childWith('CANCELLED'), reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] } });
    const runtime = runtimeFor(setup, { approval: 'on-request' });
    const parked = nextParked(runtime);
    await new Session(runtime).turn('go');
    const task = await parked;
    expect((await runtime.tasks.get(operator, task.id)).status).toBe('input_required');
    const cancelled = await runtime.tasks.cancel(operator, task.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: 'user' });
    expect(cancelled.approval).toBeUndefined();
    await runtime.tasks.shutdown();
    expect((await runtime.tasks.get(operator, task.id)).status).toBe('cancelled');
    expect(existsSync(file)).toBe(false);
    expect(server.requests.filter(childWith('CANCELLED'))).toHaveLength(1);
    server.assertDone();
  }, 60_000);

  it('approval: never (the default outside chat) refuses at once: the refusal is the tool result and the task never waits', async () => {
    server = await startScriptedServer();
    const setup = dirs();
    const { command, file } = writeOutside(setup.outside, 'refused.txt');
    parentSpawns('NEVER');
    server.enqueue(
      {
        match: (request) => childWith('NEVER')(request) && lastToolResults(request).length === 0,
        reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
      },
      { match: childWith('NEVER'), reply: { text: 'NEVER done' } },
    );
    const runtime = runtimeFor(setup, {});
    expect(runtime.approvalMode).toBe('never');
    const statuses: string[] = [];
    runtime.tasks.subscribe((event) => {
      if ('task' in event) statuses.push(event.type);
    });
    await new Session(runtime).turn('go');
    const [task] = await runtime.tasks.list(operator);
    const { task: ended } = await runtime.tasks.waitForEnd(operator, task!.id, 30_000);
    expect(ended.status).toBe('completed');
    expect(statuses).not.toContain('task.input_required');
    const [refusal] = lastToolResults(server.requests.filter(childWith('NEVER'))[1]!);
    expect(refusal).toBe(
      `tool_failed: terminal: sandbox_denied: command ${JSON.stringify(command)} asks to run outside the sandbox in workspace-write mode ` +
        `(unsandboxed it may write anywhere and use the network); it needs a human's approval (agent.approval: on-request)`,
    );
    expect(existsSync(file)).toBe(false);
  }, 60_000);

  it('the parent is told as a new turn and sees the request in check_task and list_tasks; only its session or the operator answers', async () => {
    server = await startScriptedServer();
    const setup = dirs();
    const { command, file } = writeOutside(setup.outside, 'shown.txt');
    parentSpawns('SHOWN');
    server.enqueue(
      {
        match: (request) => childWith('SHOWN')(request) && lastToolResults(request).length === 0,
        reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
      },
      { match: childWith('SHOWN'), reply: { text: 'SHOWN done' } },
    );
    const runtime = runtimeFor(setup, { approval: 'on-request' });
    const session = new Session(runtime);
    const parked = nextParked(runtime);
    await session.turn('go');
    const task = await parked;

    const notices = await session.pendingNotices();
    expect(notices?.taskIds).toEqual([task.id]);
    expect(notices?.text).toContain('A background task you started is waiting for approval.');
    expect(notices?.text).toContain(`[Background task ${task.id} is waiting for approval (request 1.1)]`);
    expect(notices?.text).toContain(`Request: exec ${command}`);
    expect(notices?.text).toContain(`/approve ${task.id}`);
    server.enqueue(
      {
        label: 'notice turn',
        match: (request) => isParent(request) && request.text.includes('is waiting for approval'),
        reply: {
          toolCalls: [
            { name: 'check_task', arguments: { task_id: task.id } },
            { name: 'list_tasks', arguments: {} },
            { name: 'collect_task', arguments: { task_id: task.id, timeout: 0 } },
          ],
        },
      },
      { label: 'after check', match: isParent, reply: { text: 'the user must approve it' } },
    );
    await session.turn(notices!.text);
    await session.markReported(notices!.taskIds);
    // Told once per request.
    expect(await session.pendingNotices()).toBeUndefined();
    const [check, list, collect] = lastToolResults(server.requests.filter(isParent).at(-1)!);
    const shown = { request_id: '1.1', kind: 'exec', subject: command, mode: 'workspace-write' };
    expect(check).toMatchObject({ task_id: task.id, status: 'input_required', approval: shown });
    expect(check.approval.note).toContain(`legate tasks approve ${task.id}`);
    expect(list.tasks).toEqual([expect.objectContaining({ task_id: task.id, status: 'input_required', approval: expect.objectContaining(shown) })]);
    expect(collect).toMatchObject({ task_id: task.id, status: 'input_required', timed_out: true, approval: shown });
    expect(collect.note).toContain('waits for a human to approve or deny');
    // No model tool answers approvals.
    const offered = toolNames(server.requests.at(-1)!);
    expect(offered).toContain('check_task');
    expect(offered.filter((name) => /approv|deny/i.test(name))).toEqual([]);

    await expect(runtime.tasks.answerApproval(sessionCaller('s_someone_else'), task.id, { approved: true })).rejects.toMatchObject({
      code: 'unknown_task',
      message: expect.stringContaining(`no task "${task.id}" in this session`),
    });
    await expect(runtime.tasks.answerApproval(session.id, task.id, { approved: false, reason: ' ' })).rejects.toMatchObject({ code: 'invalid_arguments' });
    const answered = await runtime.tasks.answerApproval(session.id, task.id, { approved: true }, 'the chat user');
    expect(answered.approval?.answer).toMatchObject({ approved: true, by: 'the chat user' });
    const { task: ended } = await runtime.tasks.waitForEnd(operator, task.id, 30_000);
    expect(ended).toMatchObject({ status: 'completed', summary: 'SHOWN done' });
    expect(readFileSync(file, 'utf8')).toBe('ran\n');
    expect(lastToolResults(server.requests.filter(childWith('SHOWN'))[1]!)).toEqual(['exit code: 0\n(no output)']);
    server.assertDone();
  }, 60_000);

  it('a task interrupted while waiting comes back waiting when resumed (the child asks again), and runs the call once approved', async () => {
    server = await startScriptedServer();
    const setup = dirs();
    const { command, file } = writeOutside(setup.outside, 'resumed.txt');
    parentSpawns('RESUMED');
    const ranOk = (request: Parameters<typeof isParent>[0]): boolean => String(lastToolResults(request)[0]).startsWith('exit code: 0');
    server.enqueue(
      {
        label: 'ask',
        match: (request) => childWith('RESUMED')(request) && !ranOk(request),
        reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
      },
      {
        label: 'ask again',
        match: (request) => childWith('RESUMED')(request) && !ranOk(request),
        reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
      },
      { label: 'done', match: childWith('RESUMED'), reply: { text: 'RESUMED done' } },
    );
    const file1 = join(setup.home, 'state.db');
    const first = runtimeFor(setup, { approval: 'on-request' }, SqliteTaskStore.open(file1));
    const parked = nextParked(first);
    await new Session(first).turn('go');
    const task = await parked;
    expect(task.approval?.id).toBe('1.1');
    // This process stops while the task waits: it is handed back as it is.
    await first.tasks.shutdown();
    const handedBack = await first.tasks.get(operator, task.id);
    expect(handedBack.status).toBe('interrupted');
    expect(handedBack.approval).toBeUndefined();

    const second = runtimeFor(setup, { approval: 'on-request' }, SqliteTaskStore.open(file1));
    const parkedAgain = nextParked(second);
    await second.tasks.resume(operator, task.id);
    const again = await parkedAgain;
    expect(again).toMatchObject({ id: task.id, status: 'input_required', epoch: 2, approval: { id: '2.1', subject: command } });
    expect(existsSync(file)).toBe(false);
    await second.tasks.answerApproval(operator, task.id, { approved: true });
    const { task: ended } = await second.tasks.waitForEnd(operator, task.id, 30_000);
    expect(ended).toMatchObject({ status: 'completed', summary: 'RESUMED done' });
    expect(readFileSync(file, 'utf8')).toBe('ran\n');
    server.assertDone();
  }, 60_000);

  it.skipIf(!bubblewrap)(
    'in bubblewrap, a command writing outside fails saying how to ask; asked with escalate: true, it parks and runs once approved',
    async () => {
      server = await startScriptedServer();
      const setup = dirs();
      const file = join(setup.outside, 'story.txt');
      const command = `echo story >> ${file}`;
      parentSpawns('STORY');
      const result = (request: Parameters<typeof isParent>[0]): string => String(lastToolResults(request)[0] ?? '');
      server.enqueue(
        {
          label: 'try',
          match: (request) => childWith('STORY')(request) && result(request) === '',
          reply: { toolCalls: [{ name: 'terminal', arguments: { command } }] },
        },
        {
          label: 'escalate',
          match: (request) => childWith('STORY')(request) && result(request).includes('Read-only file system'),
          reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
        },
        { label: 'done', match: childWith('STORY'), reply: { text: 'STORY done' } },
      );
      const runtime = runtimeFor(setup, { approval: 'on-request' });
      const parked = nextParked(runtime);
      await new Session(runtime).turn('go');
      const task = await parked;
      const [refused] = lastToolResults(server.requests.filter(childWith('STORY'))[1]!);
      expect(refused).toContain('Read-only file system');
      expect(refused).toContain('call terminal again with escalate: true: a human approves or denies running it outside the sandbox');
      expect(existsSync(file)).toBe(false);
      await runtime.tasks.answerApproval(operator, task.id, { approved: true });
      const { task: ended } = await runtime.tasks.waitForEnd(operator, task.id, 30_000);
      expect(ended.status).toBe('completed');
      expect(readFileSync(file, 'utf8')).toBe('story\n');
      server.assertDone();
    },
    60_000,
  );
});
