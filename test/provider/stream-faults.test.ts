import { afterEach, describe, expect, test } from 'vitest';
import type { ProviderEvent } from '../../src/provider/types.js';
import type { ScriptedReply } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { collect, doneOf, errorOf, providerFor, request, type Wire } from './provider-helpers.js';

/**
 * A model call whose stream fails before its final event is retried like a 5xx, on both wires,
 * with the same request; the partial reply never reaches the final message.
 */

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

const retries = (events: ProviderEvent[]) => events.filter((event) => event.type === 'retry');
const partial = 'the first attempt streams these words then breaks down somewhere';

const faults: [string, ScriptedReply, RegExp][] = [
  ['a cut stream', { text: partial, cutStream: true }, /stream (interrupted|ended before)/],
  ['a stream with no finish', { text: partial, noFinish: true }, /stream ended before (a finish_reason|message_stop)/],
  ['an overloaded_error event', { text: partial, streamError: { type: 'overloaded_error', message: 'Overloaded' } }, /overloaded_error: Overloaded/],
  ['an api_error event', { text: partial, streamError: { type: 'api_error', message: 'Internal server error' } }, /api_error: Internal server error/],
  ['a stall past the idle timeout', { text: partial, stallMidStream: true }, /timed out: no response data for 400 ms/],
];

describe.each(['openai', 'anthropic'] as const)('%s: stream faults are retried', (wire: Wire) => {
  test.each(faults)('%s: retried with the same request, the partial reply discarded', async (_name, fault, reason) => {
    server = await startScriptedServer({ steps: [{ reply: fault }, { reply: { text: 'the whole answer' } }] });
    // A short idle timeout only where the stall is the fault: elsewhere a loaded machine must not turn a cut into a stall.
    const events = await collect(providerFor(server, wire, undefined, { timeoutMs: 'stallMidStream' in fault ? 400 : 10_000 }), request());
    const done = doneOf(events);
    expect(done.message.content).toBe('the whole answer');
    expect(done.message.content).not.toContain('first attempt');
    const [retry] = retries(events);
    // `discarded` says the partial reply that reached us is dropped. A cut socket may lose the partial
    // bytes before the client reads them (a loaded machine): then nothing streamed and nothing is discarded.
    const streamedBefore = events.slice(0, events.indexOf(retry!)).some((event) => event.type === 'text.delta');
    if (!('cutStream' in fault)) expect(streamedBefore).toBe(true);
    expect(retry).toMatchObject({ type: 'retry', attempt: 2, ...(streamedBefore ? { discarded: true } : {}) });
    expect(retry!.type === 'retry' && retry.reason).toMatch(reason);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.body).toEqual(server.requests[0]!.body);
    server.assertDone();
  });

  test('faults until max_attempts run out: failed with the last error, one request per attempt', async () => {
    const cut: ScriptedReply = { text: partial, cutStream: true };
    const overloaded: ScriptedReply = { text: partial, streamError: { type: 'overloaded_error', message: 'Overloaded' } };
    server = await startScriptedServer({ steps: [{ reply: cut }, { reply: cut }, { reply: overloaded }] });
    const events = await collect(providerFor(server, wire, undefined, { maxAttempts: 3 }), request());
    const failure = errorOf(events).failure;
    expect(failure.message).toMatch(/^gave up after 3 attempts: error event in stream: overloaded_error: Overloaded/);
    expect(retries(events)).toHaveLength(2);
    expect(server.requests).toHaveLength(3);
    server.assertDone();
  });

  test('an invalid_request_error event is not retried (the same request would fail again)', async () => {
    server = await startScriptedServer({
      steps: [{ reply: { text: partial, streamError: { type: 'invalid_request_error', message: 'prompt is too long' } } }],
    });
    const failure = errorOf(await collect(providerFor(server, wire), request())).failure;
    expect(failure.retryable).toBe(false);
    expect(failure.message).toMatch(/invalid_request_error: prompt is too long/);
    expect(server.requests).toHaveLength(1);
    server.assertDone();
  });

  test('keep-alives count as activity: a long pause with pings is no stall', async () => {
    // Pings every 50 ms through a 1.2 s pause, against an idle timeout of 400 ms.
    server = await startScriptedServer({ steps: [{ reply: { text: 'slow but alive answer here', pauseMidStreamMs: 1200, keepAliveEveryMs: 50 } }] });
    const events = await collect(providerFor(server, wire, undefined, { timeoutMs: 400, maxAttempts: 1 }), request());
    expect(doneOf(events).message.content).toBe('slow but alive answer here');
    expect(server.requests).toHaveLength(1);
    server.assertDone();
  });

  test('the same pause without keep-alives is a stall', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'slow and silent answer', pauseMidStreamMs: 1200 } }] });
    const failure = errorOf(await collect(providerFor(server, wire, undefined, { timeoutMs: 400, maxAttempts: 1 }), request())).failure;
    expect(failure.message).toMatch(/timed out/);
  });
});

describe('model.request_timeout_seconds', () => {
  test('defaults to 120 s of silence (an idle timeout), which the endpoint resolution passes to the provider', async () => {
    const { configSchema } = await import('../../src/config/schema.js');
    const { resolveEndpoints } = await import('../../src/config/endpoints.js');
    const config = configSchema.parse({ model: { name: 'm', api_key: 'sk-x-00000001' } });
    expect(config.model.request_timeout_seconds).toBe(120);
    const endpoints = resolveEndpoints({ config, file: undefined, home: '/tmp', unset: new Map() });
    expect(endpoints.parent).toMatchObject({ timeoutMs: 120_000 });
  });
});
