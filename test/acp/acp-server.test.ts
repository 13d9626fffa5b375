import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig, until } from '../helpers/cli.js';
import { childWith, isParent, taskIds } from '../helpers/script.js';
import { type AcpClient, initializeParams, startAcp } from './acp-harness.js';

const open: AcpClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close().catch(() => {})));
});

/** A scripted model, a LEGATE_HOME for it, and a project directory that is not legate's own cwd. */
async function setup() {
  const model = await scriptedServer();
  const dirs = home(scriptedConfig(model.openaiBaseUrl));
  const project = join(dirs.work, 'project');
  mkdirSync(project);
  const start = async (): Promise<AcpClient> => {
    const client = startAcp({ configFile: dirs.configFile, home: dirs.home, cwd: dirs.work });
    open.push(client);
    const init = await client.agent.request('initialize', initializeParams);
    expect(init.agentCapabilities?.loadSession).toBe(true);
    expect(init.agentInfo?.name).toBe('legate');
    return client;
  };
  return { model, ...dirs, project, start };
}

describe('legate acp (an ACP agent over stdio)', () => {
  it('a prompt that edits a file and delegates streams text and tool calls (kind, status, locations, diff) and finishes', async () => {
    const { model, project, start } = await setup();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'notes.txt', content: 'NEW-CONTENT\n' } }] } },
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'GOAL-S1: count' } }] } },
      { match: childWith('GOAL-S1'), reply: { text: 'CHILD-SUMMARY-S1' } },
      { match: isParent, reply: { text: 'FINAL-S1: all done', chunkDelayMs: 5 } },
    );
    const client = await start();
    const { sessionId } = await client.agent.request('session/new', { cwd: project, mcpServers: [] });
    const response = await client.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-S1' }] });
    expect(response.stopReason).toBe('end_turn');
    // session/new's cwd is the agent's working directory.
    expect(readFileSync(join(project, 'notes.txt'), 'utf8')).toBe('NEW-CONTENT\n');
    expect(model.requests[0]!.text).toContain(project);

    const updates = client.of(sessionId);
    const write = updates.find((update) => update.sessionUpdate === 'tool_call' && update.title.startsWith('write_file'));
    expect(write).toMatchObject({ kind: 'edit', status: 'in_progress', locations: [{ path: join(project, 'notes.txt') }] });
    const written = updates.find((update) => update.sessionUpdate === 'tool_call_update' && update.toolCallId === (write as { toolCallId: string }).toolCallId);
    expect(written).toMatchObject({
      status: 'completed',
      content: expect.arrayContaining([{ type: 'diff', path: join(project, 'notes.txt'), oldText: null, newText: 'NEW-CONTENT\n' }]),
    });
    const delegate = updates.find((update) => update.sessionUpdate === 'tool_call' && update.title.startsWith('delegate_task'));
    expect(delegate).toMatchObject({ status: 'in_progress' });
    const delegated = updates.find(
      (update) => update.sessionUpdate === 'tool_call_update' && update.toolCallId === (delegate as { toolCallId: string }).toolCallId,
    );
    expect(JSON.stringify(delegated)).toContain('CHILD-SUMMARY-S1');
    expect(client.text(sessionId)).toBe('FINAL-S1: all done');
    // Streamed: more than one chunk.
    expect(updates.filter((update) => update.sessionUpdate === 'agent_message_chunk').length).toBeGreaterThan(1);
    model.assertDone();
  });

  it('session/cancel stops the turn (stopReason cancelled); a background task keeps running', async () => {
    const { model, project, start } = await setup();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'GOAL-C1: slow work' } }] } },
      { label: 'hang', match: isParent, reply: { hang: true } },
      { label: 'child', match: childWith('GOAL-C1'), reply: (request) => ({ text: `CHILD-C1 done ${request.index}` }) },
    );
    const client = await start();
    const { sessionId } = await client.agent.request('session/new', { cwd: project, mcpServers: [] });
    const prompt = client.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-C1' }] });
    await until(() => model.requests.some((request) => request.stepLabel === 'hang'), 20_000, 'the hanging model call');
    await client.agent.notify('session/cancel', { sessionId });
    expect((await prompt).stopReason).toBe('cancelled');
    // The background task was not cancelled with the turn: it ends completed.
    await until(
      () =>
        client
          .of(sessionId)
          .some((update) => update.sessionUpdate === 'tool_call_update' && update.toolCallId.startsWith('task-') && update.status === 'completed'),
      20_000,
      'the task to end',
    );
  });

  it("a background task's start and end show as updates, and its completion notice arrives as a new turn", async () => {
    const { model, project, start } = await setup();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'GOAL-BG: look around' } }] } },
      { match: (request) => isParent(request) && !request.text.includes('SUMMARY-BG'), reply: { text: 'STARTED-BG' } },
      { match: childWith('GOAL-BG'), reply: { text: 'SUMMARY-BG: 3 files' } },
      { match: (request) => isParent(request) && request.text.includes('SUMMARY-BG'), reply: { text: 'NOTICED-BG' } },
    );
    const client = await start();
    const { sessionId } = await client.agent.request('session/new', { cwd: project, mcpServers: [] });
    const response = await client.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-BG' }] });
    expect(response.stopReason).toBe('end_turn');
    await until(() => client.text(sessionId).includes('NOTICED-BG'), 20_000, 'the notice turn');
    const updates = client.of(sessionId);
    const taskId = taskIds(model.requests.find((request) => request.text.includes('SUMMARY-BG'))!)[0]!;
    expect(updates).toContainEqual(expect.objectContaining({ sessionUpdate: 'tool_call', toolCallId: `task-${taskId}`, status: 'in_progress' }));
    expect(updates).toContainEqual(expect.objectContaining({ sessionUpdate: 'tool_call_update', toolCallId: `task-${taskId}`, status: 'completed' }));
    // The editor sees the notice as the new turn's input.
    const notice = updates.find((update) => update.sessionUpdate === 'user_message_chunk');
    expect(notice && notice.sessionUpdate === 'user_message_chunk' && notice.content.type === 'text' ? notice.content.text : '').toContain(
      'SUMMARY-BG: 3 files',
    );
    model.assertDone();
  });

  it('session/load continues a stored session (the same as legate chat --resume) and replays its messages', async () => {
    const { model, project, start, home: legateHome } = await setup();
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { match: isParent, reply: { text: 'ANSWER-L1' } },
    );
    const first = await start();
    const { sessionId } = await first.agent.request('session/new', { cwd: project, mcpServers: [] });
    await first.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'HELLO-L1' }] });
    await first.close();
    expect(existsSync(join(legateHome, 'state.db'))).toBe(true);

    model.enqueue({
      match: (request) => isParent(request) && request.text.includes('HELLO-L1') && request.text.includes('ANSWER-L1') && request.text.includes('AGAIN-L2'),
      reply: { text: 'ANSWER-L2' },
    });
    const second = await start();
    await second.agent.request('session/load', { sessionId, cwd: project, mcpServers: [] });
    const replayed = second.of(sessionId);
    expect(replayed[0]).toMatchObject({ sessionUpdate: 'user_message_chunk', content: { type: 'text', text: 'HELLO-L1' } });
    expect(replayed).toContainEqual(expect.objectContaining({ sessionUpdate: 'tool_call', kind: 'read', status: 'in_progress' }));
    expect(replayed).toContainEqual(expect.objectContaining({ sessionUpdate: 'tool_call_update', status: 'completed' }));
    expect(second.text(sessionId)).toBe('ANSWER-L1');
    const response = await second.agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'AGAIN-L2' }] });
    expect(response.stopReason).toBe('end_turn');
    expect(second.text(sessionId)).toBe('ANSWER-L1ANSWER-L2');
    model.assertDone();

    // An unknown session is a clear error.
    await expect(second.agent.request('session/load', { sessionId: 'no-such-session', cwd: project, mcpServers: [] })).rejects.toThrow(
      /no-such-session|not found/i,
    );
  });
});
