import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { stepCountIs, ToolLoopAgent, tool } from 'ai';
import { z } from 'zod';
import { childSystemPrompt } from '../src/delegation/child-prompt.js';
import { benchKey, benchModel } from './common.js';
import { fanoutBaseline, listDirDescription, listDirPathDescription, listDirText } from './fanout-baseline.js';

/**
 * The same fan-out written with the Vercel AI SDK (`ai` with `@ai-sdk/openai-compatible`) against
 * the same scripted server: one `ToolLoopAgent` with a `list_dir` tool, `agent.stream()` once per
 * child under `Promise.all` (the "parent" is that Promise.all), each stream read to its end.
 * Streaming, as legate always does; `includeUsage` asks for the usage chunk as legate and the
 * other peer do (`stream_options`); retries off, and telemetry is off by default.
 *
 *   node bench/dist/bench/fanout-aisdk.js --n=100 [--latency=200] [--steps=3]
 */
async function main(): Promise<void> {
  const { steps, server, scratch, finish } = await fanoutBaseline();
  const provider = createOpenAICompatible({ name: 'bench', baseURL: server.openaiBaseUrl, apiKey: benchKey, includeUsage: true });
  const listDir = tool({
    description: listDirDescription,
    inputSchema: z.object({ path: z.string().describe(listDirPathDescription) }),
    execute: ({ path }) => listDirText(scratch.dir, path),
  });
  const child = new ToolLoopAgent({
    model: provider.chatModel(benchModel),
    instructions: childSystemPrompt({ cwd: scratch.dir, depth: 1 }),
    tools: { list_dir: listDir },
    stopWhen: stepCountIs(steps + 2),
    maxRetries: 0,
  });
  const runChild = async (goal: string): Promise<string> => {
    const result = await child.stream({ prompt: goal });
    await result.consumeStream();
    return await result.text;
  };

  await finish('ai-sdk', runChild, 'Goal:\n');
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
