import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { home, scriptedServer } from './cli-harness.js';

/** --verbose, the log file, clear MCP errors, and the wording of counts and retries. */

const key = 'sk-test-parent-0001';

describe('--verbose and the log file', () => {
  test(
    'run --verbose: config file, endpoint with the key masked, each model call and the retry (counted from 1); ' + 'the log has it all, keys redacted',
    async () => {
      const server = await scriptedServer([{ reply: { status: 500 } }, { reply: { text: 'FINAL' } }]);
      const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl, {}, { max_retries: 1 }));

      const result = await runMain(['--verbose', 'run', `say hi (my key is ${key})`], { home: legateHome, cwd: work });

      expect(result.code, result.stderr).toBe(0);
      const err = result.stderr;
      expect(err).toContain(`legate: config: ${configFile}`);
      expect(err).toContain(`endpoint parent: openai parent-model at ${server.openaiBaseUrl}; keys sk-...0001`);
      expect(err).toContain('model call 1 (parent, parent-model)');
      expect(err).toMatch(/↻ retry 1 of the model call in \d+ ms: .*HTTP 500/);
      expect(err).not.toContain('retry 2');
      const logFile = join(legateHome, 'logs', 'legate.log');
      expect(err).toContain(`log file: ${logFile}`);

      const log = readFileSync(logFile, 'utf8');
      expect(log).toMatch(/run: started: legate --verbose run say hi/);
      expect(log).toContain('model call 1 (parent, parent-model)');
      expect(log).toContain('retry 1 of the model call');
      expect(log).toMatch(/run: exit 0\n$/);
      // The key the user typed and the configured one are both redacted.
      expect(log).not.toContain(key);
      expect(log).toContain('sk-...0001');
    },
  );

  test('without --verbose stderr stays quiet, and the log is appended command after command', async () => {
    const server = await scriptedServer([{ reply: { text: 'FINAL' } }]);
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const run = await runMain(['run', 'hi'], { home: legateHome, cwd: work });
    const list = await runMain(['tasks', 'list'], { home: legateHome, cwd: work });

    expect(run.stderr).toBe('');
    expect(list.stderr).toBe('');
    const log = readFileSync(join(legateHome, 'logs', 'legate.log'), 'utf8');
    expect(log.indexOf('run: started')).toBeLessThan(log.indexOf('tasks list: started'));
    expect(log.match(/exit 0/g)).toHaveLength(2);
  });
});

describe('MCP server errors', () => {
  test('a bad MCP server entry names the key and what was expected', async () => {
    const { home: legateHome, work, configFile } = home(scriptedConfig('http://127.0.0.1:9/v1', { mcp_servers: { x: { url: 42 } } }));
    const result = await runMain(['doctor'], { home: legateHome, cwd: work });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${configFile}: mcp_servers.x.url: expected a URL string (got 42)`);
  });

  test('a server that is neither stdio nor HTTP: both shapes named', async () => {
    const { home: legateHome, work } = home(scriptedConfig('http://127.0.0.1:9/v1', { mcp_servers: { x: { comand: 'npx' } } }));
    const result = await runMain(['doctor'], { home: legateHome, cwd: work });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('mcp_servers.x: expected a server: either {command, args, env} (stdio) or {url, headers} (Streamable HTTP)');
  });

  test('a stdio server that cannot start shows its first error line (Cannot find module), not the stack trace after it', async () => {
    const server = await scriptedServer();
    const missing = join(server.url.replace(/\W/g, ''), 'missing-server.js');
    const { home: legateHome, work } = home(
      scriptedConfig(server.openaiBaseUrl, { mcp_servers: { broken: { command: process.execPath, args: [`/nonexistent/${missing}`] } } }),
    );

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    const problem = result.stdout.split('\n').find((line) => line.includes('"broken"'));
    expect(problem, result.stdout).toContain(`Cannot find module '/nonexistent/${missing}'`);
    expect(problem).not.toContain('Node.js v');
  });
});

describe('wording', () => {
  test('tasks show says "1 model call"', async () => {
    const { home: legateHome, work, configFile } = home({ model: { provider: 'openai', name: 'm' } });
    const store = SqliteTaskStore.open(join(legateHome, 'state.db'));
    await store.create(
      taskFixture({ id: 't_onecall1', status: 'completed', cwd: work, apiCalls: 1, summary: 'S', startedAt: Date.now() - 1000, endedAt: Date.now() }),
    );
    await store.close();

    const result = await runMain(['--config', configFile, 'tasks', 'show', 't_onecall1'], { home: legateHome, cwd: work });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/ 1 model call$/);
  });

  test('legate worker names its LEGATE_HOME, not its config file', async () => {
    const server = await scriptedServer();
    const { home: legateHome, work, configFile } = home(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['worker', '--until-idle'], { home: legateHome, cwd: work });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`running tasks of LEGATE_HOME ${legateHome}`);
    expect(result.stderr).not.toContain(configFile);
  });
});
