import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { thinkingSignature } from '../../src/testing/provider-rules.js';
import type { RecordedRequest, ScriptedServerOptions, ScriptedStep } from '../../src/testing/scripted-server.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';
import { runJsonOn, runtimeOnScripted, useScriptedServer, type Wire } from '../helpers/scripted.js';

/**
 * Issue 25: reasoning models through `legate run`, over real HTTP and the real SDKs, against a
 * scripted server that enforces each provider's documented rules (src/testing/provider-rules.ts).
 * Every "replays" case has its twin with the replay turned off, which the server refuses with the
 * provider's real 400: what makes the first pass is legate sending the reasoning back as required.
 */

const runJson = (runtime: Runtime, prompt = 'go') => runJsonOn(runtime, prompt, { reasoning: true });

async function scripted(
  wire: Wire,
  steps: ScriptedStep[],
  model: Record<string, unknown>,
  options: ScriptedServerOptions = {},
  config: Record<string, unknown> = {},
) {
  const server = await useScriptedServer({ steps, ...options });
  const runtime = runtimeOnScripted(server, wire, { model, ...config });
  return { server, runtime };
}

const listTwice = [
  { name: 'list_dir', arguments: { path: '.' } },
  { name: 'list_dir', arguments: { path: '.' } },
];

describe('Anthropic extended thinking', () => {
  const steps = (): ScriptedStep[] => [
    { reply: { reasoning: 'I should list the directory twice, in parallel.', toolCalls: listTwice } },
    { reply: { reasoning: 'Both listings are in.', text: 'two listings done' } },
  ];

  it('asks for thinking with a budget below max_tokens and no temperature, and sends thinking back first in the tool-use turn, signature unchanged', async () => {
    const { server, runtime } = await scripted('anthropic', steps(), { name: 'claude-sonnet-4-20250514', reasoning_effort: 'medium', max_tokens: 4096 });
    const { code, json } = await runJson(runtime);
    expect(code, JSON.stringify(json)).toBe(0);
    server.assertDone();
    const [first, second] = server.requests as [RecordedRequest, RecordedRequest];
    expect(first.body.thinking).toEqual({ type: 'enabled', budget_tokens: 8192 });
    // max_tokens 4096 is below the budget: the answer keeps its 4096 above it.
    expect(first.body.max_tokens).toBe(4096 + 8192);
    expect(first.body).not.toHaveProperty('temperature');
    // A parallel tool call whose turn carries thinking: the thinking block first, then both tool_use blocks.
    const turn = second.body.messages[1].content as { type: string; thinking?: string; signature?: string }[];
    expect(turn.map((block) => block.type)).toEqual(['thinking', 'tool_use', 'tool_use']);
    expect(turn[0]).toEqual({
      type: 'thinking',
      thinking: 'I should list the directory twice, in parallel.',
      signature: thinkingSignature('I should list the directory twice, in parallel.'),
    });
    // Reasoning is never the answer; `run --json --reasoning` shows it apart.
    expect(json.final).toBe('two listings done');
    expect(json.reasoning).toEqual(['I should list the directory twice, in parallel.', 'Both listings are in.']);
  });

  it("without the thinking block sent back, the server answers Anthropic's real 400 (so the test above is not lenient)", async () => {
    const { server, runtime } = await scripted('anthropic', steps().slice(0, 1), {
      name: 'claude-sonnet-4-20250514',
      reasoning_effort: 'medium',
      reasoning_replay: 'none',
    });
    const { json } = await runJson(runtime);
    expect(json.status).toBe('failed');
    expect(json.error).toContain('Expected `thinking` or `redacted_thinking`, but found `tool_use`');
    expect(server.requests).toHaveLength(2);
  });

  it('a signature changed on the way back is refused as the API does', async () => {
    // The server issues signatures; a client that re-encodes the thinking text would send a different one.
    const { server } = await scripted('anthropic', [], { name: 'claude-sonnet-4-20250514' });
    const response = await fetch(`${server.anthropicBaseUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'claude-sonnet-4-20250514',
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'x', signature: 'forged' },
              { type: 'tool_use', id: 't1', name: 'list_dir', input: {} },
            ],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
        ],
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages.1.content.0: Invalid `signature` in `thinking` block' },
    });
    server.unexpected.length = 0;
  });

  it('redacted thinking goes back unchanged, in place', async () => {
    const { server, runtime } = await scripted(
      'anthropic',
      [
        {
          reply: {
            reasoning: 'Visible part.',
            redactedThinking: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP',
            toolCalls: [listTwice[0]!],
          },
        },
        { reply: { text: 'done' } },
      ],
      { name: 'claude-opus-4-6', reasoning_effort: 'high' },
    );
    const { code } = await runJson(runtime);
    expect(code).toBe(0);
    server.assertDone();
    const [first, second] = server.requests as [RecordedRequest, RecordedRequest];
    // A model that takes adaptive thinking gets it, with the effort.
    expect(first.body.thinking).toEqual({ type: 'adaptive' });
    expect(first.body.output_config).toEqual({ effort: 'high' });
    expect((second.body.messages[1].content as { type: string; data?: string }[]).map((block) => block.data ?? block.type)).toEqual([
      'thinking',
      'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP',
      'tool_use',
    ]);
  });

  it("an OpenAI-wire child's reasoning never goes to Anthropic (no signature it would accept)", async () => {
    // The parent is on Anthropic; the child's conversation is its own, but the rule is per message: only Anthropic parts with a signature go back.
    const { toAnthropicRequest } = await import('../../src/provider/anthropic.js');
    const params = toAnthropicRequest({
      model: 'claude-sonnet-4-20250514',
      system: '',
      tools: [],
      messages: [
        { role: 'user', content: 'go' },
        {
          role: 'assistant',
          content: 'ok',
          reasoning: [{ type: 'thinking', source: 'reasoning_content', text: 'from deepseek' }],
          toolCalls: [{ id: 't', name: 'list_dir', arguments: '{}' }],
        },
        { role: 'tool', toolCallId: 't', name: 'list_dir', content: 'x' },
      ],
      promptCache: false,
    });
    expect(JSON.stringify(params.messages)).not.toContain('from deepseek');
  });
});

describe('OpenAI-compatible reasoning', () => {
  const deepseekSteps = (): ScriptedStep[] => [
    { reply: { reasoning: 'List it first.', toolCalls: [listTwice[0]!] } },
    { reply: { reasoning: 'Done listing.', text: 'listed' } },
  ];

  it('DeepSeek reasoner: reasoning_content goes back on the assistant turn with tool calls', async () => {
    const { server, runtime } = await scripted('openai', deepseekSteps(), { name: 'deepseek-reasoner' });
    const { code, json } = await runJson(runtime);
    expect(code, JSON.stringify(json)).toBe(0);
    server.assertDone();
    const assistant = server.requests[1]!.body.messages.find((message: { role: string }) => message.role === 'assistant');
    expect(assistant.reasoning_content).toBe('List it first.');
    expect(json.final).toBe('listed');
    expect(json.reasoning).toEqual(['List it first.', 'Done listing.']);
  });

  it('DeepSeek reasoner without the replay: the real 400 "Missing `reasoning_content` field"', async () => {
    const { runtime } = await scripted('openai', deepseekSteps().slice(0, 1), { name: 'deepseek-reasoner', reasoning_replay: 'none' });
    const { json } = await runJson(runtime);
    expect(json.status).toBe('failed');
    expect(json.error).toContain('Missing `reasoning_content` field in the assistant message at message index 2');
  });

  it("OpenAI's endpoint: reasoning_effort and max_completion_tokens for a reasoning model, and no reasoning field sent back", async () => {
    const { server, runtime } = await scripted(
      'openai',
      [{ reply: { reasoning: 'proxied thoughts', toolCalls: [listTwice[0]!] } }, { reply: { text: 'ok' } }],
      { name: 'gpt-5-mini', reasoning_effort: 'low', max_tokens: 2000 },
      { emulate: 'openai' },
    );
    const { code, json } = await runJson(runtime);
    expect(code, JSON.stringify(json)).toBe(0);
    server.assertDone();
    for (const request of server.requests) {
      expect(request.body.reasoning_effort).toBe('low');
      expect(request.body.max_completion_tokens).toBe(2000);
      expect(request.body).not.toHaveProperty('max_tokens');
    }
    expect(JSON.stringify(server.requests[1]!.body.messages)).not.toContain('proxied thoughts');
  });

  it("OpenAI's endpoint refuses max_tokens for a reasoning model with its real 400 (token_limit_param: max_tokens forces it)", async () => {
    const { runtime } = await scripted('openai', [], { name: 'gpt-5-mini', max_tokens: 2000, token_limit_param: 'max_tokens' }, { emulate: 'openai' });
    const { json } = await runJson(runtime);
    expect(json.status).toBe('failed');
    expect(json.error).toContain("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.");
  });

  it('OpenRouter: reasoning_details go back unchanged (the pieces of one detail joined as streamed)', async () => {
    const { server, runtime } = await scripted(
      'openai',
      [{ reply: { reasoning: 'Think in pieces here.', reasoningFormat: 'reasoning_details', toolCalls: [listTwice[0]!] } }, { reply: { text: 'ok' } }],
      { name: 'anthropic/claude-sonnet-4.5', reasoning_replay: 'reasoning_details' },
    );
    const { code, json } = await runJson(runtime);
    expect(code).toBe(0);
    const assistant = server.requests[1]!.body.messages.find((message: { role: string }) => message.role === 'assistant');
    expect(assistant.reasoning_details).toEqual([{ type: 'reasoning.text', text: 'Think in pieces here.', format: 'unknown', index: 0 }]);
    expect(assistant).not.toHaveProperty('reasoning_content');
    // Sent as `reasoning` and as details: shown once.
    expect(json.reasoning).toEqual(['Think in pieces here.']);
  });

  it('Mistral: content as an array of parts is the answer text, its thinking parts are reasoning (not "[object Object]")', async () => {
    const { server, runtime } = await scripted(
      'openai',
      [{ reply: { reasoning: 'Six times seven.', reasoningFormat: 'mistral', contentParts: true, text: 'The answer is 42.' } }],
      { name: 'magistral-medium-latest' },
    );
    const { code, json } = await runJson(runtime);
    expect(code).toBe(0);
    server.assertDone();
    expect(json.final).toBe('The answer is 42.');
    expect(json.reasoning).toEqual(['Six times seven.']);
  });
});

describe.each(['openai', 'anthropic'] as const)('%s wire: stop reasons', (wire) => {
  it("a refusal ends the run failed with exit_reason refusal and the provider's explanation", async () => {
    const { runtime } = await scripted(wire, [{ reply: { refusal: { explanation: 'I cannot help with building malware.', category: 'cyber' } } }], {
      name: 'm',
    });
    const { code, json } = await runJson(runtime);
    expect(code).not.toBe(0);
    expect(json).toMatchObject({ status: 'failed', exit_reason: 'refusal' });
    expect(json.error).toContain('I cannot help with building malware.');
    expect(json.error).not.toContain('empty final answer');
    if (wire === 'anthropic') expect(json.error).toContain('category: cyber');
  });

  it('a refusing child is failed with exit_reason refusal, and the parent is told why', async () => {
    const { server, runtime } = await scripted(
      wire,
      [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'REFUSE-GOAL' } }] } },
        { match: childWith('REFUSE-GOAL'), reply: { refusal: { explanation: 'Not something I will do.' } } },
        { match: isParent, reply: { text: 'the child refused' } },
      ],
      { name: 'm' },
    );
    const { json } = await runJson(runtime);
    expect(json.tasks[0].status).toBe('failed');
    const task = await runtime.tasks.get({ kind: 'operator' } as never, json.tasks[0].task_id);
    expect(task).toMatchObject({ status: 'failed', exitReason: 'refusal' });
    const told = server.requests.filter(isParent)[1]!;
    const results =
      wire === 'openai'
        ? lastToolResults(told)
        : (told.body.messages.at(-1).content as { type: string; content: string }[]).map((part) => JSON.parse(part.content));
    expect(JSON.stringify(results)).toContain('Not something I will do.');
  });
});

describe('Anthropic stop reasons', () => {
  it('pause_turn: the paused turn is sent back as it is and continued', async () => {
    const { server, runtime } = await scripted('anthropic', [{ reply: { text: 'Working on it.', pauseTurn: true } }, { reply: { text: 'Finished.' } }], {
      name: 'm',
    });
    const { code, json } = await runJson(runtime);
    expect(code).toBe(0);
    expect(json.final).toBe('Finished.');
    const last = server.requests[1]!.body.messages.at(-1);
    expect(last.role).toBe('assistant');
    expect(JSON.stringify(last.content)).toContain('Working on it.');
  });

  it('model_context_window_exceeded is a full context, not a reply cut at max_tokens', async () => {
    const { runtime } = await scripted('anthropic', [{ reply: { text: 'partial', contextWindowExceeded: true } }], { name: 'm' });
    const { json } = await runJson(runtime);
    expect(json).toMatchObject({ status: 'failed', exit_reason: 'context_overflow' });
    expect(json.error).toContain('context window is full (model_context_window_exceeded)');
    expect(json.error).not.toMatch(/raise max_tokens in the config/);
  });
});

describe('usage as billed', () => {
  it.each([
    ['reasoning within completion_tokens (OpenAI, DeepSeek)', false],
    ['reasoning outside completion_tokens (xAI)', true],
  ])('%s: output counts them once, and reasoning tokens are their own count within output', async (_name, outside) => {
    const { runtime } = await scripted(
      'openai',
      [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'THINK-GOAL' } }] } },
        {
          match: childWith('THINK-GOAL'),
          reply: { text: 'thought', reasoning: 'r', usage: { inputTokens: 100, outputTokens: 80, reasoningTokens: 60, reasoningOutside: outside } },
        },
        { match: isParent, reply: { text: 'done' } },
      ],
      { name: outside ? 'grok-4' : 'deepseek-reasoner' },
    );
    const { json } = await runJson(runtime);
    expect(json.tasks[0].usage).toMatchObject({ input_tokens: 100, output_tokens: 80, reasoning_tokens: 60 });
  });
});
