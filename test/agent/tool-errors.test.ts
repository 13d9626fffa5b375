import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import type { WireName } from '../../src/provider/registry.js';
import { defineTool } from '../../src/tools/tool.js';
import { builtinTools, runLoop, scriptedServer, toolResultsIn } from './loop-harness.js';

/**
 * A bad tool call is never a crash: the model's NEXT request carries an error tool result that
 * names the problem, and the loop goes on to a final answer. Over both wires.
 */

const explodingTool = defineTool({
  name: 'rotate_logs',
  description: 'Rotate the log files.',
  parameters: z.object({}),
  async execute() {
    throw new Error('disk on fire under /var/log/legate-test');
  },
});

interface Case {
  name: string;
  call: { name: string; arguments: unknown };
  /** Every string must appear in the error tool result the model reads next. */
  expected: string[];
}

const cases: Case[] = [
  {
    name: 'an unknown tool',
    call: { name: 'delete_everything', arguments: { really: true } },
    expected: ['unknown_tool', '"delete_everything"', 'read_file'],
  },
  {
    name: 'arguments that are not JSON',
    call: { name: 'read_file', arguments: '{"path": "notes.txt", "limit": ' },
    expected: ['invalid_arguments', 'read_file', 'not valid JSON', '{"path": "notes.txt", "limit":'],
  },
  {
    name: 'arguments that fail the schema',
    call: { name: 'write_file', arguments: { path: 4242, content: 'hello' } },
    expected: ['invalid_arguments', 'write_file', 'path', 'got 4242'],
  },
  {
    name: 'a tool that throws',
    call: { name: 'rotate_logs', arguments: {} },
    expected: ['tool_failed', 'rotate_logs', 'disk on fire under /var/log/legate-test'],
  },
];

describe.each<WireName>(['openai', 'anthropic'])('bad tool calls over the %s wire', (wire) => {
  test.each(cases)('$name → the next request carries an error result naming it', async ({ call, expected }) => {
    const server = await scriptedServer([
      { label: 'bad call', reply: { text: 'Let me try.', toolCalls: [call] } },
      { label: 'final', reply: { text: 'I could not do that, sorry.' } },
    ]);
    const { result } = await runLoop(server, { wire, tools: [...builtinTools, explodingTool] });

    expect(result.status).toBe('completed');
    expect(result.final).toBe('I could not do that, sorry.');
    server.assertDone();
    expect(server.requests).toHaveLength(2);
    const [errorResult] = toolResultsIn(server.requests[1]!.body);
    expect(errorResult).toBeDefined();
    for (const piece of expected) expect(errorResult).toContain(piece);
    // The loop kept the failure visible to the model as an error, not as a success.
    const toolMessage = result.messages.find((message) => message.role === 'tool');
    expect(toolMessage).toMatchObject({ role: 'tool', isError: true });
    if (wire === 'anthropic') {
      const block = server.requests[1]!.body.messages.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])).find(
        (part: any) => part.type === 'tool_result',
      );
      expect(block.is_error).toBe(true);
    }
  });
});
