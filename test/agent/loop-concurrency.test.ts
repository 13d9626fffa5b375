import { expect, test } from 'vitest';
import { runLoop, scriptedServer, toolResultsIn } from './loop-harness.js';

/** The tool calls of one model message run side by side, not one after the other. */
test('two slow tool calls in one message finish in well under the sum of their durations', async () => {
  const server = await scriptedServer([
    {
      label: 'two sleeps',
      reply: {
        toolCalls: [
          { name: 'terminal', arguments: { command: 'sleep 1 && echo first-sleeper-done' } },
          { name: 'terminal', arguments: { command: 'sleep 1 && echo second-sleeper-done' } },
        ],
      },
    },
    { label: 'final', reply: { text: 'Both sleepers finished.' } },
  ]);

  // When each tool call started and finished, stamped as the events arrive.
  const stamps: { type: string; at: number }[] = [];
  const { result, events } = await runLoop(server, {
    emit: (event) => {
      if (event.type === 'tool.started' || event.type === 'tool.finished') stamps.push({ type: event.type, at: Date.now() });
    },
  });
  const elapsed = stamps.at(-1)!.at - stamps[0]!.at;

  expect(result.status).toBe('completed');
  expect(result.final).toBe('Both sleepers finished.');
  server.assertDone();
  // Both commands really ran (so they really slept) and the model saw both results.
  const results = toolResultsIn(server.requests[1]!.body);
  expect(results).toHaveLength(2);
  expect(results.join('\n')).toContain('first-sleeper-done');
  expect(results.join('\n')).toContain('second-sleeper-done');
  // Each really slept (a second); that they overlapped is the order below, not a wall-clock bound.
  expect(elapsed).toBeGreaterThanOrEqual(950);
  // Both calls started before either finished.
  expect(stamps.map((stamp) => stamp.type)).toEqual(['tool.started', 'tool.started', 'tool.finished', 'tool.finished']);
  expect(events.filter((event) => event.type === 'tool.finished')).toHaveLength(2);
});
