import { readdir } from 'node:fs/promises';
import { childBrief, childSystemPrompt } from '../src/delegation/child-prompt.js';
import { toOpenAIRequest } from '../src/provider/openai.js';
import type { Message } from '../src/provider/types.js';
import { toToolSpec } from '../src/tools/tool-spec.js';
import { builtinToolsets } from '../src/tools/toolsets.js';
import { benchKey, benchModel } from './common.js';
import { fanoutBaseline } from './fanout-baseline.js';

/**
 * The harness floor: the same N x S model calls with the same request bodies as legate's children
 * (system prompt, file tool schemas, growing conversation, streamed), made with bare `fetch` and a
 * minimal SSE reader, plus the same readdir per tool call. No SDK, no agent loop, no store: what
 * the scripted server, Node's HTTP client and this machine cost by themselves.
 *
 *   node bench/dist/bench/fanout-floor.js --n=100 [--latency=200] [--steps=3]
 */
async function main(): Promise<void> {
  const { steps, server, scratch, finish } = await fanoutBaseline();
  const tools = builtinToolsets()
    .find((toolset) => toolset.name === 'file')!
    .tools.map(toToolSpec);
  const system = childSystemPrompt({ cwd: scratch.dir, depth: 1 });
  const url = `${server.openaiBaseUrl}/chat/completions`;

  const complete = async (messages: Message[]): Promise<{ text: string; calls: { id: string; name: string; arguments: string }[] }> => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${benchKey}` },
      body: JSON.stringify(toOpenAIRequest({ model: benchModel, system, messages, tools })),
    });
    const raw = await response.text();
    let text = '';
    const calls: { id: string; name: string; arguments: string }[] = [];
    for (const line of raw.split('\n')) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      const chunk = JSON.parse(line.slice(6)) as {
        choices: { delta: { content?: string; tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[] } }[];
      };
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        for (const part of choice.delta.tool_calls ?? []) {
          const call = (calls[part.index] ??= { id: '', name: '', arguments: '' });
          if (part.id) call.id = part.id;
          if (part.function?.name) call.name = part.function.name;
          call.arguments += part.function?.arguments ?? '';
        }
      }
    }
    return { text, calls };
  };
  const runChild = async (goal: string): Promise<string> => {
    const messages: Message[] = [{ role: 'user', content: childBrief({ goal }) }];
    for (let step = 0; step < steps + 2; step++) {
      const reply = await complete(messages);
      if (reply.calls.length === 0) return reply.text;
      messages.push({ role: 'assistant', content: reply.text, toolCalls: reply.calls });
      for (const call of reply.calls) {
        const entries = await readdir(scratch.dir, { withFileTypes: true });
        messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: entries.map((entry) => entry.name).join('\n') });
      }
    }
    return '';
  };

  await finish('floor', runChild, '');
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
