import { Agent, OpenAIChatCompletionsModel, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { childSystemPrompt } from '../src/delegation/child-prompt.js';
import { benchKey, benchModel } from './common.js';
import { fanoutBaseline, listDirDescription, listDirPathDescription, listDirText } from './fanout-baseline.js';

/**
 * The same fan-out written with the peer, `@openai/agents`, in chat-completions mode against the
 * same scripted server: one child `Agent` with a `list_dir` function tool, `run()` once per child
 * under `Promise.all` (the "parent" is that Promise.all). Tracing is disabled (legate has none).
 * `--stream` runs each child with `{ stream: true }` (legate always streams).
 *
 *   node bench/dist/bench/fanout-peer.js --n=100 [--stream] [--latency=200] [--steps=3]
 */
async function main(): Promise<void> {
  const { options, steps, server, scratch, finish } = await fanoutBaseline();
  const stream = options.get('stream') === 'true';
  setTracingDisabled(true);
  setOpenAIAPI('chat_completions');
  const client = new OpenAI({ apiKey: benchKey, baseURL: server.openaiBaseUrl, maxRetries: 0 });
  setDefaultOpenAIClient(client);
  const listDir = tool({
    name: 'list_dir',
    description: listDirDescription,
    parameters: z.object({ path: z.string().describe(listDirPathDescription) }),
    execute: ({ path }) => listDirText(scratch.dir, path),
  });
  const child = new Agent({
    name: 'child',
    instructions: childSystemPrompt({ cwd: scratch.dir, depth: 1 }),
    model: new OpenAIChatCompletionsModel(client, benchModel),
    tools: [listDir],
  });
  const runChild = async (goal: string): Promise<string> => {
    if (stream) {
      const result = await run(child, goal, { stream: true, maxTurns: steps + 2 });
      await result.completed;
      return String(result.finalOutput ?? '');
    }
    const result = await run(child, goal, { maxTurns: steps + 2 });
    return String(result.finalOutput ?? '');
  };

  await finish(stream ? 'peer-stream' : 'peer', runChild, 'Goal:\n');
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
