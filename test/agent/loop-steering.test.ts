import { expect, test } from 'vitest';
import { SteeringQueue } from '../../src/agent/steering.js';
import { runLoop, scriptedServer } from './loop-harness.js';

/** Steering is pulled at safe points: what arrives during a step reaches the model's next call. */
test('a message steered during a tool call is in the next model request', async () => {
  const server = await scriptedServer([
    { label: 'slow command', reply: { toolCalls: [{ name: 'terminal', arguments: { command: 'sleep 0.3 && echo measured' } }] } },
    { label: 'final', reply: { text: 'Measured, and used metric units.' } },
  ]);
  const steering = new SteeringQueue();
  const { result, events } = await runLoop(server, {
    steering,
    emit: (event) => {
      if (event.type === 'tool.started') steering.push('Please report sizes in metric units (steer-7781).');
    },
  });

  expect(result.status).toBe('completed');
  server.assertDone();
  expect(server.requests[0]!.text).not.toContain('steer-7781');
  expect(server.requests[1]!.text).toContain('Please report sizes in metric units (steer-7781).');
  expect(events.filter((event) => event.type === 'steer.delivered')).toEqual([
    { type: 'steer.delivered', messages: ['Please report sizes in metric units (steer-7781).'] },
  ]);
  // The steer arrives after the tool result, before the model call that reads it.
  const types = events.map((event) => event.type);
  expect(types.indexOf('steer.delivered')).toBeGreaterThan(types.indexOf('tool.finished'));
  expect(types.indexOf('steer.delivered')).toBeLessThan(types.lastIndexOf('model.started'));
  expect(steering.size).toBe(0);
});

test('a message steered while the model writes its final answer gets one more turn', async () => {
  const server = await scriptedServer([
    { label: 'slow answer', reply: { text: 'Here is the answer in feet.', delayMs: 400 } },
    { label: 'steered answer', reply: { text: 'Here is the answer in metres.' } },
  ]);
  const steering = new SteeringQueue();
  const running = runLoop(server, { steering });
  await server.waitForRequests(1);
  steering.push('Use metres, not feet (steer-9120).');
  const { result } = await running;

  expect(result.status).toBe('completed');
  expect(result.final).toBe('Here is the answer in metres.');
  server.assertDone();
  expect(server.requests[1]!.text).toContain('Use metres, not feet (steer-9120).');
});
