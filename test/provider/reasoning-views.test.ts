import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../../src/config/endpoints.js';
import { configSchema } from '../../src/config/schema.js';
import { usageView } from '../../src/delegation/usage-view.js';
import { outputLinesFor } from '../../src/tasks/output-lines.js';
import { taskFixture } from '../../src/tasks/store/conformance.js';
import { taskDetail } from '../../src/ui/task-views.js';

/**
 * Issue 25: where reasoning and caching show. Thinking is in a task's output tail (check_task, tasks
 * show) folded one line each and marked, in the dashboard's conversation apart from the answer; each
 * task's cache-hit share of input is in check_task's usage and the dashboard. `reasoning_effort` is
 * set per layer and inherited by children unless their layer sets it.
 */

const loaded = (raw: unknown) => ({ config: configSchema.parse(raw), file: undefined, home: '/tmp', unset: new Map<string, string[]>() });

describe('reasoning in the views', () => {
  it("the output tail shows a reply's thinking first, one folded line each, marked as thinking", () => {
    const lines = outputLinesFor({
      type: 'model.finished',
      iteration: 1,
      text: 'The answer.',
      toolCalls: 0,
      usage: { inputTokens: 1, outputTokens: 1 },
      stopReason: 'end_turn',
      reasoning: `First   I think\nthen ${'long '.repeat(80)}`,
    });
    expect(lines[0]).toBe('✻ thinking: First I think');
    expect(lines[1]!.startsWith('✻ thinking: then long')).toBe(true);
    expect(lines[1]!.length).toBeLessThanOrEqual('✻ thinking: '.length + 200);
    expect(lines[2]).toBe('The answer.');
  });

  it('the dashboard conversation has the thinking as its own entry, and the task its cache-hit share', () => {
    const task = taskFixture({ id: 't_view', usage: { inputTokens: 100, outputTokens: 50, cacheReadTokens: 900, reasoningTokens: 30 } });
    const detail = taskDetail(
      task,
      { output: [], steers: [] },
      {
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: 'done',
            reasoning: [
              { type: 'thinking', source: 'anthropic', text: 'Consider it.', signature: 's' },
              { type: 'redacted_thinking', data: 'x' },
            ],
          },
        ],
      },
      {},
    );
    expect(detail.conversation).toEqual([
      { kind: 'message', role: 'user', text: 'go' },
      { kind: 'thinking', text: 'Consider it.\n[redacted thinking]' },
      { kind: 'message', role: 'assistant', text: 'done' },
    ]);
    expect(detail.task.usage).toMatchObject({ cacheHitShare: 0.9, reasoningTokens: 30 });
  });

  it("check_task's usage carries the cache-hit share and reasoning tokens", () => {
    expect(usageView({ inputTokens: 100, outputTokens: 50, cacheReadTokens: 300, cacheWriteTokens: 100, reasoningTokens: 20 }, 'm')).toMatchObject({
      cache_hit_share: 0.6,
      reasoning_tokens: 20,
      output_tokens: 50,
    });
    expect(usageView({ inputTokens: 100, outputTokens: 5 }, 'm')).not.toHaveProperty('cache_hit_share');
  });
});

describe('reasoning_effort per layer', () => {
  it('children inherit the parent effort unless delegation or their route sets one; rule overrides stay with their endpoint', () => {
    const endpoints = resolveEndpoints(
      loaded({
        model: { provider: 'anthropic', name: 'claude-opus-4-6', api_key: 'sk-ant-00000001', reasoning_effort: 'high', reasoning_replay: 'none' },
        delegation: {
          model: 'claude-sonnet-4-6',
          routes: {
            quick: { reasoning_effort: 'minimal' },
            deepseek: { provider: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'none', model: 'deepseek-reasoner' },
          },
        },
      }),
    );
    expect(endpoints.parent.reasoningEffort).toBe('high');
    expect(endpoints.child.reasoningEffort).toBe('high');
    expect(endpoints.routes.get('quick')!.reasoningEffort).toBe('minimal');
    expect(endpoints.routes.get('deepseek')!.reasoningEffort).toBe('high');
    expect(endpoints.child.rules).toEqual({ replay: 'none' });
    expect(endpoints.routes.get('deepseek')!.rules).toEqual({});
  });

  it('an unknown effort is a config error naming the key', () => {
    expect(() => configSchema.parse({ model: { name: 'm', reasoning_effort: 'extreme' } })).toThrow(/reasoning_effort/);
  });
});
