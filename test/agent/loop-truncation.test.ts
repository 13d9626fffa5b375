import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { WireName } from '../../src/provider/registry.js';
import { runLoop, scriptedServer, toolResultsIn, workDir } from './loop-harness.js';

/** Issue 12: a reply cut off at the output token limit is never a final answer. */
describe.each<WireName>(['openai', 'anthropic'])('a reply cut off at max_tokens (%s wire)', (wire) => {
  test('the provider reports the stop reason in its final event', async () => {
    const server = await scriptedServer([
      { label: 'cut', reply: { text: 'The answer is a long', truncated: true } },
      { label: 'again', reply: { text: 'The answer: 42.' } },
    ]);
    const { events } = await runLoop(server, { wire, maxTokens: 50 });
    const finished = events.filter((event) => event.type === 'model.finished');
    expect(finished.map((event) => event.type === 'model.finished' && event.stopReason)).toEqual(['max_tokens', 'end_turn']);
  });

  test('cut-off text is not the answer: the model is asked again, and its next complete reply is', async () => {
    const server = await scriptedServer([
      { label: 'cut', reply: { text: 'Here is the full report: part one, part two, part', truncated: true } },
      { label: 'shorter', reply: { text: 'Report: parts one to three are fine.' } },
    ]);
    const { result } = await runLoop(server, { wire, maxTokens: 64 });

    expect(result).toMatchObject({ status: 'completed', exitReason: 'completed', final: 'Report: parts one to three are fine.' });
    // The second call told the model why, with the limit, and carried the cut-off text.
    const second = server.requests[1]!;
    expect(second.text).toContain('cut off at the output token limit (max_tokens 64)');
    expect(second.text).toContain('part one, part two, part');
    expect(second.body.max_tokens).toBe(64);
    server.assertDone();
  });

  test('a cut-off tool call is not run: it gets an error result saying why', async () => {
    const dir = await workDir();
    const server = await scriptedServer([
      // The arguments stop mid-string, as they would at the token limit.
      { label: 'cut', reply: { toolCalls: [{ name: 'write_file', arguments: '{"path":"out.txt","content":"half of the cont' }], truncated: true } },
      { label: 'done', reply: { text: 'I will write it in smaller parts later.' } },
    ]);
    const { result, events } = await runLoop(server, { wire, cwd: dir });

    expect(result.status).toBe('completed');
    expect(existsSync(join(dir, 'out.txt'))).toBe(false);
    expect(events.some((event) => event.type === 'tool.started')).toBe(false);
    const results = toolResultsIn(server.requests[1]!.body);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatch(/^not run: your reply was cut off at the output token limit \(max_tokens\).*write_file call may be incomplete/);
    expect(server.requests[1]!.text).toContain('None of its tool calls was run');
    server.assertDone();
  });

  test('three cut-off replies in a row end the run failed with exit_reason max_tokens and a clear error', async () => {
    const cut = { reply: { text: 'Still going and going', truncated: true } };
    const server = await scriptedServer([
      { label: 'cut 1', ...cut },
      { label: 'cut 2', ...cut },
      { label: 'cut 3', ...cut },
    ]);
    const { result } = await runLoop(server, { wire, maxTokens: 32 });

    expect(result.status).toBe('failed');
    expect(result.exitReason).toBe('max_tokens');
    expect(result.error).toMatch(/cut off at the output token limit \(max_tokens 32\) 3 times in a row; raise max_tokens/);
    expect(result.apiCalls).toBe(3);
    server.assertDone();
  });

  test('a complete reply in between resets the count', async () => {
    const cut = { reply: { toolCalls: [{ name: 'list_dir', arguments: '{"pa' }], truncated: true } };
    const server = await scriptedServer([
      { label: 'cut 1', ...cut },
      { label: 'cut 2', ...cut },
      { label: 'whole', reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { label: 'cut 3', ...cut },
      { label: 'cut 4', ...cut },
      { label: 'answer', reply: { text: 'Listed.' } },
    ]);
    const { result } = await runLoop(server, { wire });

    expect(result).toMatchObject({ status: 'completed', final: 'Listed.' });
    server.assertDone();
  });
});
