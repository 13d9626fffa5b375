import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run.js';
import type { Runtime } from '../../src/runtime.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';
import { runtimeOnScripted, useScriptedServer } from '../helpers/scripted.js';

/**
 * Issue 12: cache reads and writes are their own usage fields on both wires, priced as such, and
 * rolled up per task (the delegation results) and per session (`run --json`). Results carry token
 * counts once, as `usage`.
 */

let server: ScriptedServer | undefined;
let runtime: Runtime | undefined;

/** The tool results of the last user message of an Anthropic request body, parsed. */
function anthropicToolResults(body: any): any[] {
  const content = body.messages.at(-1).content as { type: string; content: string }[];
  return content.filter((part) => part.type === 'tool_result').map((part) => JSON.parse(part.content));
}

const cases = [
  {
    wire: 'openai' as const,
    // No cache prices: reads at 10% of the input price (0.2), OpenAI has no cache writes.
    price: { input_per_million: 2, output_per_million: 10 },
    child: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 1000 },
    childView: { input_tokens: 100, cache_read_tokens: 1000, cache_write_tokens: 0, output_tokens: 10, total_tokens: 1110 },
    // The share of input served from the cache: 1000 of 1100.
    hitShare: 0.909,
    childCost: (100 * 2 + 1000 * 0.2 + 10 * 10) / 1e6,
  },
  {
    wire: 'anthropic' as const,
    price: { input_per_million: 2, output_per_million: 10, cache_read_per_million: 0.3, cache_write_per_million: 3.75 },
    child: { inputTokens: 100, outputTokens: 10, cacheReadTokens: 1000, cacheWriteTokens: 200 },
    childView: { input_tokens: 100, cache_read_tokens: 1000, cache_write_tokens: 200, output_tokens: 10, total_tokens: 1310 },
    // 1000 of 1300 (writes are input too).
    hitShare: 0.769,
    childCost: (100 * 2 + 1000 * 0.3 + 200 * 3.75 + 10 * 10) / 1e6,
  },
];

describe.each(cases)('$wire wire: cached tokens', ({ wire, price, child, childView, hitShare, childCost }) => {
  it('are kept apart from input tokens, priced on their own, per task and in run --json, and results carry usage only', async () => {
    const parentUsage = { inputTokens: 50, outputTokens: 5, cacheReadTokens: 500 };
    server = await useScriptedServer({
      steps: [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'CACHE-CHILD' } }], usage: parentUsage } },
        { match: childWith('CACHE-CHILD'), reply: { text: 'cached child done', usage: child } },
        { match: isParent, reply: { text: 'parent done', usage: parentUsage } },
      ],
    });
    runtime = runtimeOnScripted(server, wire, { model: { api_key: 'sk-test-cache-0001', max_retries: 2 }, prices: { m: price } });
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const code = await runCommand('go', { json: true }, { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {} }, runtime);
    expect(code).toBe(0);
    server.assertDone();

    // Per task: the delegate_task result the parent read.
    const secondCall = server.requests.filter(isParent)[1]!;
    const [batch] = wire === 'openai' ? lastToolResults(secondCall) : anthropicToolResults(secondCall.body);
    const entry = batch.results[0];
    expect(entry.usage).toEqual({ ...childView, cache_hit_share: hitShare, cost_usd: Number(childCost.toFixed(6)) });
    expect(entry).not.toHaveProperty('tokens');

    // Per session: run --json rolls the parent's and the child's up, each count on its own.
    const output = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const parent = { input_tokens: 100, cache_read_tokens: 1000, cache_write_tokens: 0, output_tokens: 10, total_tokens: 1110 };
    expect(output.usage.parent).toEqual(parent);
    expect(output.usage.children).toEqual(childView);
    expect(output.usage).toMatchObject({
      input_tokens: 200,
      cache_read_tokens: 2000,
      cache_write_tokens: childView.cache_write_tokens,
      output_tokens: 20,
      total_tokens: 1110 + childView.total_tokens,
    });
    const parentCost = (100 * 2 + 1000 * (price.cache_read_per_million ?? 0.2) + 10 * 10) / 1e6;
    expect(output.usage.cost_usd).toBeCloseTo(parentCost + childCost, 9);
    expect(output.tasks[0].usage).toMatchObject(childView);
    expect(output.tasks[0]).not.toHaveProperty('tokens');
  });
});
