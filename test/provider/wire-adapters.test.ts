import { afterEach, describe, expect, test } from 'vitest';
import type { Message, ToolSpec } from '../../src/provider/types.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { collect, doneOf, errorOf, providerFor, request, type Wire } from './provider-helpers.js';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

const readFileTool: ToolSpec = {
  name: 'read_file',
  description: 'Read a file',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

/** A conversation with two tool calls answered, then a follow-up user message. */
const conversation: Message[] = [
  { role: 'user', content: 'read both files' },
  {
    role: 'assistant',
    content: 'Reading.',
    toolCalls: [
      { id: 'call_a', name: 'read_file', arguments: '{"path":"a.txt"}' },
      { id: 'call_b', name: 'read_file', arguments: '{"path":"b.txt"}' },
    ],
  },
  { role: 'tool', toolCallId: 'call_a', name: 'read_file', content: 'contents of a' },
  { role: 'tool', toolCallId: 'call_b', name: 'read_file', content: 'ENOENT b.txt', isError: true },
  { role: 'user', content: 'and summarise' },
];

describe.each(['openai', 'anthropic'] as const)('%s adapter over real HTTP', (wire: Wire) => {
  test('streams text deltas and assembles text, tool calls and usage', async () => {
    server = await startScriptedServer({
      steps: [
        {
          reply: {
            text: 'Let me look at that.',
            toolCalls: [
              { id: 'tc_1', name: 'read_file', arguments: { path: 'a.txt' } },
              { id: 'tc_2', name: 'list_dir', arguments: { dir: '.' } },
            ],
            usage: { inputTokens: 42, outputTokens: 17 },
          },
        },
      ],
    });
    const events = await collect(providerFor(server, wire), request({ tools: [readFileTool] }));
    const deltas = events.filter((event) => event.type === 'text.delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((event) => (event.type === 'text.delta' ? event.text : '')).join('')).toBe('Let me look at that.');
    const done = doneOf(events);
    expect(done.message).toEqual({
      role: 'assistant',
      content: 'Let me look at that.',
      toolCalls: [
        { id: 'tc_1', name: 'read_file', arguments: '{"path":"a.txt"}' },
        { id: 'tc_2', name: 'list_dir', arguments: '{"dir":"."}' },
      ],
    });
    expect(done.usage).toEqual({ inputTokens: 42, outputTokens: 17 });
    expect(done.stopReason).toBe('tool_use');
    expect(done.rawStopReason).toBe(wire === 'openai' ? 'tool_calls' : 'tool_use');
    expect(server.requests[0]!.stream).toBe(true);
    server.assertDone();
  });

  test('a plain text reply has no toolCalls and stops normally', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'Just text.' } }] });
    const done = doneOf(await collect(providerFor(server, wire), request()));
    expect(done.message).toEqual({ role: 'assistant', content: 'Just text.' });
    expect(done.stopReason).toBe('end_turn');
    expect(done.rawStopReason).toBe(wire === 'openai' ? 'stop' : 'end_turn');
  });

  test('a reply cut off at the token limit reports stop reason max_tokens, with the cut-off call as it came', async () => {
    server = await startScriptedServer({
      steps: [{ reply: { text: 'Writing', toolCalls: [{ name: 'write_file', arguments: '{"path":"a' }], truncated: true } }],
    });
    const done = doneOf(await collect(providerFor(server, wire), request({ maxTokens: 20 })));
    expect(done.stopReason).toBe('max_tokens');
    expect(done.rawStopReason).toBe(wire === 'openai' ? 'length' : 'max_tokens');
    expect(done.message.toolCalls?.[0]?.arguments).toBe('{"path":"a');
    expect(server.requests[0]!.body.max_tokens).toBe(20);
  });

  test('cache reads and writes are their own usage fields, never folded into input tokens', async () => {
    server = await startScriptedServer({
      steps: [
        { reply: { text: 'cached', usage: { inputTokens: 30, outputTokens: 5, cacheReadTokens: 1200, cacheWriteTokens: wire === 'anthropic' ? 400 : 0 } } },
      ],
    });
    const done = doneOf(await collect(providerFor(server, wire), request()));
    if (wire === 'openai') {
      // prompt_tokens 1230 of which cached_tokens 1200: 30 uncached.
      expect(done.usage).toEqual({ inputTokens: 30, outputTokens: 5, cacheReadTokens: 1200 });
    } else {
      expect(done.usage).toEqual({ inputTokens: 30, outputTokens: 5, cacheReadTokens: 1200, cacheWriteTokens: 400 });
    }
  });

  test('malformed tool-call arguments are passed through raw', async () => {
    server = await startScriptedServer({ steps: [{ reply: { toolCalls: [{ name: 'read_file', arguments: '{"path": "a.t' }] } }] });
    const done = doneOf(await collect(providerFor(server, wire), request()));
    expect(done.message.toolCalls?.[0]?.arguments).toBe('{"path": "a.t');
  });

  test('abort mid-request: the server sees the disconnect and the stream ends aborted, promptly', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'never', delayMs: 60_000 } }] });
    const controller = new AbortController();
    const pending = collect(providerFor(server, wire), request(), controller.signal);
    await server.waitForRequests(1);
    const abortedAt = Date.now();
    controller.abort();
    const failure = errorOf(await pending).failure;
    expect(failure.kind).toBe('aborted');
    expect(Date.now() - abortedAt).toBeLessThan(5000);
    await expect.poll(() => server.requests[0]!.aborted, { timeout: 5000 }).toBe(true);
  });

  test('abort while streaming: deltas so far, then an aborted error', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'one two three four five six seven', chunkDelayMs: 200 } }] });
    const controller = new AbortController();
    const events = [];
    for await (const event of providerFor(server, wire).stream(request(), controller.signal)) {
      events.push(event);
      if (event.type === 'text.delta') controller.abort();
    }
    expect(events[0]!.type).toBe('text.delta');
    expect(errorOf(events).failure.kind).toBe('aborted');
    await expect.poll(() => server.requests[0]!.aborted, { timeout: 5000 }).toBe(true);
  });

  test('a stream cut mid-message ends its attempt with an error event, not done', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'alpha beta gamma delta epsilon', cutStream: true } }] });
    const events = await collect(providerFor(server, wire, undefined, { maxAttempts: 1 }), request());
    const failure = errorOf(events).failure;
    expect(failure.kind).toBe('stream');
    expect(events.some((event) => event.type === 'done')).toBe(false);
    expect(server.requests).toHaveLength(1); // one attempt allowed (stream-faults.test.ts: the retries)
  });

  test('a malformed stream chunk ends with an error event', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'alpha beta gamma delta', malformed: true } }] });
    const failure = errorOf(await collect(providerFor(server, wire), request())).failure;
    expect(failure.kind).toBe('stream');
    expect(failure.message).toMatch(/malformed/);
  });

  test('a hung response times out and is retried as a network failure', async () => {
    server = await startScriptedServer({ steps: [{ reply: { hang: true } }, { reply: { text: 'second try' } }] });
    const events = await collect(providerFor(server, wire, undefined, { timeoutMs: 300 }), request());
    expect(events.find((event) => event.type === 'retry')).toMatchObject({ type: 'retry', attempt: 2 });
    expect(doneOf(events).message.content).toBe('second try');
    await expect.poll(() => server.requests[0]!.aborted, { timeout: 5000 }).toBe(true);
  });

  test('a stream that stalls mid-message hits the idle timeout', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'slow words here', chunkDelayMs: 5000 } }] });
    const failure = errorOf(await collect(providerFor(server, wire, undefined, { timeoutMs: 300, maxAttempts: 1 }), request())).failure;
    expect(failure.kind).toBe('network');
    expect(failure.message).toMatch(/timed out/);
  });
});

describe('request shape on the wire', () => {
  test('openai: system message, assistant tool_calls, tool role results, tool schema', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'ok' } }] });
    await collect(providerFor(server, 'openai'), request({ system: 'SYSTEM RULES', messages: conversation, tools: [readFileTool], maxTokens: 123 }));
    const body = server.requests[0]!.body;
    expect(body.stream).toBe(true);
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.max_tokens).toBe(123);
    expect(body.messages).toEqual([
      { role: 'system', content: 'SYSTEM RULES' },
      { role: 'user', content: 'read both files' },
      {
        role: 'assistant',
        content: 'Reading.',
        tool_calls: [
          { id: 'call_a', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.txt"}' } },
          { id: 'call_b', type: 'function', function: { name: 'read_file', arguments: '{"path":"b.txt"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'contents of a' },
      { role: 'tool', tool_call_id: 'call_b', content: 'ENOENT b.txt' },
      { role: 'user', content: 'and summarise' },
    ]);
    expect(body.tools).toEqual([{ type: 'function', function: { name: 'read_file', description: 'Read a file', parameters: readFileTool.parameters } }]);
    expect(server.requests[0]!.apiKey).toBe('sk-test-key-0001');
    expect(server.requests[0]!.text).toContain('contents of a');
  });

  test('anthropic: top-level system, tool_use blocks, tool results merged into one user message', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'ok' } }] });
    await collect(providerFor(server, 'anthropic'), request({ system: 'SYSTEM RULES', messages: conversation, tools: [readFileTool] }));
    const body = server.requests[0]!.body;
    // Prompt caching on (the default): the system as a block, a breakpoint on it, on the last tool and on the last message.
    expect(body.system).toEqual([{ type: 'text', text: 'SYSTEM RULES', cache_control: { type: 'ephemeral' } }]);
    // No max_tokens configured: the model's default (16384 for a model of no known older family).
    expect(body.max_tokens).toBe(16384);
    expect(body.stream).toBe(true);
    expect(body.messages).toEqual([
      { role: 'user', content: 'read both files' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Reading.' },
          { type: 'tool_use', id: 'call_a', name: 'read_file', input: { path: 'a.txt' } },
          { type: 'tool_use', id: 'call_b', name: 'read_file', input: { path: 'b.txt' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_a', content: 'contents of a' },
          { type: 'tool_result', tool_use_id: 'call_b', content: 'ENOENT b.txt', is_error: true },
          { type: 'text', text: 'and summarise', cache_control: { type: 'ephemeral' } },
        ],
      },
    ]);
    expect(body.tools).toEqual([
      { name: 'read_file', description: 'Read a file', input_schema: readFileTool.parameters, cache_control: { type: 'ephemeral' } },
    ]);
    expect(server.requests[0]!.apiKey).toBe('sk-test-key-0001');
    expect(server.requests[0]!.text).toContain('ENOENT b.txt');
    // The attempt's activity tag (activity-fetch.ts) is taken off before the request leaves.
    expect(server.requests[0]!.headers).not.toHaveProperty('x-legate-activity');
  });
});
