import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig, until } from '../helpers/cli.js';
import { startMain } from '../helpers/main.js';
import { initializeParams } from './acp-harness.js';

/** `session/new` names the session's working directory: one that does not exist is refused, not opened. */
describe('legate acp: session/new cwd', () => {
  it('a cwd that does not exist, is a file or is relative is Invalid params naming it; an existing one opens', async () => {
    const model = await scriptedServer();
    const dirs = home(scriptedConfig(model.openaiBaseUrl));
    const file = join(dirs.work, 'a-file.txt');
    writeFileSync(file, 'x');
    const acp = startMain(['--config', dirs.configFile, 'acp'], { home: dirs.home, cwd: dirs.work });
    const responses = (): Array<Record<string, any>> =>
      acp
        .stdout()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line));
    let id = 0;
    const request = async (method: string, params: unknown): Promise<Record<string, any>> => {
      const sent = ++id;
      acp.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: sent, method, params })}\n`);
      await until(() => responses().some((response) => response.id === sent), 10_000, `${method} answered`);
      return responses().find((response) => response.id === sent)!;
    };

    expect((await request('initialize', initializeParams)).result.agentInfo.name).toBe('legate');
    const missing = join(dirs.work, 'no-such-dir');
    for (const [cwd, why] of [
      [missing, 'does not exist'],
      [file, 'is not a directory'],
      ['relative/dir', 'is not an absolute path'],
    ]) {
      const refused = await request('session/new', { cwd, mcpServers: [] });
      expect(refused.error?.code, JSON.stringify(refused)).toBe(-32602);
      expect(JSON.stringify(refused.error)).toContain(`cwd ${JSON.stringify(JSON.stringify(cwd)).slice(1, -1)} ${why}`);
    }
    const opened = await request('session/new', { cwd: dirs.work, mcpServers: [] });
    expect(opened.result.sessionId).toEqual(expect.any(String));

    acp.stdin.end();
    expect((await acp.done).code).toBe(0);
  });
});
