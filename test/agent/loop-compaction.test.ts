import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { compactingContext, handoffPrompt } from '../../src/agent/context/prepare-context.js';
import type { WireName } from '../../src/provider/registry.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { providerFor, runLoop, workDir } from './loop-harness.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const window = 3000;
const brief = 'BRIEF: read source.txt forty times and report. Constraint: never write files.';
const calls = 40;

/** A child that reads a 4,000-character file `calls` times, then answers; hand-off requests get a summary. */
async function longChildServer(): Promise<ScriptedServer> {
  let reads = 0;
  const server = await startScriptedServer({
    contextWindow: window,
    handler: (request: RecordedRequest) => {
      if (request.text.includes(handoffPrompt)) return { text: `Goal: ${brief}\nProgress: ${reads} reads done.\nNext steps: keep reading.` };
      if (reads < calls) {
        reads++;
        return { toolCalls: [{ name: 'read_file', arguments: { path: 'source.txt' } }] };
      }
      return { text: `Done after ${reads} reads.` };
    },
  });
  servers.push(server);
  return server;
}

describe.each<WireName>(['openai', 'anthropic'])('a long child compacts its context (%s wire)', (wire) => {
  test('without compaction the child dies on the provider context-length 400', async () => {
    const cwd = await workDir();
    await writeFile(join(cwd, 'source.txt'), 'y'.repeat(4000));
    const server = await longChildServer();
    const { result } = await runLoop(server, { wire, cwd, prompt: brief, maxIterations: calls + 2 });
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(wire === 'openai' ? /maximum context length is 3000 tokens/ : /prompt is too long: \d+ tokens > 3000 maximum/);
  });

  test('with compaction: completes, no request over the window, the brief verbatim in every call, pairing intact', async () => {
    const cwd = await workDir();
    await writeFile(join(cwd, 'source.txt'), 'y'.repeat(4000));
    const server = await longChildServer();
    const prepareContext = compactingContext({
      provider: providerFor(server, wire),
      model: 'loop-model',
      contextWindow: window,
      reserveTokens: 500,
      threshold: 0.8,
      keepToolTokens: 1100,
      keepRecentTokens: 600,
    });
    const { result, events } = await runLoop(server, { wire, cwd, prompt: brief, maxIterations: calls + 2, prepareContext });

    expect(result).toMatchObject({ status: 'completed', final: `Done after ${calls} reads.` });
    // The scripted server rejects orphan tool results and over-window requests: none was.
    expect(server.unexpected).toEqual([]);
    for (const request of server.requests) expect(Math.ceil(request.text.length / 4)).toBeLessThanOrEqual(window);
    const turns = server.requests.filter((request) => !request.text.includes(handoffPrompt));
    for (const request of turns) expect(request.text).toContain(brief);
    const compacted = events.filter((event) => event.type === 'context.compacted');
    expect(compacted.map((event) => event.type === 'context.compacted' && event.how)).toContain('prune');
    expect(compacted.map((event) => event.type === 'context.compacted' && event.how)).toContain('summarise');
    for (const event of compacted) if (event.type === 'context.compacted') expect(event.tokensAfter).toBeLessThan(event.tokensBefore);
    // After a summary the next call carries the hand-off.
    expect(turns.at(-1)!.text).toContain('[Context compacted: earlier turns were replaced by this hand-off.]');
    // The full transcript stays whole in the run's result.
    expect(result.messages.filter((message) => message.role === 'tool')).toHaveLength(calls);
  });

  test('out of model calls: the summary call goes through the context step too, so the summary arrives', async () => {
    const cwd = await workDir();
    await writeFile(join(cwd, 'source.txt'), 'y'.repeat(4000));
    const atLimit = 'SUMMARY-AT-LIMIT-TURN: reply now with a summary';
    const server = await startScriptedServer({
      contextWindow: window,
      handler: (request: RecordedRequest) => {
        if (request.text.includes(handoffPrompt)) return { text: `Goal: ${brief}\nProgress: reading.` };
        if (request.text.includes(atLimit)) return { text: 'SUMMARY: read it many times' };
        return { toolCalls: [{ name: 'read_file', arguments: { path: 'source.txt' } }] };
      },
    });
    servers.push(server);
    const prepareContext = compactingContext({
      provider: providerFor(server, wire),
      model: 'loop-model',
      contextWindow: window,
      reserveTokens: 500,
      threshold: 0.8,
      keepToolTokens: 1100,
      keepRecentTokens: 600,
    });
    const { result } = await runLoop(server, { wire, cwd, prompt: brief, maxIterations: 30, summaryAtLimit: atLimit, prepareContext });
    expect(result).toMatchObject({ status: 'failed', exitReason: 'max_iterations', final: 'SUMMARY: read it many times' });
    for (const request of server.requests) expect(Math.ceil(request.text.length / 4)).toBeLessThanOrEqual(window);
    expect(server.unexpected).toEqual([]);
  });

  test('reactive (no window configured): the real context-length 400 compacts and retries that call once, then the learned limit holds', async () => {
    const cwd = await workDir();
    await writeFile(join(cwd, 'source.txt'), 'y'.repeat(4000));
    const server = await longChildServer();
    const prepareContext = compactingContext({
      provider: providerFor(server, wire),
      model: 'loop-model',
      contextWindow: 1_000_000, // unknown window: nothing proactive until the provider says
      reserveTokens: 500,
      threshold: 0.8,
      keepToolTokens: 1100,
      keepRecentTokens: 600,
    });
    const { result, events } = await runLoop(server, { wire, cwd, prompt: brief, maxIterations: calls + 2, prepareContext });

    expect(result).toMatchObject({ status: 'completed', final: `Done after ${calls} reads.` });
    const over = server.requests.filter((request) => Math.ceil(request.text.length / 4) > window);
    expect(over).toHaveLength(1); // learned from the 400: never over again
    const retried = server.requests[over[0]!.index + 1]!;
    expect(retried.text).not.toBe(over[0]!.text);
    expect(events.some((event) => event.type === 'context.compacted')).toBe(true);
    expect(server.unexpected).toEqual([]);
  });
});

describe('Anthropic model_context_window_exceeded', () => {
  test('with compaction: the context is compacted and the call made once more; the child completes, max_tokens never blamed', async () => {
    const cwd = await workDir();
    await writeFile(join(cwd, 'source.txt'), 'y'.repeat(4000));
    let reads = 0;
    let full = false;
    const server = await startScriptedServer({
      handler: (request: RecordedRequest) => {
        if (request.text.includes(handoffPrompt)) return { text: 'Goal: read.\nProgress: 8 reads.\nNext steps: answer.' };
        if (reads < 8) {
          reads++;
          return { toolCalls: [{ name: 'read_file', arguments: { path: 'source.txt' } }] };
        }
        if (!full) {
          full = true;
          return { text: 'The answer is', contextWindowExceeded: true };
        }
        return { text: 'Done after 8 reads.' };
      },
    });
    servers.push(server);
    const prepareContext = compactingContext({
      provider: providerFor(server, 'anthropic'),
      model: 'loop-model',
      contextWindow: 1_000_000,
      reserveTokens: 500,
      threshold: 0.8,
      keepToolTokens: 1100,
      keepRecentTokens: 600,
    });
    const { result, events } = await runLoop(server, { wire: 'anthropic', cwd, prompt: brief, maxIterations: 12, prepareContext });
    expect(result).toMatchObject({ status: 'completed', final: 'Done after 8 reads.' });
    const fullAt = server.requests.findIndex((request) => request.index === 8);
    const retried = server.requests.filter((request) => !request.text.includes(handoffPrompt)).at(-1)!;
    expect(retried.text.length).toBeLessThan(server.requests[fullAt]!.text.length);
    expect(events.some((event) => event.type === 'context.compacted')).toBe(true);
    expect(server.unexpected).toEqual([]);
  });
});
