import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { home, scriptedServer } from './cli-harness.js';

/** `legate run` drives a multi-step tool loop to a final answer over either wire, streaming. */

const secret = 'violet-heron-2718';

/** write_file, then read_file (after seeing the write result), then an answer quoting what was read. */
function enqueueWriteReadAnswer(server: ScriptedServer): void {
  server.enqueue(
    {
      label: 'write',
      reply: {
        text: 'Writing the note.',
        toolCalls: [{ name: 'write_file', arguments: { path: 'notes/todo.txt', content: `remember: ${secret}\n` } }],
        usage: { inputTokens: 120, outputTokens: 30 },
      },
    },
    {
      label: 'read',
      match: (req) => req.text.includes('todo.txt (') && req.text.includes('bytes written'),
      reply: { toolCalls: [{ name: 'read_file', arguments: { path: 'notes/todo.txt' } }], usage: { inputTokens: 200, outputTokens: 15 } },
    },
    {
      label: 'answer',
      match: (req) => req.text.includes(`remember: ${secret}`),
      reply: { text: `The note says: remember ${secret}.`, usage: { inputTokens: 260, outputTokens: 12 } },
    },
  );
}

describe.each([
  { wire: 'openai' as const, baseUrl: (s: ScriptedServer) => s.openaiBaseUrl },
  { wire: 'anthropic' as const, baseUrl: (s: ScriptedServer) => s.anthropicBaseUrl },
])('legate run over the $wire wire', ({ wire, baseUrl }) => {
  test('write, read, answer: the final answer on stdout, exit 0, every request streamed', async () => {
    const server = await scriptedServer();
    enqueueWriteReadAnswer(server);
    const { home: legateHome, work } = home(scriptedConfig(baseUrl(server), {}, { provider: wire }));

    const result = await runMain(['run', 'Write a note to notes/todo.txt, then read it back to me.'], { home: legateHome, cwd: work });

    expect(result.stderr).not.toContain('legate:');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`The note says: remember ${secret}.\n`);
    server.assertDone();
    expect(server.requests).toHaveLength(3);
    expect(server.requests.every((request) => request.wire === wire && request.stream)).toBe(true);
    expect(server.requests.every((request) => request.apiKey === 'sk-test-parent-0001' && request.model === 'parent-model')).toBe(true);
    // The tool really ran in the work dir, and each next request carried the previous tool result.
    expect(readFileSync(join(work, 'notes/todo.txt'), 'utf8')).toBe(`remember: ${secret}\n`);
    expect(server.requests[0]!.text).toContain('Write a note to notes/todo.txt');
    expect(server.requests[1]!.text).toContain(`created ${join(work, 'notes/todo.txt')}`);
    expect(server.requests[2]!.text).toMatch(new RegExp(`1\\tremember: ${secret}`));
  });

  test('--json prints {final, status, usage, ...} with the token counts of every call', async () => {
    const server = await scriptedServer();
    enqueueWriteReadAnswer(server);
    const { home: legateHome, work } = home(scriptedConfig(baseUrl(server), {}, { provider: wire }));

    const result = await runMain(['run', '--json', 'Write a note, read it back.'], { home: legateHome, cwd: work });

    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({
      final: `The note says: remember ${secret}.`,
      status: 'completed',
      exit_reason: 'completed',
      api_calls: 3,
      usage: { input_tokens: 580, output_tokens: 57, parent: { input_tokens: 580, output_tokens: 57 } },
      tasks: [],
    });
    expect(output.session_id).toEqual(expect.any(String));
    // stdout is the JSON alone; progress stays on stderr.
    expect(result.stderr).toContain('parent› Writing the note.');
    expect(result.stderr).toContain('⚙ write_file');
    server.assertDone();
  });
});

describe('a failing run exits non-zero with a clear message on stderr', () => {
  test('the model answers HTTP 400', async () => {
    const server = await scriptedServer([
      { reply: { status: 400, errorBody: { error: { message: 'model "parent-model" does not support tools', type: 'invalid_request_error' } } } },
    ]);
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['run', 'hello'], { home: legateHome, cwd: work });

    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('run failed');
    expect(result.stderr).toContain('HTTP 400');
    expect(result.stderr).toContain('model "parent-model" does not support tools');
    server.assertDone();
  });

  test('agent.max_iterations: 2 is reached', async () => {
    const busy = { reply: { text: 'Still looking.', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } };
    const server = await scriptedServer([busy, busy]);
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl, { agent: { max_iterations: 2 } }));

    const result = await runMain(['run', 'find something that is not there'], { home: legateHome, cwd: work });

    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('max_iterations');
    expect(result.stderr).toContain('2 model calls');
    expect(server.requests).toHaveLength(2);
    server.assertDone();
  });

  test('--json still reports the failure as JSON, and the exit code is non-zero', async () => {
    const server = await scriptedServer([{ reply: { status: 400 } }]);
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['run', '--json', 'hello'], { home: legateHome, cwd: work });

    expect(result.code).not.toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed', exit_reason: 'error', error: expect.stringContaining('HTTP 400') });
    server.assertDone();
  });
});
