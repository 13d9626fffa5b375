import { describe, expect, test } from 'vitest';
import { cutIndex, cutLargeResult, isLegalCut, pruneToolResults } from '../../../src/agent/context/compaction-policy.js';
import { contextLengthError } from '../../../src/agent/context/context-length-error.js';
import { ContextWindows, knownContextWindow } from '../../../src/agent/context/context-windows.js';
import { contextOf } from '../../../src/agent/context/prepare-context.js';
import { contextLine } from '../../../src/delegation/context-view.js';
import type { Message } from '../../../src/provider/types.js';

const big = (n: number): string => 'x'.repeat(n);
/** brief, then `steps` tool steps (call + result of `size` chars), then a final text. */
function conversation(steps: number, size: number): Message[] {
  const out: Message[] = [{ role: 'user', content: 'BRIEF: survey the sources' }];
  for (let i = 0; i < steps; i++) {
    out.push({ role: 'assistant', content: '', toolCalls: [{ id: `c${i}`, name: 'read_file', arguments: `{"path":"f${i}.txt"}` }] });
    out.push({ role: 'tool', toolCallId: `c${i}`, name: 'read_file', content: big(size) });
  }
  return out;
}

describe('compaction policy', () => {
  test.each([
    [0, false, 'the brief is never cut away'],
    [1, true, 'after the brief, at a call'],
    [2, false, 'between a call and its result'],
    [3, true, 'at the next call'],
  ])('isLegalCut(%i) is %s: %s', (index, legal) => {
    expect(isLegalCut(conversation(3, 10), index)).toBe(legal);
  });

  test('pruning replaces old results with a line naming the tool, its arguments and the size; the newest stay whole; pairing kept', () => {
    const messages = conversation(5, 4000); // 1000 tokens a result
    const pruned = pruneToolResults(messages, 2000);
    const results = pruned.filter((m) => m.role === 'tool');
    expect(results.slice(-2).map((m) => m.content)).toEqual([big(4000), big(4000)]);
    expect(results[0]!.content).toBe('[pruned: read_file {"path":"f0.txt"} returned 4000 characters; call it again if you need them]');
    expect(pruned.map((m) => m.role)).toEqual(messages.map((m) => m.role));
    expect(pruned.map((m) => (m.role === 'tool' ? m.toolCallId : ''))).toEqual(messages.map((m) => (m.role === 'tool' ? m.toolCallId : '')));
  });

  test("a pruned result that named tasks keeps their ids (a parent's delegation results), and says how to read them instead of calling again", () => {
    const messages: Message[] = [
      { role: 'user', content: 'BRIEF' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'd1', name: 'delegate_task_async', arguments: '{"goal":"survey"}' }] },
      { role: 'tool', toolCallId: 'd1', name: 'delegate_task_async', content: `{"task_id":"t_0a1b2c3d","status":"queued","note":"${big(4000)}"}` },
      ...conversation(1, 4000).slice(1),
    ];
    const [, , pruned] = pruneToolResults(messages, 1000);
    expect(pruned!.content).toBe(
      '[pruned: delegate_task_async {"goal":"survey"} returned 4052 characters; it named tasks t_0a1b2c3d (check_task or collect_task reads them)]',
    );
  });

  test('a summary cut keeps the newest turns by tokens and never lands on a tool result', () => {
    const messages = conversation(10, 400); // ~110 tokens a step
    for (const keep of [1, 50, 150, 300, 700]) {
      const cut = cutIndex(messages, keep);
      expect(cut).toBeDefined();
      expect(messages[cut!]!.role).toBe('assistant');
    }
    expect(cutIndex(messages, 300)).toBe(17); // the last two steps (~114 tokens each) fit in 300
    expect(cutIndex(conversation(1, 10), 1000)).toBeUndefined(); // nothing to drop
  });

  test('a result too large for the window keeps its head and tail with a marker', () => {
    const content = `HEAD${big(10_000)}TAIL`;
    const cut = cutLargeResult(content, 100);
    expect(cut.startsWith('HEAD')).toBe(true);
    expect(cut.endsWith('TAIL')).toBe(true);
    expect(cut).toContain('[… 9608 characters cut: the result was too large for the context window …]');
    expect(cutLargeResult('small', 100)).toBe('small');
  });

  test('the context under a record is the brief verbatim, the hand-off, then the kept turns', () => {
    const messages = conversation(4, 10);
    const context = contextOf(messages, { firstKept: 5, handoff: 'Goal: survey' });
    expect(context[0]).toEqual(messages[0]);
    expect(context[1]!.content).toContain('Goal: survey');
    expect(context.slice(2)).toEqual(messages.slice(5));
  });
});

describe('context-length errors', () => {
  test.each([
    ["This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", 128000],
    ["This endpoint's maximum context length is 200000 tokens. However, you requested about 210000 tokens.", 200000],
    ['prompt is too long: 208310 tokens > 200000 maximum', 200000],
    ['request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it', 4096],
    ['the input length exceeds the context length', undefined],
  ])('%s -> limit %s', (text, limit) => {
    expect(contextLengthError(text)).toEqual(limit === undefined ? {} : { limit });
  });
  test('other errors are not context-length errors', () => {
    expect(contextLengthError('rate limit exceeded')).toBeUndefined();
    expect(contextLengthError('max_tokens: 100000 > 64000, which is the maximum allowed')).toBeUndefined();
  });
});

describe('context windows', () => {
  test('the built-in table knows the well-known families, after a vendor/ prefix and before a :tag', () => {
    expect(knownContextWindow('claude-sonnet-4-6')).toBe(200_000);
    expect(knownContextWindow('anthropic/claude-opus-4.5')).toBe(200_000);
    expect(knownContextWindow('gpt-4o-mini')).toBe(128_000);
    expect(knownContextWindow('openai/gpt-4.1')).toBe(1_047_576);
    expect(knownContextWindow('gpt-5-mini')).toBe(400_000);
    expect(knownContextWindow('o4-mini')).toBe(200_000);
    expect(knownContextWindow('gpt-4')).toBe(8_192);
    expect(knownContextWindow('llama3.1:8b')).toBe(131_072);
    expect(knownContextWindow('meta-llama/llama-3.3-70b-instruct')).toBe(131_072);
    expect(knownContextWindow('gemini-2.5-pro')).toBe(1_048_576);
    expect(knownContextWindow('deepseek-chat')).toBe(128_000);
    expect(knownContextWindow('my-finetune')).toBeUndefined();
  });

  test('configured beats the table; a learned limit beats both when smaller, and is kept per endpoint and model', () => {
    const windows = new ContextWindows();
    const at = { baseUrl: 'https://api.example/v1/', model: 'gpt-4o' };
    expect(windows.windowFor(at)).toEqual({ window: 128_000, source: 'table' });
    expect(windows.windowFor({ ...at, contextWindow: 64_000 })).toEqual({ window: 64_000, source: 'config' });
    expect(windows.windowFor({ ...at, model: 'unknown-model' })).toBeUndefined();
    windows.learn('https://api.example/v1', 'gpt-4o', 32_000);
    expect(windows.windowFor({ ...at, contextWindow: 64_000 })).toEqual({ window: 32_000, source: 'learned' });
    windows.learn('https://api.example/v1', 'gpt-4o', 50_000); // a larger figure never raises it
    expect(windows.windowFor(at)?.window).toBe(32_000);
    expect(windows.windowFor({ baseUrl: 'http://other/v1', model: 'gpt-4o' })?.window).toBe(128_000);
  });

  test('context in use reads as a share of the window and the compactions', () => {
    expect(contextLine({ tokens: 122_000, window: 200_000, compactions: 2 })).toBe('context 61% of 200k, compacted 2×');
    expect(contextLine({ tokens: 900, window: 1_047_576, compactions: 0 })).toBe('context 0% of 1M');
    expect(contextLine({ tokens: 12_345, compactions: 1 })).toBe('context 12.3k tokens (window unknown), compacted 1×');
    expect(contextLine(undefined)).toBeUndefined();
  });
});
