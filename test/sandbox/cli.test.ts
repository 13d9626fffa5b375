import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { osSandboxStatus } from '../../src/sandbox/availability.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { isParent, lastToolResults } from '../helpers/script.js';
import { bubblewrapAvailable } from './fixture.js';

/** `--sandbox` and `agent.sandbox` through the built CLI, and `legate doctor`'s line. */
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the sandbox in the CLI', () => {
  it('an unknown --sandbox mode is a usage error naming it and the modes', async () => {
    const { home, work } = tempHome();
    const result = await runMain(['run', '--sandbox', 'open', 'hi'], { home, cwd: work, env: { OPENAI_API_KEY: 'sk-test-unused-0001' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--sandbox: unknown sandbox mode "open"; expected one of read-only, workspace-write, danger-full-access');
  });

  it('an unknown agent.sandbox in config.yaml names the file and key', async () => {
    const { home, work, configFile } = tempHome({ model: { name: 'm', api_key: 'sk-test-unused-0001' }, agent: { sandbox: 'wide-open' } });
    const result = await runMain(['run', 'hi'], { home, cwd: work });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(configFile);
    expect(result.stderr).toContain('agent.sandbox');
  });

  it('doctor says the mode and whether the OS sandbox is available', async () => {
    server = await startScriptedServer();
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { agent: { sandbox: 'read-only' } }));
    const result = await runMain(['doctor'], { home, cwd: work });
    const status = osSandboxStatus();
    expect(result.stdout).toContain(
      status.available ? `sandbox:   read-only; OS sandbox: ${status.kind} (${status.executable}) available` : 'sandbox:   read-only; OS sandbox NOT available',
    );
  });
});

describe.skipIf(!bubblewrapAvailable())('legate run --sandbox read-only (bubblewrap)', () => {
  it("the agent's file tools and commands cannot write, and $LEGATE_HOME is hidden from commands", async () => {
    server = await startScriptedServer();
    const { home, work, configFile } = tempHome();
    server.enqueue(
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'write_file', arguments: { path: 'by-tool.txt', content: 'x' } },
            { name: 'terminal', arguments: { command: 'echo x > by-command.txt' } },
            { name: 'terminal', arguments: { command: `cat ${configFile}` } },
          ],
        },
      },
      { match: isParent, reply: { text: 'done' } },
    );
    writeFileSync(configFile, stringify(scriptedConfig(server.openaiBaseUrl)));
    const result = await runMain(['run', '--sandbox', 'read-only', 'go'], { home, cwd: work });
    expect(result.code, result.stderr).toBe(0);
    const [tool, command, cat] = lastToolResults(server.requests[1]!);
    expect(tool).toContain(`write to ${join(work, 'by-tool.txt')} refused in read-only mode`);
    expect(command).toContain('Read-only file system');
    expect(cat).toContain(`${configFile}: No such file or directory`);
    expect(cat).not.toContain('sk-test-parent-0001');
    expect(existsSync(join(work, 'by-tool.txt'))).toBe(false);
    expect(existsSync(join(work, 'by-command.txt'))).toBe(false);
  });
});
