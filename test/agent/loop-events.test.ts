import { expect, test } from 'vitest';
import type { AgentEvent } from '../../src/agent/events.js';
import type { WireName } from '../../src/provider/registry.js';
import { runLoop, scriptedServer } from './loop-harness.js';

/** The loop's events come in the order a UI needs them, over a real stream. */
test.each<WireName>(['openai', 'anthropic'])('events of a tool step then a final answer arrive in order (%s wire)', async (wire) => {
  const server = await scriptedServer([
    {
      label: 'look around',
      reply: {
        text: 'Let me list the directory first.',
        toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }],
        usage: { inputTokens: 100, outputTokens: 20 },
      },
    },
    { label: 'final', reply: { text: 'The directory is empty, nothing to do.', usage: { inputTokens: 150, outputTokens: 9 } } },
  ]);
  const { result, events } = await runLoop(server, { wire });

  expect(result.status).toBe('completed');
  server.assertDone();
  // Every request was streamed.
  expect(server.requests.map((request) => request.stream)).toEqual([true, true]);

  // Consecutive text deltas collapse into one entry for the order check.
  const order = events.map((event) => event.type).filter((type, i, all) => !(type === 'text.delta' && all[i - 1] === 'text.delta'));
  expect(order).toEqual([
    'model.started',
    'text.delta',
    'model.finished',
    'usage',
    'step.completed', // the reply is checkpointed before its tools run
    'tool.started',
    'tool.finished',
    'step.completed', // then its tool results
    'model.started',
    'text.delta',
    'model.finished',
    'usage',
    'step.completed',
    'done',
  ]);

  // The text arrived in several deltas (streaming), and they add up to the reply.
  const deltas = (from: number, to: number): string[] => events.slice(from, to).flatMap((event) => (event.type === 'text.delta' ? [event.text] : []));
  const secondStart = events.findIndex((event, i) => event.type === 'model.started' && i > 0);
  expect(deltas(0, secondStart).length).toBeGreaterThan(1);
  expect(deltas(0, secondStart).join('')).toBe('Let me list the directory first.');
  expect(deltas(secondStart, events.length).join('')).toBe('The directory is empty, nothing to do.');

  const tool = events.find((event): event is Extract<AgentEvent, { type: 'tool.finished' }> => event.type === 'tool.finished');
  expect(tool).toMatchObject({ name: 'list_dir', isError: false });

  const usages = events.filter((event): event is Extract<AgentEvent, { type: 'usage' }> => event.type === 'usage');
  expect(usages.map((event) => event.call)).toEqual([
    { inputTokens: 100, outputTokens: 20 },
    { inputTokens: 150, outputTokens: 9 },
  ]);
  expect(usages.at(-1)!.total).toEqual({ inputTokens: 250, outputTokens: 29 });

  const done = events.at(-1) as Extract<AgentEvent, { type: 'done' }>;
  expect(done.result).toBe(result);
  expect(result.usage).toEqual({ inputTokens: 250, outputTokens: 29 });
  expect(result.apiCalls).toBe(2);
});

test("a reply's tools start only once its checkpoint is stored (persisted), never before", async () => {
  const server = await scriptedServer([
    { label: 'tool step', reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
    { label: 'final', reply: { text: 'done' } },
  ]);
  const order: string[] = [];
  const { result } = await runLoop(server, {
    persisted: async () => {
      order.push('persist asked');
      await new Promise((resolve) => setTimeout(resolve, 100));
      order.push('persisted');
    },
    emit: (event) => {
      if (event.type === 'step.completed' || event.type === 'tool.started') order.push(event.type);
    },
  });
  expect(result.status).toBe('completed');
  // The reply's checkpoint, then the wait, then its tool; the final answer has no tools to wait for.
  expect(order.slice(0, 4)).toEqual(['step.completed', 'persist asked', 'persisted', 'tool.started']);
  expect(order.filter((entry) => entry === 'persist asked')).toHaveLength(1);
});
