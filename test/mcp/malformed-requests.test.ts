import { describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig, until } from '../helpers/cli.js';
import { startMain } from '../helpers/main.js';

/** `legate mcp` answers what a client gets wrong on the wire with the JSON-RPC 2.0 error it names. */

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-client', version: '0' } },
};

describe('legate mcp: malformed requests', () => {
  it('a line that is not JSON gets -32700; non-object tools/call arguments get -32602 with a plain message; the server goes on', async () => {
    const model = await scriptedServer();
    const dirs = home(scriptedConfig(model.openaiBaseUrl));
    const legate = startMain(['--config', dirs.configFile, 'mcp'], { home: dirs.home, cwd: dirs.work });
    const responses = (): Array<Record<string, any>> =>
      legate
        .stdout()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line));
    const send = (value: unknown): void => void legate.stdin.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
    const answer = async (id: number | null, count: number): Promise<Record<string, any>> => {
      await until(() => responses().length >= count, 10_000, `response ${count}`);
      const found = responses()
        .filter((response) => response.id === id)
        .at(-1);
      expect(found, JSON.stringify(responses())).toBeDefined();
      return found!;
    };

    send(initialize);
    await answer(1, 1);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });

    send('{"jsonrpc":"2.0","id":2,"method":"tools/list"');
    const parseError = await answer(null, 2);
    expect(parseError.error.code).toBe(-32700);
    expect(parseError.error.message).toContain('not valid JSON');

    for (const [id, args, kind] of [
      [3, [1, 2], 'an array'],
      [4, 'goal', 'a string'],
      [5, null, 'null'],
    ] as const) {
      send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'list_tasks', arguments: args } });
      const refused = await answer(id, id - 1);
      expect(refused.error).toEqual({ code: -32602, message: `Invalid params: tools/call "arguments" must be a JSON object (got ${kind})` });
    }

    send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'list_tasks', arguments: {} } });
    const listed = await answer(6, 6);
    expect(listed.result.isError).toBeUndefined();
    expect(JSON.parse(listed.result.content[0].text)).toMatchObject({ tasks: [] });

    legate.stdin.end();
    expect((await legate.done).code).toBe(0);
  });
});
