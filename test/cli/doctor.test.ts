import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { closedPortUrl, home, scriptedServer } from './cli-harness.js';

/** `legate doctor`: the resolved config with keys masked, and whether each endpoint answers. */
describe('legate doctor', () => {
  test('prints the resolved config with every key masked and finds the endpoints reachable', async () => {
    const server = await scriptedServer();
    const config = scriptedConfig(server.openaiBaseUrl, {
      delegation: {
        max_concurrent_children: 4,
        routes: { cheap: { provider: 'anthropic', base_url: server.anthropicBaseUrl, api_key: 'sk-ant-route-secret-9999', model: 'small-model' } },
      },
    });
    const { home: legateHome, work, configFile } = home(config);

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain(configFile);
    expect(out).toMatch(new RegExp(`parent:\\s+openai parent-model at ${server.openaiBaseUrl}; keys: sk-\\.\\.\\.0001`));
    expect(out).toMatch(new RegExp(`route cheap:\\s+anthropic small-model at ${server.anthropicBaseUrl}; keys: sk-\\.\\.\\.9999`));
    expect(out).toContain('4 children at once');
    expect(out).toContain(`check:     ${server.openaiBaseUrl}: reachable`);
    expect(out).toContain(`check:     ${server.anthropicBaseUrl}: reachable`);
    // The raw keys never appear, on either stream.
    for (const key of ['sk-test-parent-0001', 'sk-ant-route-secret-9999']) {
      expect(result.stdout).not.toContain(key);
      expect(result.stderr).not.toContain(key);
    }
  });

  test('an anthropic parent is checked over the anthropic wire', async () => {
    const server = await scriptedServer();
    const { home: legateHome, work } = home(scriptedConfig(server.anthropicBaseUrl, {}, { provider: 'anthropic' }));

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/parent:\s+anthropic parent-model .*; max_tokens 16384\n/);
    expect(result.stdout).toContain(`check:     ${server.anthropicBaseUrl}: reachable`);
  });

  test('an endpoint nobody listens on: says so and exits non-zero', async () => {
    const url = await closedPortUrl();
    const { home: legateHome, work } = home(scriptedConfig(`${url}/v1`));

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain(`check:     ${url}/v1: not reachable`);
    expect(result.stdout).not.toContain('sk-test-parent-0001');
  });

  test('a config `run` would refuse (unknown toolset) is reported, not passed', async () => {
    const server = await scriptedServer();
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl, { agent: { toolsets: ['file', 'shell'] } }));

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain('unknown toolset "shell"');
  });

  test('an invalid config file: names the key and exits 2', async () => {
    const { home: legateHome, work, configFile } = home({ model: { name: 'm', api_key: 'sk-test-parent-0001', key_strategy: 'fastest' } });

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(configFile);
    expect(result.stderr).toContain('model.key_strategy');
    expect(result.stderr).toContain('"fastest"');
    expect(result.stderr + result.stdout).not.toContain('sk-test-parent-0001');
  });
});

describe('legate doctor: paths and the model list', () => {
  test('names the task store and the log file under LEGATE_HOME', async () => {
    const server = await scriptedServer([], ['parent-model']);
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl));

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`tasks:     ${join(legateHome, 'state.db')}`);
    expect(result.stdout).toContain(`log:       ${join(legateHome, 'logs', 'legate.log')}`);
    // The model is listed: no warning.
    expect(result.stdout).not.toContain('is not in the model list');
  });

  test.each([
    { wire: 'openai' as const, baseUrl: (url: { openaiBaseUrl: string }) => url.openaiBaseUrl },
    { wire: 'anthropic' as const, baseUrl: (url: { anthropicBaseUrl: string }) => url.anthropicBaseUrl },
  ])('a model the $wire endpoint does not list is a warning naming it and what is listed', async ({ wire, baseUrl }) => {
    const server = await scriptedServer([], ['gpt-real-1', 'gpt-real-2']);
    const { home: legateHome, work } = home(scriptedConfig(baseUrl(server), {}, { provider: wire, name: 'gpt-typo' }));

    const result = await runMain(['doctor'], { home: legateHome, cwd: work });

    expect(result.stdout).toContain(`warning:   model "gpt-typo" is not in the model list of ${baseUrl(server)} (2 listed, e.g. gpt-real-1, gpt-real-2)`);
    // Reachable all the same: a list can be partial, so this alone does not fail doctor.
    expect(result.code).toBe(0);
  });
});
