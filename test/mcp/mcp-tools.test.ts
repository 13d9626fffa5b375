import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toolName } from '../../src/mcp/mcp-toolsets.js';
import { toolOutput } from '../../src/mcp/tool-output.js';
import { toToolSpec } from '../../src/tools/tool-spec.js';

describe('MCP tools as legate tools', () => {
  it('joins text blocks, describes other blocks, falls back to structured content and keeps isError', () => {
    expect(
      toolOutput({
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      }),
    ).toBe('one\ntwo');
    expect(toolOutput({ content: [{ type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' }] })).toBe('[image image/png, 8 base64 characters]');
    expect(toolOutput({ content: [{ type: 'resource', resource: { uri: 'file:///a.txt', text: 'A-TEXT' } }] })).toBe('A-TEXT');
    expect(toolOutput({ content: [], structuredContent: { n: 3 } })).toBe('{"n":3}');
    expect(toolOutput({ content: [{ type: 'text', text: 'bad' }], isError: true })).toEqual({ content: 'bad', isError: true });
  });

  it('names tools <server>__<tool> in the characters model APIs accept', () => {
    expect(toolName('echo', 'echo_upper')).toBe('echo__echo_upper');
    expect(toolName('my server', 'do.it/now')).toBe('my_server__do_it_now');
    expect(toolName('s', 'x'.repeat(100))).toHaveLength(64);
  });

  it("offers the tool's own JSON Schema to the model instead of converting its zod schema", () => {
    const inputSchema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
    const spec = toToolSpec({
      name: 'echo__echo_upper',
      description: 'Echo.',
      parameters: z.record(z.string(), z.unknown()),
      inputSchema,
      execute: async () => '',
    });
    expect(spec.parameters).toEqual({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
    const bare = toToolSpec({
      name: 'x__y',
      description: 'No arguments.',
      parameters: z.record(z.string(), z.unknown()),
      inputSchema: { type: 'object' },
      execute: async () => '',
    });
    expect(bare.parameters).toEqual({ type: 'object', properties: {} });
    expect(inputSchema).toHaveProperty('$schema');
  });
});
