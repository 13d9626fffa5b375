import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as acp from '@agentclientprotocol/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/testing/scripted-server.js';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig, until } from '../helpers/cli.js';
import { isParent, lastToolResults } from '../helpers/script.js';
import { type AcpClient, initializeParams, startAcp } from './acp-harness.js';

const open: AcpClient[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close().catch(() => {})));
});

/** A scripted model, a LEGATE_HOME and a project directory; `start` connects an SDK client that serves `serve`. */
async function setup(config: Record<string, unknown> = {}) {
  const model = await scriptedServer();
  const dirs = home(scriptedConfig(model.openaiBaseUrl, config));
  mkdirSync(join(dirs.work, 'project'));
  // The real path: the tools hand the editor real paths.
  const project = realpathSync(join(dirs.work, 'project'));
  const start = async (options: { args?: string[]; fs?: boolean; serve: (app: acp.ClientApp) => acp.ClientApp }): Promise<acp.ClientContext> => {
    const client = startAcp({
      configFile: dirs.configFile,
      home: dirs.home,
      cwd: dirs.work,
      serve: options.serve,
      ...(options.args ? { args: options.args } : {}),
    });
    open.push(client);
    await client.agent.request('initialize', {
      ...initializeParams,
      clientCapabilities: { fs: { readTextFile: options.fs === true, writeTextFile: options.fs === true }, terminal: false },
    });
    return client.agent;
  };
  return { model, ...dirs, project, start, clients: open };
}

/** The tool result texts the model was sent in request `index`. */
function resultsOf(model: { requests: RecordedRequest[] }, index: number): string[] {
  return lastToolResults(model.requests[index]!).map((result) => (typeof result === 'string' ? result : JSON.stringify(result)));
}

/** The id of the first tool call of the assistant message that request `index` ends with. */
function lastCallId(model: { requests: RecordedRequest[] }, index: number): string | undefined {
  const messages = (model.requests[index]!.body?.messages ?? []) as { role: string; tool_calls?: { id: string }[] }[];
  return messages.filter((message) => message.role === 'assistant').at(-1)?.tool_calls?.[0]?.id;
}

describe('legate acp: file tools through the client', () => {
  it('read_file returns the editor buffer, write_file and edit_file go to the client (the disk stays as it was), the sandbox is checked first', async () => {
    const { model, project, start, configFile } = await setup();
    const notes = join(project, 'notes.txt');
    const created = join(project, 'created.txt');
    writeFileSync(notes, 'DISK-CONTENT\n');
    const buffers = new Map<string, string>([[notes, 'BUFFER-CONTENT line one\n']]);
    const reads: string[] = [];
    const writes: { path: string; content: string }[] = [];
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'read_file', arguments: { path: 'notes.txt' } }] } },
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'write_file', arguments: { path: 'created.txt', content: 'WRITTEN-BY-AGENT\n' } },
            { name: 'edit_file', arguments: { path: 'notes.txt', old_string: 'BUFFER-CONTENT', new_string: 'EDITED-CONTENT' } },
          ],
        },
      },
      { match: isParent, reply: { toolCalls: [{ name: 'read_file', arguments: { path: configFile } }] } },
      { match: isParent, reply: { text: 'FINAL-FS' } },
    );
    const agent = await start({
      fs: true,
      serve: (app) =>
        app
          .onRequest('fs/read_text_file', ({ params }) => {
            reads.push(params.path);
            const content = buffers.get(params.path) ?? readFileSync(params.path, 'utf8');
            return { content };
          })
          .onRequest('fs/write_text_file', ({ params }) => {
            writes.push({ path: params.path, content: params.content });
            buffers.set(params.path, params.content);
            return {};
          }),
    });
    const { sessionId } = await agent.request('session/new', { cwd: project, mcpServers: [] });
    const response = await agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-FS' }] });
    expect(response.stopReason).toBe('end_turn');

    // read_file saw the unsaved buffer, not the disk.
    expect(resultsOf(model, 1).join('\n')).toContain('BUFFER-CONTENT line one');
    expect(resultsOf(model, 1).join('\n')).not.toContain('DISK-CONTENT');
    // write_file and edit_file went to the editor; edit_file edited the buffer's text.
    expect(writes).toContainEqual({ path: created, content: 'WRITTEN-BY-AGENT\n' });
    expect(writes).toContainEqual({ path: notes, content: 'EDITED-CONTENT line one\n' });
    expect(resultsOf(model, 2).join('\n')).toContain('created');
    expect(resultsOf(model, 2).join('\n')).toContain('edited');
    // The disk is untouched: the editor saves when the user does.
    expect(readFileSync(notes, 'utf8')).toBe('DISK-CONTENT\n');
    expect(existsSync(created)).toBe(false);
    // The sandbox refused the config file before the editor was asked.
    expect(resultsOf(model, 3).join('\n')).toContain('sandbox_denied');
    expect(reads).not.toContain(realpathSync(configFile));
    expect(reads.filter((path) => path === notes)).toHaveLength(2);
    model.assertDone();
  });

  it('without fs capabilities the file tools use the disk', async () => {
    const { model, project, start } = await setup();
    writeFileSync(join(project, 'notes.txt'), 'DISK-ONLY\n');
    const asked: string[] = [];
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'read_file', arguments: { path: 'notes.txt' } }] } },
      { match: isParent, reply: { text: 'FINAL-DISK' } },
    );
    const agent = await start({
      serve: (app) =>
        app.onRequest('fs/read_text_file', ({ params }) => {
          asked.push(params.path);
          return { content: 'NOT-THIS' };
        }),
    });
    const { sessionId } = await agent.request('session/new', { cwd: project, mcpServers: [] });
    await agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-DISK' }] });
    expect(resultsOf(model, 1).join('\n')).toContain('DISK-ONLY');
    expect(asked).toEqual([]);
  });
});

describe('legate acp: approvals go to the editor (session/request_permission)', () => {
  it('reject: the model gets the denial; allow for the session: the write runs and the same write is not asked again', async () => {
    const { model, project, start } = await setup();
    const questions: acp.RequestPermissionRequest[] = [];
    const answers = ['reject', 'allow_always'];
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'a.txt', content: 'A\n' } }] } },
      { match: isParent, reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'b.txt', content: 'B1\n' } }] } },
      { match: isParent, reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'b.txt', content: 'B2\n' } }] } },
      { match: isParent, reply: { text: 'FINAL-PERM' } },
    );
    const agent = await start({
      args: ['--sandbox', 'read-only'],
      serve: (app) =>
        app.onRequest('session/request_permission', ({ params }) => {
          questions.push(params);
          return { outcome: { outcome: 'selected', optionId: answers.shift()! } };
        }),
    });
    const { sessionId } = await agent.request('session/new', { cwd: project, mcpServers: [] });
    const response = await agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-PERM' }] });
    expect(response.stopReason).toBe('end_turn');

    // The question names the path and the mode, offers allow once / for the session / reject,
    // and is shown on the write_file call that made it.
    expect(questions).toHaveLength(2);
    const [first, second] = questions;
    expect(first!.sessionId).toBe(sessionId);
    expect(first!.options.map((option) => option.kind)).toEqual(['allow_once', 'allow_always', 'reject_once']);
    expect(first!.toolCall.title).toContain(join(project, 'a.txt'));
    expect(JSON.stringify(first!.toolCall.content)).toContain('read-only mode');
    expect(first!.toolCall.toolCallId).toBe(lastCallId(model, 1));
    expect(second!.toolCall.title).toContain(join(project, 'b.txt'));

    // Rejected: not written, and the model read the denial as the tool result.
    expect(existsSync(join(project, 'a.txt'))).toBe(false);
    expect(resultsOf(model, 1).join('\n')).toMatch(/sandbox_denied.*a\.txt.*rejected by the user in the editor/s);
    // Allowed for the session: written, and the second write to b.txt ran without a question.
    expect(resultsOf(model, 2).join('\n')).toContain('created');
    expect(resultsOf(model, 3).join('\n')).toContain('overwrote');
    expect(readFileSync(join(project, 'b.txt'), 'utf8')).toBe('B2\n');
    model.assertDone();
  });

  it('a command asking to run outside the sandbox (terminal escalate): approve, the command runs; reject, the model gets the denial', async () => {
    const { model, project, start, work } = await setup();
    const answers = ['allow_once', 'reject'];
    const questions: acp.RequestPermissionRequest[] = [];
    const outside = join(realpathSync(work), 'outside-cmd');
    mkdirSync(outside);
    const command = (name: string) => `echo RAN > ${join(outside, name)}`;
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'terminal', arguments: { command: command('approved.txt'), escalate: true } }] } },
      { match: isParent, reply: { toolCalls: [{ name: 'terminal', arguments: { command: command('rejected.txt'), escalate: true } }] } },
      { match: isParent, reply: { text: 'FINAL-CMD' } },
    );
    const agent = await start({
      serve: (app) =>
        app.onRequest('session/request_permission', ({ params }) => {
          questions.push(params);
          return { outcome: { outcome: 'selected', optionId: answers.shift()! } };
        }),
    });
    const { sessionId } = await agent.request('session/new', { cwd: project, mcpServers: [] });
    await agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-CMD' }] });
    expect(questions.map((question) => question.toolCall.kind)).toEqual(['execute', 'execute']);
    expect(questions[0]!.toolCall.title).toContain(command('approved.txt'));
    expect(questions[0]!.toolCall.toolCallId).toBe(lastCallId(model, 1));
    // Approved: it ran (outside the sandbox: it wrote outside the working directory).
    expect(readFileSync(join(outside, 'approved.txt'), 'utf8')).toBe('RAN\n');
    // Rejected: it did not run, and the model read the denial.
    expect(existsSync(join(outside, 'rejected.txt'))).toBe(false);
    expect(resultsOf(model, 2).join('\n')).toMatch(/sandbox_denied.*rejected by the user in the editor/s);
    model.assertDone();
  });

  it('with agent.approval: never nobody is asked: the call is refused', async () => {
    const { model, project, start } = await setup({ agent: { approval: 'never' } });
    const questions: acp.RequestPermissionRequest[] = [];
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'n.txt', content: 'N\n' } }] } },
      { match: isParent, reply: { text: 'FINAL-NEVER' } },
    );
    const agent = await start({
      args: ['--sandbox', 'read-only'],
      serve: (app) =>
        app.onRequest('session/request_permission', ({ params }) => {
          questions.push(params);
          return { outcome: { outcome: 'selected', optionId: 'allow_once' } };
        }),
    });
    const { sessionId } = await agent.request('session/new', { cwd: project, mcpServers: [] });
    await agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-NEVER' }] });
    expect(questions).toEqual([]);
    expect(existsSync(join(project, 'n.txt'))).toBe(false);
    expect(resultsOf(model, 1).join('\n')).toMatch(/sandbox_denied.*read-only mode/s);
    model.assertDone();
  });

  it('allow once lets one call run; session/cancel withdraws a pending question and answers reject', async () => {
    const { model, project, start } = await setup();
    const withdrawn: string[] = [];
    let asked = 0;
    model.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'once.txt', content: 'ONCE\n' } }] } },
      { match: isParent, reply: { text: 'FINAL-ONCE' } },
      { match: isParent, reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'pending.txt', content: 'NEVER\n' } }] } },
    );
    const agent = await start({
      args: ['--sandbox', 'read-only'],
      serve: (app) =>
        app.onRequest('session/request_permission', async ({ params, signal }) => {
          asked += 1;
          if (asked === 1) return { outcome: { outcome: 'selected', optionId: 'allow_once' } };
          // The second question waits for the user, who never answers: the turn is cancelled.
          await new Promise<void>((resolveAbort) => signal.addEventListener('abort', () => resolveAbort(), { once: true }));
          withdrawn.push(params.toolCall.title ?? '');
          return { outcome: { outcome: 'cancelled' } };
        }),
    });
    const { sessionId } = await agent.request('session/new', { cwd: project, mcpServers: [] });
    await agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-ONCE' }] });
    expect(readFileSync(join(project, 'once.txt'), 'utf8')).toBe('ONCE\n');
    expect(resultsOf(model, 1).join('\n')).toContain('created');

    const prompt = agent.request('session/prompt', { sessionId, prompt: [{ type: 'text', text: 'PROMPT-PENDING' }] });
    await until(() => asked === 2, 20_000, 'the second question');
    await agent.notify('session/cancel', { sessionId });
    expect((await prompt).stopReason).toBe('cancelled');
    await until(() => withdrawn.length === 1, 10_000, 'the question to be withdrawn');
    expect(withdrawn[0]).toContain('pending.txt');
    expect(existsSync(join(project, 'pending.txt'))).toBe(false);
    model.assertDone();
  });
});
