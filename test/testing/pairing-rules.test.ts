import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, test } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';

/** The scripted server rejects what the real APIs reject: a tool result separated from its call. */
const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function server(): Promise<ScriptedServer> {
  const started = await startScriptedServer({ steps: [{ reply: { text: 'ok' } }] });
  servers.push(started);
  return started;
}

describe('tool-call pairing on the OpenAI wire', () => {
  const send = async (s: ScriptedServer, messages: any[]) =>
    new OpenAI({ baseURL: s.openaiBaseUrl, apiKey: 'sk-test-pair-0001', maxRetries: 0 }).chat.completions.create({ model: 'm', messages });

  test('a tool message whose call was dropped is a 400 with the real text', async () => {
    const s = await server();
    const error = await send(s, [
      { role: 'user', content: 'brief' },
      { role: 'tool', tool_call_id: 'call_1', content: 'result' },
    ]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      "messages with role 'tool' must be a response to a preceeding message with 'tool_calls'",
    );
    expect(s.unexpected).toHaveLength(1);
  });

  test('a call whose result was dropped is a 400 naming the id; a whole pair is accepted', async () => {
    const s = await server();
    const call = { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'read_file', arguments: '{}' } }] };
    const error = await send(s, [{ role: 'user', content: 'brief' }, call, { role: 'user', content: 'next' }]).catch((caught: unknown) => caught);
    expect(String(error)).toContain('The following tool_call_ids did not have response messages: call_9');
    const ok = await send(s, [{ role: 'user', content: 'brief' }, call, { role: 'tool', tool_call_id: 'call_9', content: 'r' }]);
    expect(ok.choices[0]!.message.content).toBe('ok');
  });
});

describe('tool-call pairing on the Anthropic wire', () => {
  const send = async (s: ScriptedServer, messages: any[]) =>
    new Anthropic({ baseURL: s.anthropicBaseUrl, apiKey: 'sk-ant-test-pair-0001', maxRetries: 0 }).messages.create({ model: 'm', max_tokens: 10, messages });

  test('a tool_result without its tool_use in the previous message is a 400 with the real text', async () => {
    const s = await server();
    const error = await send(s, [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'r' }] }]).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String(error)).toContain('messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_1');
  });

  test('a tool_use not answered in the next message is a 400; a whole pair is accepted', async () => {
    const s = await server();
    const use = { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_2', name: 'read_file', input: {} }] };
    const error = await send(s, [{ role: 'user', content: 'brief' }, use, { role: 'user', content: 'next' }]).catch((caught: unknown) => caught);
    expect(String(error)).toContain('messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_2');
    const ok = await send(s, [
      { role: 'user', content: 'brief' },
      use,
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'r' }] },
    ]);
    expect(ok.content[0]).toMatchObject({ type: 'text', text: 'ok' });
  });
});
