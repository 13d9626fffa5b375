import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type CliResult, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { cleanupLater } from './config-harness.js';

/**
 * Every bad config is refused before any model call, with a message that names the bad key, the
 * bad value and the file it is in. Checked through the real CLI, as the user sees it.
 */

const model = { name: 'm-1', api_key: 'sk-config-test-0001' };

/** `legate run` with `yaml` as $LEGATE_HOME/config.yaml. */
async function runWithConfig(yaml: string, env: Record<string, string> = {}): Promise<CliResult & { configFile: string }> {
  const { home, work, configFile } = cleanupLater(tempHome());
  writeFileSync(configFile, yaml);
  const result = await runMain(['run', 'hello'], { home, cwd: work, env });
  return { ...result, configFile };
}

function expectRefused(result: CliResult): void {
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
}

describe('config.yaml errors name the bad key, value and file', () => {
  test('an unknown key', async () => {
    const result = await runWithConfig(`model:\n  nme: gpt-typo\n  name: ${model.name}\n  api_key: ${model.api_key}\n`);
    expectRefused(result);
    expect(result.stderr).toContain('"model.nme"');
    expect(result.stderr).toContain(result.configFile);
  });

  test('an unknown top-level section', async () => {
    const result = await runWithConfig(`model:\n  name: ${model.name}\n  api_key: ${model.api_key}\ndelegaton:\n  max_spawn_depth: 2\n`);
    expectRefused(result);
    expect(result.stderr).toContain('"delegaton"');
    expect(result.stderr).toContain(result.configFile);
  });

  test('a value of the wrong type', async () => {
    const result = await runWithConfig(`model:\n  name: ${model.name}\n  api_key: ${model.api_key}\ndelegation:\n  max_concurrent_children: ten\n`);
    expectRefused(result);
    expect(result.stderr).toContain('delegation.max_concurrent_children');
    expect(result.stderr).toContain('"ten"');
    expect(result.stderr).toContain('number');
    expect(result.stderr).toContain(result.configFile);
  });

  test('a value outside an enum lists the allowed values', async () => {
    const result = await runWithConfig(`model:\n  provider: opnai\n  name: ${model.name}\n  api_key: ${model.api_key}\n`);
    expectRefused(result);
    expect(result.stderr).toContain('model.provider');
    expect(result.stderr).toContain('"opnai"');
    expect(result.stderr).toContain('"openai"');
    expect(result.stderr).toContain('"anthropic"');
  });

  test('invalid YAML names the file and the line', async () => {
    const result = await runWithConfig(`model:\n  name: [${model.name}\n  api_key: ${model.api_key}\n`);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(result.configFile);
    expect(result.stderr).toContain('not valid YAML');
    expect(result.stderr).toMatch(/line \d+/);
  });

  test('an unknown toolset in agent.toolsets, with the known ones', async () => {
    const result = await runWithConfig(`model:\n  name: ${model.name}\n  api_key: ${model.api_key}\nagent:\n  toolsets: [file, shell]\n`);
    expectRefused(result);
    expect(result.stderr).toContain('agent.toolsets');
    expect(result.stderr).toContain('"shell"');
    expect(result.stderr).toContain('terminal');
    expect(result.stderr).toContain(result.configFile);
  });
});

describe('missing things', () => {
  test('--config pointing to a missing file names the file', async () => {
    const { home, work } = cleanupLater(tempHome());
    const missing = join(home, 'no-such-dir', 'legate.yaml');
    const result = await runMain(['--config', missing, 'run', 'hello'], { home, cwd: work });
    expectRefused(result);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain('does not exist');
  });

  test('no key anywhere: says how to configure one and mentions `legate demo`', async () => {
    // runMain passes only PATH, HOME and LEGATE_HOME: no config file, no *_API_KEY.
    const { home, work } = cleanupLater(tempHome());
    const result = await runMain(['run', 'hello'], { home, cwd: work });
    expectRefused(result);
    expect(result.stderr).toContain('no API key');
    expect(result.stderr).toContain('model.api_key');
    expect(result.stderr).toContain(join(home, 'config.yaml'));
    expect(result.stderr).toContain('OPENAI_API_KEY');
    expect(result.stderr).toContain('legate demo');
  });

  test('api_key: ${VAR} with VAR unset names the variable', async () => {
    const result = await runWithConfig(`model:\n  name: ${model.name}\n  api_key: \${LEGATE_TEST_UNSET_KEY}\n`);
    expectRefused(result);
    expect(result.stderr).toContain('${LEGATE_TEST_UNSET_KEY}');
    expect(result.stderr).toContain('not set');
    expect(result.stderr).toContain(result.configFile);
  });

  test('api_keys: [${A}, ${B}] with both unset names both variables', async () => {
    const result = await runWithConfig(`model:\n  name: ${model.name}\n  api_keys: ["\${LEGATE_TEST_KEY_A}", "\${LEGATE_TEST_KEY_B}"]\n`);
    expectRefused(result);
    expect(result.stderr).toContain('model.api_keys');
    expect(result.stderr).toContain('${LEGATE_TEST_KEY_A}');
    expect(result.stderr).toContain('${LEGATE_TEST_KEY_B}');
    expect(result.stderr).toContain('not set');
  });

  test("a route's api_key: ${VAR} with VAR unset names the route key and the variable", async () => {
    const result = await runWithConfig(
      `model:\n  name: ${model.name}\n  api_key: ${model.api_key}\n` +
        `delegation:\n  routes:\n    cheap:\n      provider: anthropic\n      api_key: \${LEGATE_TEST_ROUTE_KEY}\n`,
    );
    expectRefused(result);
    expect(result.stderr).toContain('delegation.routes.cheap.api_key');
    expect(result.stderr).toContain('${LEGATE_TEST_ROUTE_KEY}');
    expect(result.stderr).toContain('not set');
    expect(result.stderr).toContain(result.configFile);
  });

  test('base_url: ${VAR} with VAR unset names the variable, not just an empty URL', async () => {
    const result = await runWithConfig(`model:\n  name: ${model.name}\n  api_key: ${model.api_key}\n  base_url: \${LEGATE_TEST_UNSET_URL}\n`);
    expectRefused(result);
    expect(result.stderr).toContain('model.base_url');
    expect(result.stderr).toContain('${LEGATE_TEST_UNSET_URL}');
    expect(result.stderr).toContain('not set');
  });
});

describe('pathological config values', () => {
  test('a value nested thousands of levels deep is refused with a message, not a crash', async () => {
    const deep = `${'['.repeat(5000)}1${']'.repeat(5000)}`;
    const result = await runWithConfig(`model:\n  name: ${deep}\n  api_key: ${model.api_key}\n`);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${result.configFile}: not valid YAML`);
    expect(result.stderr).toMatch(/at line 2/);
  });
});
