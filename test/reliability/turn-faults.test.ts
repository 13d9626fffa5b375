import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { Session } from '../../src/session.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, tempHome } from '../helpers/cli.js';
import { childWith, isChild, isParent } from '../helpers/script.js';
import { closedAfterEach } from '../helpers/teardown.js';

/** Issue 23: a failed chat turn, a child out of model calls, an oversized prompt, run --json's api_calls. */

const track = closedAfterEach();

async function runtimeOn(server: ScriptedServer, wire: 'openai' | 'anthropic', extra: Record<string, unknown> = {}): Promise<Runtime> {
  const cwd = mkdtempSync(join(tmpdir(), 'legate-turn-faults-'));
  const home = mkdtempSync(join(tmpdir(), 'legate-turn-faults-home-'));
  track({ close: () => [cwd, home].forEach((dir) => rmSync(dir, { recursive: true, force: true })) });
  const config = configSchema.parse({
    model: {
      provider: wire,
      name: 'm',
      base_url: wire === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl,
      api_key: 'sk-test-tf-0001',
      max_retries: 0,
    },
    ...extra,
  });
  return track(new Runtime({ loaded: { config, file: undefined, home, unset: new Map() }, cwd, store: new MemoryTaskStore() }));
}

const roles = (body: any): string[] => body.messages.map((message: { role: string }) => message.role);

describe.each(['openai', 'anthropic'] as const)('%s wire', (wire) => {
  it('a chat turn whose model call failed is closed: the next request alternates user / assistant', async () => {
    const server = track(
      await startScriptedServer({
        steps: [
          { label: 'refused', reply: { status: 400 } },
          { label: 'answer', reply: { text: 'second answer' } },
        ],
      }),
    );
    const session = new Session(await runtimeOn(server, wire));
    const first = await session.turn('FIRST QUESTION');
    expect(first.status).toBe('failed');
    const second = await session.turn('SECOND QUESTION');
    expect(second).toMatchObject({ status: 'completed', final: 'second answer' });
    const sent = roles(server.requests[1]!.body).filter((role) => role !== 'system');
    expect(sent).toEqual(['user', 'assistant', 'user']);
    expect(server.requests[1]!.text).toMatch(/FIRST QUESTION[\s\S]*no answer: the turn failed: HTTP 400[\s\S]*SECOND QUESTION/);
    server.assertDone();
  });

  it('a child that reaches max_iterations makes one last call without tool use for its summary, and still ends max_iterations', async () => {
    const server = track(
      await startScriptedServer({
        steps: [
          { label: 'child: works', match: childWith('LIMIT-CHILD'), reply: { toolCalls: [{ name: 'read_file', arguments: { path: 'notes.txt' } }] } },
          {
            label: 'child: summary',
            match: (request) => isChild(request) && request.text.includes('max_iterations'),
            reply: { text: 'SUMMARY: read notes.txt, the plan is in step 2' },
          },
        ],
      }),
    );
    const runtime = await runtimeOn(server, wire, { delegation: { max_iterations: 1 } });
    writeFileSync(join(runtime.cwd, 'notes.txt'), 'step 1, step 2');
    const session = new Session(runtime);
    const task = await runtime.tasks.spawn({
      goal: 'LIMIT-CHILD',
      model: 'm',
      depth: 1,
      sessionId: session.id,
      mode: 'async',
      cwd: runtime.cwd,
      toolsets: ['file'],
    });
    await runtime.tasks.waitForSession(session.id);

    const ended = await runtime.tasks.get(session.id, task.id);
    expect(ended).toMatchObject({ status: 'failed', exitReason: 'max_iterations', summary: 'SUMMARY: read notes.txt, the plan is in step 2' });
    const last = server.requests[1]!.body;
    // The tools stay defined (the history holds a tool call) but none may be called.
    expect(last.tool_choice).toEqual(wire === 'openai' ? 'none' : { type: 'none' });
    expect(server.requests[1]!.text).toContain('step 1, step 2');
    server.assertDone();
  });

  it('a prompt over agent.max_prompt_bytes is refused naming the limit and the setting; nothing is sent', async () => {
    const server = track(await startScriptedServer());
    const session = new Session(await runtimeOn(server, wire, { agent: { max_prompt_bytes: 100 } }));
    await expect(session.turn('x'.repeat(101))).rejects.toMatchObject({
      code: 'invalid_arguments',
      message: expect.stringMatching(/the prompt is 101 bytes, over the limit of 100 bytes \(agent\.max_prompt_bytes/),
    });
    const byDefault = new Session(await runtimeOn(server, wire));
    await expect(byDefault.turn('y'.repeat(20 * 1024 * 1024))).rejects.toThrow(/over the limit of 1048576 bytes \(agent\.max_prompt_bytes/);
    expect(server.requests).toHaveLength(0);
  });
});

describe('run over a stream fault', () => {
  it('a cut reply is retried: stdout holds only the whole answer, stderr says the partial one was dropped', async () => {
    const server = track(
      await startScriptedServer({
        steps: [
          { label: 'cut', reply: { text: 'PARTIAL words that the network cuts off in the middle', cutStream: true } },
          { label: 'whole', reply: { text: 'WHOLE answer' } },
        ],
      }),
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl, {}, { max_retries: 1 }));
    const result = await runCli(['--config', configFile, 'run', 'answer me'], { home, cwd: work });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('WHOLE answer\n');
    expect(result.stderr).toMatch(/retry 1 of the model call in \d+ ms \(the partial reply above is discarded\): stream (interrupted|ended before)/);
    expect(server.requests[1]!.body).toEqual(server.requests[0]!.body);
    server.assertDone();
  });
});

describe('run --json', () => {
  it("api_calls counts every model call of the parent, the notice round's included", async () => {
    const server = track(await startScriptedServer());
    server.enqueue(
      { label: 'parent: spawn', match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'NOTICE-CHILD' } }] } },
      { label: 'parent: first answer', match: isParent, reply: { text: 'started it' } },
      { label: 'child', match: childWith('NOTICE-CHILD'), reply: { text: 'child done' } },
      { label: 'parent: after the notice', match: isParent, reply: { text: 'the child is done' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const result = await runCli(['--config', configFile, 'run', '--json', 'spawn one'], { home, cwd: work });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.final).toBe('the child is done');
    expect(server.requests.filter(isParent)).toHaveLength(3);
    expect(json.api_calls).toBe(3);
    server.assertDone();
  });
});
