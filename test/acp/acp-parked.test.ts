import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as acp from '@agentclientprotocol/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig, until } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { childWith, isParent, taskIds } from '../helpers/script.js';
import { type AcpClient, initializeParams, startAcp } from './acp-harness.js';

const echoAgent = resolve(import.meta.dirname, 'fixtures/echo-agent.mjs');

const open: AcpClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close().catch(() => {})));
});

/** `legate acp` (approvals on by default) with an echo-agent route; the client answers permission requests with `answer`. */
async function setup(answer: (params: acp.RequestPermissionRequest, signal: AbortSignal) => Promise<string | undefined>) {
  const model = await scriptedServer();
  const echo = { provider: 'acp', command: process.execPath, args: [echoAgent] };
  const dirs = home(scriptedConfig(model.openaiBaseUrl, { delegation: { routes: { echo } } }));
  mkdirSync(join(dirs.work, 'project'));
  mkdirSync(join(dirs.work, 'outside'));
  const project = realpathSync(join(dirs.work, 'project'));
  const questions: acp.RequestPermissionRequest[] = [];
  const client = startAcp({
    configFile: dirs.configFile,
    home: dirs.home,
    cwd: dirs.work,
    serve: (app) =>
      app.onRequest('session/request_permission', async ({ params, signal }) => {
        questions.push(params);
        const optionId = await answer(params, signal);
        return { outcome: optionId ? { outcome: 'selected', optionId } : { outcome: 'cancelled' } };
      }),
  });
  open.push(client);
  await client.agent.request('initialize', initializeParams);
  const { sessionId } = await client.agent.request('session/new', { cwd: project, mcpServers: [] });
  return { model, ...dirs, project, outside: realpathSync(join(dirs.work, 'outside')), client, sessionId, questions };
}

const taskEntry = (updates: acp.SessionUpdate[], taskId: string, status: acp.ToolCallStatus) =>
  updates.some((update) => update.sessionUpdate === 'tool_call_update' && update.toolCallId === `task-${taskId}` && update.status === status);

describe("legate acp: a parked background task's request goes to the editor", { timeout: 60_000 }, () => {
  it('a model child writing outside its mode parks; the editor approves; the write runs and the task completes as a new turn', async () => {
    const { model, client, sessionId, questions, outside } = await setup(async () => 'allow_once');
    const target = join(outside, 'x.txt');
    const parent =
      (needle: string, without: string[] = []) =>
      (request: { text: string }) =>
        isParent(request as never) && request.text.includes(needle) && without.every((text) => !request.text.includes(text));
    model.enqueue(
      {
        match: parent('PROMPT-PK', ['waiting for approval', 'CHILD-PK done']),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'GOAL-PK' } }] },
      },
      { match: parent('"task_id":', ['waiting for approval', 'CHILD-PK done']), reply: { text: 'STARTED-PK' } },
      {
        match: (request) => childWith('GOAL-PK')(request) && !request.text.includes('bytes written'),
        reply: { toolCalls: [{ name: 'write_file', arguments: { path: target, content: 'PK\n' } }] },
      },
      { match: parent('waiting for approval', ['CHILD-PK done']), reply: { text: 'NOTED-PK' } },
      { match: childWith('GOAL-PK', 'bytes written'), reply: { text: 'CHILD-PK done' } },
      { match: parent('CHILD-PK done'), reply: { text: 'FINAL-PK' } },
    );
    const response = await client.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-PK' }] });
    expect(response.stopReason).toBe('end_turn');
    await until(() => client.text(sessionId).includes('FINAL-PK'), 30_000, 'the completion turn');

    const taskId = taskIds(model.requests.find((request) => request.text.includes('CHILD-PK done') && isParent(request))!)[0]!;
    // The editor was asked once, on the task's entry, naming the path and the mode.
    expect(questions).toHaveLength(1);
    expect(questions[0]!.toolCall.toolCallId).toBe(`task-${taskId}`);
    expect(questions[0]!.toolCall.title).toContain(target);
    expect(JSON.stringify(questions[0]!.toolCall.content)).toContain('workspace-write');
    expect(taskEntry(client.of(sessionId), taskId, 'pending')).toBe(true);
    expect(taskEntry(client.of(sessionId), taskId, 'completed')).toBe(true);
    // Approved: the write ran.
    expect(readFileSync(target, 'utf8')).toBe('PK\n');
    model.assertDone();
  });

  it("an ACP child's permission request parks its task; the editor rejects; the agent gets the rejection", async () => {
    const { model, client, sessionId, questions } = await setup(async () => 'reject');
    model.enqueue(
      {
        match: (request) => isParent(request) && !request.text.includes('"task_id":'),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { route: 'echo', goal: 'PERMISSION please' } }] },
      },
      {
        match: (request) => isParent(request) && !request.text.includes('waiting for approval') && !request.text.includes('PERMISSION-OUTCOME'),
        reply: { text: 'STARTED' },
      },
      {
        match: (request) => isParent(request) && request.text.includes('waiting for approval') && !request.text.includes('PERMISSION-OUTCOME'),
        reply: { text: 'NOTED' },
      },
      { match: (request) => isParent(request) && request.text.includes('PERMISSION-OUTCOME'), reply: { text: 'FINAL-ACP-CHILD' } },
    );
    await client.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT' }] });
    await until(() => client.text(sessionId).includes('FINAL-ACP-CHILD'), 20_000, 'the completion turn');
    expect(questions).toHaveLength(1);
    expect(questions[0]!.toolCall.title).toContain('write notes.txt');
    expect(JSON.stringify(questions[0]!.toolCall.content)).toContain('route \\"echo\\"');
    // The agent was answered "reject": its summary says so, and the parent's notice carries it.
    const notice = model.requests.find((request) => isParent(request) && request.text.includes('PERMISSION-OUTCOME'))!;
    expect(notice.text).toContain('PERMISSION-OUTCOME: no');
    model.assertDone();
  });

  it('a request that no longer waits (the task was cancelled from another process) is withdrawn from the editor', async () => {
    const withdrawn: string[] = [];
    const {
      model,
      client,
      sessionId,
      questions,
      outside,
      configFile,
      home: legateHome,
    } = await setup(async (params, signal) => {
      await new Promise<void>((resolveAbort) => signal.addEventListener('abort', () => resolveAbort(), { once: true }));
      withdrawn.push(params.toolCall.toolCallId);
      return undefined;
    });
    const target = join(outside, 'y.txt');
    model.enqueue(
      {
        match: (request) => isParent(request) && !request.text.includes('"task_id":'),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'GOAL-EL' } }] },
      },
      {
        match: (request) => isParent(request) && !request.text.includes('waiting for approval') && !request.text.includes('ended: cancelled'),
        reply: { text: 'STARTED-EL' },
      },
      {
        match: (request) => childWith('GOAL-EL')(request) && !request.text.includes('bytes written'),
        reply: { toolCalls: [{ name: 'write_file', arguments: { path: target, content: 'EL\n' } }] },
      },
      {
        match: (request) => isParent(request) && request.text.includes('waiting for approval') && !request.text.includes('ended: cancelled'),
        reply: { text: 'NOTED-EL' },
      },
      { match: (request) => isParent(request) && request.text.includes('ended: cancelled'), reply: { text: 'FINAL-EL' } },
    );
    await client.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-EL' }] });
    await until(() => questions.length === 1, 30_000, 'the question in the editor');
    const taskId = questions[0]!.toolCall.toolCallId.replace(/^task-/, '');
    const cancelled = await runMain(['--config', configFile, 'tasks', 'cancel', taskId], { home: legateHome });
    expect(cancelled.code, cancelled.stderr).toBe(0);
    await until(() => withdrawn.length === 1, 20_000, 'the question to be withdrawn');
    expect(withdrawn[0]).toBe(`task-${taskId}`);
    await until(() => client.text(sessionId).includes('FINAL-EL'), 30_000, 'the notice turn');
    expect(existsSync(target)).toBe(false);
    model.assertDone();
  });
});
