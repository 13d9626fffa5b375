import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Agent, OpenAIChatCompletionsModel, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { childSystemPrompt } from '../src/delegation/child-prompt.js';
import { benchKey, benchModel, flags, report, scratchDir, startModelServer } from './common.js';
import { settledFanoutResult } from './fanout-window.js';

/**
 * The same fan-out written with the peer, `@openai/agents`, in chat-completions mode against the
 * same scripted server: one child `Agent` with a `list_dir` function tool, `run()` once per child
 * under `Promise.all` (the "parent" is that Promise.all). Tracing is disabled (legate has none).
 * `--stream` runs each child with `{ stream: true }` (legate always streams).
 *
 *   node bench/dist/bench/fanout-peer.js --n=100 [--stream] [--latency=200] [--steps=3]
 */
async function main(): Promise<void> {
  const options = flags();
  const n = Number(options.get('n') ?? 100);
  const stream = options.get('stream') === 'true';
  const latencyMs = Number(options.get('latency') ?? 200);
  const steps = Number(options.get('steps') ?? 3);
  const warmup = Number(options.get('warmup') ?? 8);

  const server = await startModelServer({ mode: 'fanout', latencyMs, steps });
  const scratch = scratchDir();
  setTracingDisabled(true);
  setOpenAIAPI('chat_completions');
  const client = new OpenAI({ apiKey: benchKey, baseURL: server.openaiBaseUrl, maxRetries: 0 });
  setDefaultOpenAIClient(client);
  const listDir = tool({
    name: 'list_dir',
    description: 'List the entries of a directory (not recursive), sorted by name, one per line. Directories end with "/".',
    parameters: z.object({ path: z.string().describe('Directory to list, absolute or relative to the working directory.') }),
    async execute({ path }) {
      const dir = resolve(scratch.dir, path);
      const entries = await readdir(dir, { withFileTypes: true });
      const names = entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort((a, b) => a.localeCompare(b));
      return `${dir} (${names.length} entries)\n${names.join('\n')}`;
    },
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
  const fanOut = (count: number, label: string): Promise<PromiseSettledResult<string>[]> =>
    Promise.allSettled(Array.from({ length: count }, (_, index) => runChild(`Goal:\n${label} ${index}: list the working directory and report what is in it`)));

  await report(
    await settledFanoutResult(stream ? 'peer-stream' : 'peer', fanOut, { n, steps, latencyMs, warmup, profile: options.get('profile'), server, scratch }),
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
