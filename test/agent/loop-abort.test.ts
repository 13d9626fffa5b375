import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { until } from '../helpers/cli.js';
import { runLoop, scriptedServer, workDir } from './loop-harness.js';

/** `promise`, or a rejection naming `what` after `ms` (so a missed abort fails fast and clearly). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One AbortSignal stops the run promptly, wherever it is, and the HTTP request is really dropped. */
test('abort during a hanging model reply → cancelled within ~1 s, and the server saw the request aborted', async () => {
  const server = await scriptedServer([{ label: 'hang', reply: { hang: true } }]);
  const controller = new AbortController();
  const running = runLoop(server, { signal: controller.signal });

  await server.waitForRequests(1);
  const abortedAt = Date.now();
  controller.abort();
  const { result, events } = await within(running, 5000, 'the aborted run');

  expect(Date.now() - abortedAt).toBeLessThan(2000);
  expect(result.status).toBe('cancelled');
  expect(result.exitReason).toBe('cancelled');
  expect(events.at(-1)).toMatchObject({ type: 'done', result: { status: 'cancelled' } });
  await until(() => server.requests[0]!.aborted, 2000, 'the server to record the request as aborted');
  expect(server.requests).toHaveLength(1);
});

test('abort during a long tool call → cancelled promptly, no further model call', async () => {
  const server = await scriptedServer([
    { label: 'long command', reply: { toolCalls: [{ name: 'terminal', arguments: { command: 'echo started > started && sleep 30' } }] } },
  ]);
  const controller = new AbortController();
  const cwd = await workDir();
  const running = runLoop(server, {
    cwd,
    signal: controller.signal,
    emit: (event) => {
      // Abort once the command is really running (it wrote its marker), not merely announced.
      if (event.type === 'tool.started') void until(() => existsSync(join(cwd, 'started')), 5000, 'the command to start').then(() => controller.abort());
    },
  });

  const started = Date.now();
  const { result } = await within(running, 5000, 'the aborted run');

  expect(result.status).toBe('cancelled');
  expect(Date.now() - started).toBeLessThan(5000);
  expect(server.requests).toHaveLength(1);
  server.assertDone();
});
