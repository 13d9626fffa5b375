import { expect, test } from 'vitest';
import { runLoop, scriptedServer } from './loop-harness.js';

/** How a run ends when it does not end with an answer: always a result, never a throw. */
test('an empty final answer is a failure, not a completion', async () => {
  const server = await scriptedServer([{ label: 'empty', reply: { text: '' } }]);
  const { result } = await runLoop(server);

  expect(result.status).toBe('failed');
  expect(result.exitReason).toBe('error');
  expect(result.error).toContain('empty final answer');
  server.assertDone();
});

test('max_iterations: the run stops after that many model calls and says why', async () => {
  const keepGoing = { reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } };
  const server = await scriptedServer([
    { label: 'call 1', ...keepGoing },
    { label: 'call 2', ...keepGoing },
  ]);
  const { result } = await runLoop(server, { maxIterations: 2 });

  expect(result.status).toBe('failed');
  expect(result.exitReason).toBe('max_iterations');
  expect(result.error).toContain('max_iterations');
  expect(result.error).toContain('2 model calls');
  expect(result.apiCalls).toBe(2);
  // Exactly two model calls: the third was never made.
  expect(server.requests).toHaveLength(2);
  server.assertDone();
});

test('an HTTP error from the model ends the run as failed with the status and the server message', async () => {
  const server = await scriptedServer([
    {
      label: 'bad request',
      reply: { status: 400, errorBody: { error: { message: 'context_length_exceeded: prompt is too long', type: 'invalid_request_error' } } },
    },
  ]);
  const { result } = await runLoop(server);

  expect(result.status).toBe('failed');
  expect(result.exitReason).toBe('error');
  expect(result.error).toContain('400');
  expect(result.error).toContain('prompt is too long');
  server.assertDone();
});
