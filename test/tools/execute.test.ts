import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LegateError } from '../../src/errors.js';
import { executeToolCall } from '../../src/tools/execute.js';
import { createNodeIO } from '../../src/tools/node-io.js';
import { defineTool, type Tool } from '../../src/tools/tool.js';

const echo = defineTool({
  name: 'echo',
  description: 'Echo text.',
  parameters: z.object({
    text: z.string(),
    times: z.number().int().min(1).default(1),
    options: z.object({ shout: z.boolean() }).optional(),
  }),
  execute: async ({ text, times, options }) => (options?.shout ? text.toUpperCase() : text).repeat(times),
});
const fails = defineTool({
  name: 'fails',
  description: 'Always throws.',
  parameters: z.object({}),
  execute: async () => {
    throw new Error("ENOENT: no such file or directory, open '/x/y'");
  },
});
const failsTyped = defineTool({
  name: 'fails_typed',
  description: 'Throws a LegateError.',
  parameters: z.object({}),
  execute: async () => {
    throw new LegateError('task_not_found', 'no task "t_93" in this session');
  },
});
const throwsSync = defineTool({
  name: 'throws_sync',
  description: 'Throws before returning a promise.',
  parameters: z.object({}),
  execute: (() => {
    throw new Error('sync boom');
  }) as unknown as Tool['execute'],
});
const flagged = defineTool({
  name: 'flagged',
  description: 'Returns an error-flagged result.',
  parameters: z.object({}),
  execute: async () => ({ content: 'soft failure', isError: true }),
});
const hangs = defineTool({
  name: 'hangs',
  description: 'Never finishes and ignores the signal.',
  parameters: z.object({}),
  execute: () => new Promise<string>(() => {}),
});

const tools = new Map([echo, fails, failsTyped, throwsSync, flagged, hangs].map((tool) => [tool.name, tool]));

function run(name: string, args: string, signal: AbortSignal = new AbortController().signal) {
  return executeToolCall(tools, { id: 'c1', name, arguments: args }, { cwd: '/', signal, io: createNodeIO() });
}

describe('executeToolCall', () => {
  it('runs a tool with parsed, defaulted arguments', async () => {
    expect(await run('echo', '{"text":"ab","times":2}')).toEqual({ content: 'abab', isError: false });
    expect(await run('echo', '{"text":"hi","options":{"shout":true}}')).toEqual({ content: 'HI', isError: false });
  });

  it('passes the call id to the tool', async () => {
    let seen = '';
    const probe = defineTool({
      name: 'probe',
      description: 'x',
      parameters: z.object({}),
      execute: async (_args, context) => {
        seen = context.toolCallId;
        return 'ok';
      },
    });
    await executeToolCall(
      new Map([['probe', probe]]),
      { id: 'call_42', name: 'probe', arguments: '' },
      { cwd: '/', signal: new AbortController().signal, io: createNodeIO() },
    );
    expect(seen).toBe('call_42');
  });

  it('keeps an error flag the tool returned', async () => {
    expect(await run('flagged', '{}')).toEqual({ content: 'soft failure', isError: true });
  });

  it('names an unknown tool and lists the available ones', async () => {
    expect(await run('foo', '{}')).toEqual({
      content: 'unknown_tool: no tool named "foo"; available: echo, fails, fails_typed, throws_sync, flagged, hangs',
      isError: true,
    });
  });

  it('quotes malformed JSON with the parser message', async () => {
    const result = await run('echo', '{"text": "unterminated');
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/^invalid_arguments: arguments for echo are not valid JSON \(.+\): \{"text": "unterminated$/);
  });

  it('caps a huge malformed payload in the message', async () => {
    const result = await run('echo', `{${'z'.repeat(100_000)}`);
    expect(result.content.length).toBeLessThan(600);
    expect(result.content).toContain('(100001 characters)');
  });

  it('treats empty arguments as {}', async () => {
    expect(await run('fails', '')).toMatchObject({ content: expect.stringMatching(/^tool_failed/) });
    expect(await run('fails', '   ')).toMatchObject({ content: expect.stringMatching(/^tool_failed/) });
  });

  it('names the field path and received value of each schema issue', async () => {
    expect((await run('echo', '{"text":42}')).content).toBe('invalid_arguments: echo: text: expected string, received number (got 42)');
    const many = await run('echo', '{"times":0.5,"options":{"shout":"yes"}}');
    expect(many.content).toBe(
      'invalid_arguments: echo: text: expected string, received undefined (missing); ' +
        'times: expected int, received number (got 0.5); ' +
        'options.shout: expected boolean, received string (got "yes")',
    );
    expect((await run('echo', '[1,2]')).content).toBe('invalid_arguments: echo: (arguments): expected object, received array (got [1,2])');
  });

  it('caps a huge received value', async () => {
    const result = await run('echo', JSON.stringify({ text: 7, times: 'n'.repeat(50_000) }));
    expect(result.content.length).toBeLessThan(800);
    expect(result.content).toContain('times: expected number, received string (got "nnnn');
  });

  it('turns a thrown error into tool_failed naming the tool', async () => {
    expect(await run('fails', '{}')).toEqual({ content: "tool_failed: fails: ENOENT: no such file or directory, open '/x/y'", isError: true });
    expect(await run('fails_typed', '{}')).toEqual({ content: 'tool_failed: fails_typed: task_not_found: no task "t_93" in this session', isError: true });
    expect(await run('throws_sync', '{}')).toEqual({ content: 'tool_failed: throws_sync: sync boom', isError: true });
  });

  it('does not run a tool when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await run('echo', '{"text":"x"}', controller.signal)).toEqual({ content: 'aborted: the echo call was cancelled', isError: true });
  });

  it('returns promptly with a cancelled result when aborted mid-call, even if the tool ignores the signal', async () => {
    const controller = new AbortController();
    const pending = run('hangs', '{}', controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toEqual({ content: 'aborted: the hangs call was cancelled', isError: true });
  });

  it('caps long output', async () => {
    const result = await run('echo', JSON.stringify({ text: 'w', times: 100_000 }));
    expect(result.isError).toBe(false);
    expect(result.content.length).toBeLessThan(20_100);
    expect(result.content).toContain('[... 80000 characters omitted ...]');
  });

  it('refuses an argument the schema does not name, naming it and listing the known ones', async () => {
    const top = await run('echo', JSON.stringify({ text: 'hi', budget: { tokens: 5 } }));
    expect(top).toEqual({ content: 'invalid_arguments: echo: unknown argument "budget" (known: text, times, options)', isError: true });
    const nested = await run('echo', JSON.stringify({ text: 'hi', options: { shout: true, whisper: true } }));
    expect(nested.content).toBe('invalid_arguments: echo: unknown argument "options.whisper" (known: shout)');
  });

  it('lets a record take any key, and a tool with its own JSON Schema decide by additionalProperties', async () => {
    const tagged = defineTool({
      name: 'tagged',
      description: 'Takes a record.',
      parameters: z.object({ tags: z.record(z.string(), z.string()) }),
      execute: async ({ tags }) => Object.keys(tags).join(','),
    });
    const remote = (additionalProperties?: boolean): Tool => ({
      name: 'remote',
      description: 'An MCP-style tool.',
      parameters: z.any(),
      inputSchema: { type: 'object', properties: { q: { type: 'string' } }, ...(additionalProperties === undefined ? {} : { additionalProperties }) },
      execute: async () => 'ran',
    });
    const call = (tool: Tool, args: object) =>
      executeToolCall(
        new Map([[tool.name, tool]]),
        { id: 'c1', name: tool.name, arguments: JSON.stringify(args) },
        { cwd: '/', signal: new AbortController().signal, io: createNodeIO() },
      );
    expect(await call(tagged, { tags: { a: '1', b: '2' } })).toEqual({ content: 'a,b', isError: false });
    expect(await call(remote(), { q: 'x', extra: 1 })).toEqual({ content: 'ran', isError: false });
    expect((await call(remote(false), { q: 'x', extra: 1 })).content).toBe('invalid_arguments: remote: unknown argument "extra" (known: q)');
  });
});
