import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { stepCountIs, ToolLoopAgent, tool } from 'ai';
import { z } from 'zod';
import { childSystemPrompt } from '../src/delegation/child-prompt.js';
import { benchKey, benchModel, flags, report, scratchDir, startModelServer } from './common.js';
import { settledFanoutResult } from './fanout-window.js';

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
  const options = flags();
  const n = Number(options.get('n') ?? 100);
  const latencyMs = Number(options.get('latency') ?? 200);
  const steps = Number(options.get('steps') ?? 3);
  const warmup = Number(options.get('warmup') ?? 8);

  const server = await startModelServer({ mode: 'fanout', latencyMs, steps });
  const scratch = scratchDir();
  const provider = createOpenAICompatible({ name: 'bench', baseURL: server.openaiBaseUrl, apiKey: benchKey, includeUsage: true });
  const listDir = tool({
    description: 'List the entries of a directory (not recursive), sorted by name, one per line. Directories end with "/".',
    inputSchema: z.object({ path: z.string().describe('Directory to list, absolute or relative to the working directory.') }),
    async execute({ path }) {
      const dir = resolve(scratch.dir, path);
      const entries = await readdir(dir, { withFileTypes: true });
      const names = entries.map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)).sort((a, b) => a.localeCompare(b));
      return `${dir} (${names.length} entries)\n${names.join('\n')}`;
    },
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
  const fanOut = (count: number, label: string): Promise<PromiseSettledResult<string>[]> =>
    Promise.allSettled(Array.from({ length: count }, (_, index) => runChild(`Goal:\n${label} ${index}: list the working directory and report what is in it`)));

  await report(await settledFanoutResult('ai-sdk', fanOut, { n, steps, latencyMs, warmup, profile: options.get('profile'), server, scratch }));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
