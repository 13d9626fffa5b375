import { describe, expect, it } from 'vitest';
import { toOpenAIRequest } from '../../src/provider/openai.js';
import { wireRulesFor } from '../../src/provider/reasoning-rules.js';
import { createProvider } from '../../src/provider/registry.js';
import type { ModelRequest, Provider } from '../../src/provider/types.js';
import type { Runtime } from '../../src/runtime.js';
import type { RecordedRequest, ScriptedStep } from '../../src/testing/scripted-server.js';
import { childWith, isChild, isParent } from '../helpers/script.js';
import { runJsonOn, runtimeOnScripted, useScriptedServer } from '../helpers/scripted.js';

/**
 * Issue 25, prompt caching. Anthropic: `cache_control` on the stable prefix (the last tool, the
 * system as a block) and on the last message, moving each turn, never more than 4 (the strict
 * server refuses a fifth); the prefix of a task is byte-identical turn to turn and siblings with the
 * same toolset share it. OpenAI: `prompt_cache_key` per task tree, only on OpenAI's own endpoint.
 */

const run = async (runtime: Runtime): Promise<any> => (await runJsonOn(runtime)).json;

const list = { name: 'list_dir', arguments: { path: '.' } };
const twoSiblings = (): ScriptedStep[] => [
  { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { tasks: [{ goal: 'SIB-A' }, { goal: 'SIB-B' }] } }] } },
  { match: childWith('SIB-A'), reply: { toolCalls: [list] } },
  { match: childWith('SIB-A'), reply: { toolCalls: [list] } },
  { match: childWith('SIB-A'), reply: { text: 'A done' } },
  { match: childWith('SIB-B'), reply: { toolCalls: [list] } },
  { match: childWith('SIB-B'), reply: { text: 'B done' } },
  { match: isParent, reply: { text: 'both done' } },
];

const cacheMarks = (body: unknown): number => JSON.stringify(body).split('"cache_control"').length - 1;

describe('Anthropic prompt caching', () => {
  it('marks the last tool, the system and the last message; the prefix stays byte-identical turn to turn and siblings share it', async () => {
    const server = await useScriptedServer({ steps: twoSiblings(), promptCache: true });
    const runtime = runtimeOnScripted(server, 'anthropic');
    const output = await run(runtime);
    expect(output.status).toBe('completed');
    server.assertDone();
    for (const request of server.requests) {
      expect(cacheMarks(request.body), `request #${request.index}`).toBe(3);
      expect(request.body.tools.at(-1).cache_control).toEqual({ type: 'ephemeral' });
      expect(request.body.system).toEqual([{ type: 'text', text: expect.any(String), cache_control: { type: 'ephemeral' } }]);
      // The moving breakpoint: on the last block of the last message, on no earlier message.
      const messages = request.body.messages as { content: { cache_control?: unknown }[] }[];
      expect(messages.at(-1)!.content.at(-1)!.cache_control).toEqual({ type: 'ephemeral' });
      expect(cacheMarks(messages.slice(0, -1))).toBe(0);
    }
    const prefix = (request: RecordedRequest): string => JSON.stringify([request.body.tools, request.body.system]);
    const a = server.requests.filter(childWith('SIB-A'));
    const b = server.requests.filter(childWith('SIB-B'));
    expect(new Set(a.map(prefix)).size).toBe(1);
    expect(new Set(b.map(prefix)).size).toBe(1);
    // Siblings with the same toolset: the same tools, byte for byte (the first part of the prefix).
    expect(JSON.stringify(a[0]!.body.tools)).toBe(JSON.stringify(b[0]!.body.tools));
    // Later turns of a child read what the earlier ones wrote.
    expect(output.usage.children.cache_read_tokens).toBeGreaterThan(0);
  });

  it('model.prompt_cache: false sends no cache_control at all, and nothing is read from the cache', async () => {
    const server = await useScriptedServer({ steps: twoSiblings(), promptCache: true });
    const runtime = runtimeOnScripted(server, 'anthropic', { model: { prompt_cache: false } });
    const output = await run(runtime);
    expect(output.status).toBe('completed');
    for (const request of server.requests) expect(cacheMarks(request.body)).toBe(0);
    expect(output.usage.cache_read_tokens).toBe(0);
  });
});

describe('OpenAI prompt_cache_key', () => {
  const request: ModelRequest = { model: 'gpt-4.1', system: 's', messages: [{ role: 'user', content: 'hi' }], tools: [], cacheKey: 'legate-s_1' };

  it("is sent only where the endpoint is OpenAI's", () => {
    expect(toOpenAIRequest(request, wireRulesFor('openai', 'https://api.openai.com/v1', 'gpt-4.1')).prompt_cache_key).toBe('legate-s_1');
    for (const endpoint of ['http://127.0.0.1:8080/v1', 'https://openrouter.ai/api/v1', 'https://api.deepseek.com']) {
      expect(toOpenAIRequest(request, wireRulesFor('openai', endpoint, 'gpt-4.1'))).not.toHaveProperty('prompt_cache_key');
    }
  });

  it('is one key per task tree: the parent and its children send the same one', async () => {
    const server = await useScriptedServer({
      steps: [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'KEY-CHILD' } }] } },
        { match: isChild, reply: { text: 'child done' } },
        { match: isParent, reply: { text: 'done' } },
      ],
    });
    const keys: { child: boolean; key: string | undefined }[] = [];
    const runtime = runtimeOnScripted(
      server,
      'openai',
      {},
      {
        providerFactory: (endpoint, pool): Provider => {
          const real = createProvider({ provider: endpoint.provider, baseUrl: endpoint.baseUrl, pool, maxAttempts: 1 });
          return {
            wire: real.wire,
            endpoint: real.endpoint,
            stream: (modelRequest, signal) => {
              keys.push({ child: modelRequest.system.includes('focused subagent'), key: modelRequest.cacheKey });
              return real.stream(modelRequest, signal);
            },
          };
        },
      },
    );
    const output = await run(runtime);
    expect(output.status).toBe('completed');
    expect(keys.some((entry) => entry.child)).toBe(true);
    expect(new Set(keys.map((entry) => entry.key))).toEqual(new Set([`legate-${output.session_id}`]));
  });
});

describe('wire rules are chosen by host and by model name, and config overrides them', () => {
  it.each([
    ['openai', 'https://api.deepseek.com', 'deepseek-chat', 'deepseek', 'reasoning_content'],
    ['openai', 'http://127.0.0.1:9000/v1', 'deepseek-reasoner', 'deepseek', 'reasoning_content'],
    ['openai', 'https://openrouter.ai/api/v1', 'deepseek/deepseek-r1', 'openrouter', 'reasoning_details'],
    ['openai', 'https://api.openai.com/v1', 'o4-mini', 'openai', 'none'],
    ['openai', 'https://api.mistral.ai/v1', 'magistral-small', 'mistral', 'none'],
    ['openai', 'http://localhost:11434/v1', 'qwen3', 'openai-compatible', 'none'],
    ['anthropic', 'https://api.anthropic.com', 'claude-sonnet-4-20250514', 'anthropic', 'anthropic'],
  ] as const)('%s %s %s → %s, replay %s', (wire, endpoint, model, provider, replay) => {
    expect(wireRulesFor(wire, endpoint, model)).toMatchObject({ provider, replay });
  });

  it('picks max_completion_tokens for OpenAI reasoning models by name, anywhere; an override wins', () => {
    expect(wireRulesFor('openai', 'http://proxy.local/v1', 'openai/gpt-5').tokenParam).toBe('max_completion_tokens');
    expect(wireRulesFor('openai', 'https://api.openai.com/v1', 'gpt-4o').tokenParam).toBe('max_tokens');
    expect(wireRulesFor('openai', 'http://proxy.local/v1', 'o3', { tokenParam: 'max_tokens' }).tokenParam).toBe('max_tokens');
    expect(wireRulesFor('openai', 'http://proxy.local/v1', 'my-model', { replay: 'reasoning_content' }).replay).toBe('reasoning_content');
  });
});
