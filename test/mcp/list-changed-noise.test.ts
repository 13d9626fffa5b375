import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { runCli, scriptedConfig } from '../helpers/cli.js';
import { isParent, toolNames } from '../helpers/script.js';

/** The fixture that sends tools/list_changed about 0.2 s after connecting, like server-everything. */
const noisy = (...args: string[]) => ({ command: process.execPath, args: [resolve(import.meta.dirname, 'fixtures/noisy-server.mjs'), ...args] });

describe('tools/list_changed that is not news', () => {
  it('a notice that changes nothing: run and chat say nothing about it', async () => {
    const model = await scriptedServer();
    model.enqueue(
      // The notice arrives (and is re-listed) while the model thinks.
      { label: 'run', match: isParent, reply: { delayMs: 800, text: 'RUN-FINAL' } },
      { label: 'chat', match: isParent, reply: { delayMs: 800, text: 'CHAT-FINAL' } },
    );
    const {
      home: legateHome,
      work,
      configFile,
    } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { noisy: noisy() }, agent: { toolsets: ['file'] } }));

    const run = await runCli(['--config', configFile, 'run', 'go'], { home: legateHome, cwd: work });
    const chat = await runCli(['--config', configFile, 'chat'], { home: legateHome, cwd: work, input: 'hello\n' });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('RUN-FINAL');
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toContain('CHAT-FINAL');
    for (const { stderr } of [run, chat]) {
      expect(stderr).not.toContain('changed its tools');
      expect(stderr).not.toContain('warning');
    }
    expect(toolNames(model.requests[0]!)).toContain('noisy__ping');
    model.assertDone();
  });

  it('a re-listing cut short because legate is closing: no warning at the end of a run', async () => {
    const model = await scriptedServer();
    model.enqueue({ match: isParent, reply: { delayMs: 600, text: 'RUN-FINAL' } });
    // The re-listing after the notice is still unanswered when the run ends and closes the connection.
    const {
      home: legateHome,
      work,
      configFile,
    } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { noisy: noisy('--slow-relist-ms', '5000') }, agent: { toolsets: ['file'] } }));

    const run = await runCli(['--config', configFile, 'run', 'go'], { home: legateHome, cwd: work });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('listing them failed');
    expect(run.stderr).not.toContain('warning');
  });

  it('legate doctor does not fail for a notice, even one whose re-listing is cut short by its exit', async () => {
    const model = await scriptedServer();
    for (const args of [[], ['--notify-after-ms', '0', '--slow-relist-ms', '5000']]) {
      const { home: legateHome, work, configFile } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { noisy: noisy(...args) } }));

      const doctor = await runCli(['--config', configFile, 'doctor'], { home: legateHome, cwd: work });

      expect(doctor.stdout).toContain('mcp:       noisy: 1 tools (noisy__ping)');
      expect(doctor.stdout).not.toContain('problem');
      expect(doctor.stderr).toBe('');
      expect(doctor.code, doctor.stdout).toBe(0);
    }
  });

  it('a notice that really changes the tools is still reported, once', async () => {
    const model = await scriptedServer();
    model.enqueue(
      { match: isParent, reply: { delayMs: 800, text: 'thinking', toolCalls: [{ name: 'noisy__ping', arguments: {} }] } },
      { match: (request) => isParent(request) && toolNames(request).includes('noisy__later'), reply: { text: 'RUN-FINAL' } },
    );
    const {
      home: legateHome,
      work,
      configFile,
    } = home(scriptedConfig(model.openaiBaseUrl, { mcp_servers: { noisy: noisy('--add-tool') }, agent: { toolsets: ['file'] } }));

    const run = await runCli(['--config', configFile, 'run', 'go'], { home: legateHome, cwd: work });

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.split('changed its tools').length).toBe(2);
    expect(run.stderr).toContain('legate: MCP server "noisy" changed its tools (added noisy__later); 2 now');
    model.assertDone();
  });
});
