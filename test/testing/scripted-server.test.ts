import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, describe, expect, test } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

const openaiFor = (s: ScriptedServer, apiKey = 'sk-openai-test-1234'): OpenAI =>
  new OpenAI({ apiKey, baseURL: s.openaiBaseUrl, maxRetries: 0, logLevel: 'off' });
const anthropicFor = (s: ScriptedServer, apiKey = 'sk-ant-test-5678'): Anthropic =>
  new Anthropic({ apiKey, baseURL: s.anthropicBaseUrl, maxRetries: 0, logLevel: 'off' });

describe('OpenAI wire, through the openai SDK', () => {
  test('non-streaming reply with text and tool calls', async () => {
    server = await startScriptedServer({
      steps: [
        {
          reply: { text: 'Sure.', toolCalls: [{ id: 'call_x', name: 'read_file', arguments: { path: 'a.txt' } }], usage: { inputTokens: 11, outputTokens: 7 } },
        },
      ],
    });
    const completion = await openaiFor(server).chat.completions.create({
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'read a.txt' },
      ],
    });
    const message = completion.choices[0]!.message;
    expect(message.content).toBe('Sure.');
    expect(message.tool_calls).toEqual([{ id: 'call_x', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.txt"}' } }]);
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(completion.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });

    const [recorded] = server.requests;
    expect(recorded).toMatchObject({
      index: 0,
      wire: 'openai',
      method: 'POST',
      path: '/v1/chat/completions',
      model: 'gpt-test',
      stream: false,
      apiKey: 'sk-openai-test-1234',
      aborted: false,
    });
    expect(recorded!.text).toContain('be brief');
    expect(recorded!.text).toContain('read a.txt');
    server.assertDone();
  });

  test('streaming reply: text deltas, tool-call deltas by index, usage chunk, [DONE]', async () => {
    server = await startScriptedServer({
      steps: [
        {
          reply: {
            text: 'one two three',
            toolCalls: [
              { name: 'a', arguments: { x: 1 } },
              { name: 'b', arguments: '{"y":' },
            ],
          },
        },
      ],
    });
    const stream = await openaiFor(server).chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'go' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const args: Record<number, string> = {};
    let sawUsage = false;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.usage) sawUsage = true;
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        for (const call of choice.delta.tool_calls ?? []) args[call.index] = (args[call.index] ?? '') + (call.function?.arguments ?? '');
        finish = choice.finish_reason ?? finish;
      }
    }
    expect(text).toBe('one two three');
    expect(args).toEqual({ 0: '{"x":1}', 1: '{"y":' });
    expect(finish).toBe('tool_calls');
    expect(sawUsage).toBe(true);
    expect(server.requests[0]!.stream).toBe(true);
  });

  test('GET /v1/models lists the scripted models', async () => {
    server = await startScriptedServer({ models: ['m-1', 'm-2'] });
    const page = await openaiFor(server).models.list();
    expect(page.data.map((model) => model.id)).toEqual(['m-1', 'm-2']);
    expect(server.requests).toHaveLength(0);
  });
});

describe('Anthropic wire, through the Anthropic SDK', () => {
  test('non-streaming reply with text and tool_use', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'Okay', toolCalls: [{ id: 'toolu_1', name: 'ls', arguments: { dir: '.' } }] } }] });
    const message = await anthropicFor(server).messages.create({
      model: 'claude-test',
      max_tokens: 100,
      system: 'sys prompt',
      messages: [{ role: 'user', content: 'list files' }],
    });
    expect(message.content).toMatchObject([
      { type: 'text', text: 'Okay' },
      { type: 'tool_use', id: 'toolu_1', name: 'ls', input: { dir: '.' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    const [recorded] = server.requests;
    expect(recorded).toMatchObject({ wire: 'anthropic', path: '/v1/messages', apiKey: 'sk-ant-test-5678', model: 'claude-test', stream: false });
    expect(recorded!.text).toContain('sys prompt');
    expect(recorded!.text).toContain('list files');
  });

  test('streaming reply assembles with the SDK stream helper', async () => {
    server = await startScriptedServer({
      steps: [{ reply: { text: 'hi there', toolCalls: [{ name: 'grep', arguments: { pattern: 'x' } }], usage: { inputTokens: 5, outputTokens: 3 } } }],
    });
    const final = await anthropicFor(server)
      .messages.stream({ model: 'claude-test', max_tokens: 100, messages: [{ role: 'user', content: 'q' }] })
      .finalMessage();
    expect(final.content).toMatchObject([
      { type: 'text', text: 'hi there' },
      { type: 'tool_use', name: 'grep', input: { pattern: 'x' } },
    ]);
    expect(final.usage).toMatchObject({ input_tokens: 5, output_tokens: 3 });
    expect(final.stop_reason).toBe('tool_use');
  });

  test('GET /v1/models in the Anthropic shape', async () => {
    server = await startScriptedServer({ models: ['claude-a'] });
    const page = await anthropicFor(server).models.list();
    expect(page.data.map((model) => model.id)).toEqual(['claude-a']);
  });
});

describe('script', () => {
  test('steps are consumed in order, first match wins, labels are recorded', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { label: 'child', match: (req) => req.text.includes('CHILD'), reply: { text: 'child reply' } },
      { label: 'first', reply: { text: 'first reply' } },
      { label: 'second', reply: (req) => ({ text: `echo ${req.index}` }) },
    );
    const client = openaiFor(server);
    const ask = async (content: string): Promise<string | null> =>
      (await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] })).choices[0]!.message.content;
    expect(await ask('parent')).toBe('first reply');
    expect(await ask('I am the CHILD')).toBe('child reply');
    expect(await ask('parent again')).toBe('echo 2');
    expect(server.requests.map((req) => req.stepLabel)).toEqual(['first', 'child', 'second']);
    server.assertDone();
  });

  test('handler answers what no step matches', async () => {
    server = await startScriptedServer({ handler: (req) => ({ text: `handled ${req.index}` }) });
    const completion = await openaiFor(server).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]!.message.content).toBe('handled 0');
    server.assertDone();
  });

  test('an unmatched request gets HTTP 500 naming it, and assertDone throws', async () => {
    server = await startScriptedServer();
    const error = await openaiFor(server)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'nobody expects this' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(500);
    expect(String((error as Error).message)).toContain('#0');
    expect(server.unexpected).toHaveLength(1);
    expect(server.unexpected[0]).toContain('nobody expects this');
    expect(() => server.assertDone()).toThrow(/1 unexpected request/);
  });

  test('assertDone throws listing leftover steps', async () => {
    server = await startScriptedServer({
      steps: [
        { label: 'used', reply: { text: 'a' } },
        { label: 'never', reply: { text: 'b' } },
      ],
    });
    await openaiFor(server).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(() => server.assertDone()).toThrow(/1 step\(s\) never used: #2 "never"/);
  });

  test('a throwing reply function fails the request loudly', async () => {
    server = await startScriptedServer({
      steps: [
        {
          label: 'boom',
          reply: () => {
            throw new Error('kaboom');
          },
        },
      ],
    });
    const error = await openaiFor(server)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((error as { status?: number }).status).toBe(500);
    expect(() => server.assertDone()).toThrow(/kaboom/);
  });

  test('waitForRequests resolves once enough requests arrived, and times out clearly', async () => {
    server = await startScriptedServer({ handler: () => ({ text: 'ok' }) });
    const waiting = server.waitForRequests(2);
    const client = anthropicFor(server);
    const send = () => client.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    await Promise.all([send(), send()]);
    expect(await waiting).toHaveLength(2);
    await expect(server.waitForRequests(5, 50)).rejects.toThrow(/received 2/);
  });

  test('a 404 path is reported as unexpected', async () => {
    server = await startScriptedServer();
    const response = await fetch(`${server.url}/v1/embeddings`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(server.unexpected[0]).toContain('/v1/embeddings');
  });
});

describe('faults and recording', () => {
  test('an aborted request is recorded with aborted: true', async () => {
    server = await startScriptedServer({ steps: [{ reply: { hang: true } }] });
    const controller = new AbortController();
    const pending = openaiFor(server)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await server.waitForRequests(1);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await expect.poll(() => server.requests[0]!.aborted, { timeout: 5000 }).toBe(true);
    expect(server.requests[0]!.finishedAt).toBeGreaterThanOrEqual(server.requests[0]!.startedAt);
  });

  test('a completed request is not marked aborted', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'fine' } }] });
    await openaiFor(server).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    await expect.poll(() => server.requests[0]!.finishedAt, { timeout: 5000 }).toBeDefined();
    expect(server.requests[0]!.aborted).toBe(false);
  });

  test('status replies carry headers and the wire error body', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 429, headers: { 'retry-after': '7' } } }] });
    const error = (await anthropicFor(server)
      .messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(error.status).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('7');
    expect(error.type).toBe('rate_limit_error');
  });

  test('resetConnection and cutStream break the connection; malformed breaks JSON', async () => {
    server = await startScriptedServer({
      steps: [{ reply: { resetConnection: true } }, { reply: { text: 'a b c d e f', cutStream: true } }, { reply: { text: 'a b c', malformed: true } }],
    });
    const client = openaiFor(server);
    const reset = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(OpenAI.APIConnectionError);

    const drain = async (): Promise<unknown> => {
      try {
        const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
        for await (const chunk of stream) void chunk;
        return undefined;
      } catch (error) {
        return error;
      }
    };
    expect(await drain()).toBeInstanceOf(Error); // cut mid-stream
    expect(await drain()).toBeInstanceOf(SyntaxError); // malformed chunk
    expect(server.requests.map((req) => req.aborted)).toEqual([false, false, false]);
    server.assertDone();
  });

  test('delayMs and chunkDelayMs slow the reply down', async () => {
    server = await startScriptedServer({ steps: [{ reply: { text: 'a b c', delayMs: 60, chunkDelayMs: 20 } }] });
    const started = Date.now();
    await openaiFor(server)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true })
      .then(async (s) => {
        for await (const chunk of s) void chunk;
      });
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
  });

  test('close() ends hung requests', async () => {
    server = await startScriptedServer({ steps: [{ reply: { hang: true } }] });
    const pending = openaiFor(server)
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    await server.waitForRequests(1);
    await server.close();
    expect(await pending).toBeInstanceOf(Error);
    expect(server.requests[0]!.aborted).toBe(false);
  });
});
