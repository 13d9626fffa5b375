import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import type { EmulatedProvider } from '../../src/testing/provider-rules.js';
import type { RecordedRequest } from '../../src/testing/scripted-server.js';
import { runJsonOn, runtimeOnScripted, useScriptedServer, type Wire } from '../helpers/scripted.js';

/**
 * Issue 25: streams in the shape of each provider's documented examples (test/fixtures/provider-streams,
 * its README names the source of each) replayed through `legate run`, over the real SDKs. The
 * follow-up request goes to the strict server, which refuses it unless the reasoning went back as
 * that provider requires.
 */

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/provider-streams/${name}`, import.meta.url), 'utf8');

const runJson = async (runtime: Runtime): Promise<any> => (await runJsonOn(runtime, 'what is here?', { reasoning: true })).json;

async function replay(
  wire: Wire,
  file: string,
  model: Record<string, unknown>,
  options: { emulate?: EmulatedProvider; trustedSignatures?: string[]; followUp?: boolean } = {},
) {
  const steps = [{ reply: { sse: fixture(file) } }, ...(options.followUp === false ? [] : [{ reply: { text: 'all listed' } }])];
  const server = await useScriptedServer({ steps, ...options });
  const runtime = runtimeOnScripted(server, wire, { model });
  const json = await runJson(runtime);
  return { server, json, followUp: server.requests[1] as RecordedRequest | undefined };
}

const assistantOf = (request: RecordedRequest): any => request.body.messages.find((message: { role: string }) => message.role === 'assistant');

describe('recorded provider streams through legate run', () => {
  it('Anthropic thinking + tool_use: the thinking block (with its recorded signature) goes back first, byte for byte', async () => {
    const signature = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds+/3xFZpKMoEfWQGrHCr0Wg5YYWRSBAr9xsLQSf5Yl4uT7G0Z6Vz6ZtY38jM2t6bWx9rxQ==';
    const { server, json, followUp } = await replay(
      'anthropic',
      'anthropic-thinking-tool-use.sse',
      { name: 'claude-sonnet-4-20250514', reasoning_effort: 'low' },
      { trustedSignatures: [signature] },
    );
    expect(json.status, JSON.stringify(json)).toBe('completed');
    server.assertDone();
    expect(assistantOf(followUp!).content).toEqual([
      { type: 'thinking', thinking: 'The user wants to know what is in the directory.\n\nI should call list_dir on "." first.', signature },
      { type: 'text', text: "I'll look at the directory." },
      { type: 'tool_use', id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'list_dir', input: { path: '.' } },
    ]);
    expect(json.reasoning[0]).toContain('I should call list_dir');
    expect(json.final).toBe('all listed');
  });

  it('Anthropic refusal with stop_details (message_start without usage): failed, exit_reason refusal, the explanation kept', async () => {
    const { json } = await replay('anthropic', 'anthropic-refusal.sse', { name: 'claude-sonnet-4-20250514' }, { followUp: false });
    expect(json).toMatchObject({ status: 'failed', exit_reason: 'refusal' });
    expect(json.error).toContain('This request asks for working malware. (category: cyber)');
  });

  it('DeepSeek reasoner tool call: reasoning_content goes back; cache hits and reasoning tokens counted as billed', async () => {
    const { server, json, followUp } = await replay('openai', 'deepseek-reasoner-tool-call.sse', { name: 'deepseek-reasoner' });
    expect(json.status, JSON.stringify(json)).toBe('completed');
    server.assertDone();
    expect(assistantOf(followUp!).reasoning_content).toBe('The user asks what is here. I will list the directory.');
    // The first call: 318 prompt tokens of which 256 cached, 64 completion.
    expect(json.usage.parent.cache_read_tokens).toBe(256);
    expect(json.usage.parent.input_tokens).toBeGreaterThanOrEqual(62);
  });

  it('Mistral content parts: the answer is the text parts, thinking parts are reasoning, nothing reads "[object Object]"', async () => {
    const { json } = await replay('openai', 'mistral-magistral-content-parts.sse', { name: 'magistral-medium-2509' }, { followUp: false });
    expect(json.status).toBe('completed');
    expect(json.final).toBe('The answer is 42.');
    expect(json.final).not.toContain('[object Object]');
    expect(json.reasoning).toEqual(['Okay, 6 times 7 is 42.']);
  });

  it('xAI: reasoning tokens reported outside completion_tokens are counted in output (9 + 94)', async () => {
    const { json } = await replay('openai', 'xai-grok-reasoning-usage.sse', { name: 'grok-3-mini' }, { followUp: false });
    expect(json.final).toBe('101 times 3 is 303.');
    expect(json.usage.parent).toMatchObject({ input_tokens: 26, cache_read_tokens: 6, output_tokens: 103 });
  });

  it('OpenRouter reasoning_details: the detail goes back unchanged, its streamed text joined and its signature kept', async () => {
    const { json, followUp } = await replay('openai', 'openrouter-reasoning-details.sse', {
      name: 'anthropic/claude-sonnet-4.5',
      reasoning_replay: 'reasoning_details',
    });
    expect(json.status, JSON.stringify(json)).toBe('completed');
    expect(assistantOf(followUp!).reasoning_details).toEqual([
      {
        type: 'reasoning.text',
        text: 'I need the directory listing first.',
        signature: 'ErUBCkYIBRgCIkCv3pQ7eVjZ+X2Wq5T0mKp1sLr8bN9cD4fG6hJ2kM3nP5qR7tU9wY1zA3bC5dE7fG9hJ1kL3mN5pQ7rS9tUEgx=',
        format: 'anthropic-claude-v1',
        index: 0,
      },
    ]);
    expect(json.reasoning).toEqual(['I need the directory listing first.']);
  });
});
