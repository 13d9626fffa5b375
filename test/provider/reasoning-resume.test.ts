import { afterEach, describe, expect, it } from 'vitest';
import { thinkingSignature } from '../../src/testing/provider-rules.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { childWith, isChild, isParent } from '../helpers/script.js';

/**
 * Issue 25: a thinking child's reasoning is checkpointed (SQLite, stored format 2) and survives a
 * resume: the resumed call sends the thinking block back with its signature, which the strict
 * server checks (a checkpoint that lost it would get Anthropic's 400). Its output tail shows the
 * thinking folded, marked as such; its summary to the parent is only its answer.
 */

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

describe('a thinking child (Anthropic, extended thinking)', () => {
  it('resumes from its checkpoint with its thinking block intact, shows thinking in its tail, and summarises with text only', async () => {
    const thought = 'The directory listing comes first; then I can summarise.';
    server = await startScriptedServer();
    server.enqueue(
      // With thinking enabled every reply starts with thinking (the server refuses a tool-use turn without it).
      { match: isParent, reply: { reasoning: 'Delegate it.', toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'THINK-GOAL' } }] } },
      { match: isParent, reply: { reasoning: 'Wait for it.', text: 'started it' } },
      { label: 'child-1', match: childWith('THINK-GOAL'), reply: { reasoning: thought, toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { label: 'child-2-cut', match: childWith('THINK-GOAL'), reply: { text: 'half an answer', cutStream: true } },
      { match: isParent, reply: { reasoning: 'It failed.', text: 'the child failed' } },
      { label: 'child-2-resumed', match: childWith('THINK-GOAL'), reply: { reasoning: 'Listing seen.', text: 'THINK-SUMMARY: one file' } },
    );
    const config = scriptedConfig(server.anthropicBaseUrl, {}, { provider: 'anthropic', name: 'claude-sonnet-4-20250514', reasoning_effort: 'low' });
    const { home, work, configFile } = tempHome(config);
    const cli = (args: string[]) => runMain(['--config', configFile, ...args], { home, cwd: work });

    const run = await cli(['run', '--json', 'go']);
    expect(run.code, `${run.stderr}\n${run.stdout}\n${JSON.stringify(server.unexpected)}`).toBe(0);
    const id = (JSON.parse(run.stdout).tasks as { task_id: string }[])[0]!.task_id;

    const shown = await cli(['tasks', 'show', id]);
    expect(shown.stdout).toContain(`✻ thinking: ${thought}`);

    const resumed = await cli(['tasks', 'resume', id]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('THINK-SUMMARY: one file');
    expect(resumed.stdout).not.toContain('Listing seen.');

    const last = server.requests.filter(isChild).at(-1)!;
    expect(last.stepLabel).toBe('child-2-resumed');
    const turn = last.body.messages.find((message: { role: string }) => message.role === 'assistant').content;
    expect(turn[0]).toEqual({ type: 'thinking', thinking: thought, signature: thinkingSignature(thought) });
    expect(turn[1]).toMatchObject({ type: 'tool_use', name: 'list_dir' });
    expect(server.unexpected).toEqual([]);

    const after = JSON.parse((await cli(['tasks', 'show', id, '--json'])).stdout);
    expect(after.status).toBe('completed');
    expect(after.output.join('\n')).toContain('✻ thinking: Listing seen.');
  });

  it("legate chat shows a reply's thinking as one folded thinking line before its answer, and the answer without it", async () => {
    server = await startScriptedServer();
    server.enqueue({ reply: { reasoning: 'The user greets me.\nI should greet back.', text: 'Hello there!' } });
    const { home, work, configFile } = tempHome(
      scriptedConfig(server.anthropicBaseUrl, {}, { provider: 'anthropic', name: 'claude-sonnet-4-20250514', reasoning_effort: 'low' }),
    );
    const chat = await runMain(['--config', configFile, 'chat'], { home, cwd: work, input: 'hi\n' });
    const all = `${chat.stderr}\n${chat.stdout}`;
    expect(all).toContain('✻ thinking: The user greets me. I should greet back.');
    expect(all.indexOf('✻ thinking:')).toBeLessThan(all.indexOf('Hello there!'));
    expect(chat.stdout).not.toMatch(/Hello there!.*greets me/s);
  });
});
