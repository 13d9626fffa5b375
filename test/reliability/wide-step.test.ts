import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, tempHome } from '../helpers/cli.js';
import { lastToolResults } from '../helpers/script.js';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

describe('a wide step', () => {
  it('50 tool calls in one model reply: 50 results, and no listener-leak warning on stderr', async () => {
    server = await startScriptedServer();
    server.enqueue(
      { reply: { toolCalls: Array.from({ length: 50 }, (_, index) => ({ name: 'list_dir', arguments: { path: index % 2 ? '.' : 'missing-dir' } })) } },
      { reply: { text: 'WIDE-DONE' } },
    );
    const { home, work, configFile } = tempHome(scriptedConfig(server.openaiBaseUrl));

    const result = await runCli(['--config', configFile, 'run', 'go wide'], { home, cwd: work });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('WIDE-DONE');
    expect(lastToolResults(server.requests[1]!)).toHaveLength(50);
    expect(result.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/);
    server.assertDone();
  });
});
