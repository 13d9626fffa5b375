import { describe, expect, test } from 'vitest';
import { tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { cleanupLater, scriptedServer } from './config-harness.js';

/** Without a config file, the environment is enough to run. */
describe('no config file: the environment configures the model', () => {
  test('OPENAI_API_KEY + OPENAI_BASE_URL make `legate run` work against that endpoint', async () => {
    const server = await scriptedServer([{ reply: { text: 'Hello from the env-configured model.' } }]);
    const { home, work } = cleanupLater(tempHome());

    const result = await runMain(['run', 'say hello'], {
      home,
      cwd: work,
      env: { OPENAI_API_KEY: 'sk-env-openai-key-4242', OPENAI_BASE_URL: server.openaiBaseUrl },
    });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Hello from the env-configured model.\n');
    server.assertDone();
    expect(server.requests[0]).toMatchObject({ wire: 'openai', apiKey: 'sk-env-openai-key-4242', model: 'gpt-4.1-mini', stream: true });
  });

  test('LEGATE_MODEL picks the model name', async () => {
    const server = await scriptedServer([{ reply: { text: 'ok' } }]);
    const { home, work } = cleanupLater(tempHome());

    const result = await runMain(['run', 'hi'], {
      home,
      cwd: work,
      env: { OPENAI_API_KEY: 'sk-env-openai-key-4242', OPENAI_BASE_URL: server.openaiBaseUrl, LEGATE_MODEL: 'my-local-llama' },
    });

    expect(result.code).toBe(0);
    expect(server.requests[0]!.model).toBe('my-local-llama');
  });

  test('ANTHROPIC_API_KEY alone picks the anthropic provider', async () => {
    const { home, work } = cleanupLater(tempHome());
    // The endpoint check may fail without network; only the resolved config matters here.
    const result = await runMain(['doctor'], { home, cwd: work, env: { ANTHROPIC_API_KEY: 'sk-ant-env-only-key-7777' } });

    expect(result.stdout).toContain('(no config file: using the environment)');
    expect(result.stdout).toMatch(/parent:\s+anthropic claude-sonnet-4-6 at https:\/\/api\.anthropic\.com;/);
    expect(result.stdout).toContain('sk-...7777');
    expect(result.stdout + result.stderr).not.toContain('sk-ant-env-only-key-7777');
  });

  test('ANTHROPIC_API_KEY + ANTHROPIC_BASE_URL: `legate run` talks the Anthropic wire', async () => {
    const server = await scriptedServer([{ reply: { text: 'Hello over the Messages API.' } }]);
    const { home, work } = cleanupLater(tempHome());

    const result = await runMain(['run', 'say hello'], {
      home,
      cwd: work,
      env: { ANTHROPIC_API_KEY: 'sk-ant-env-only-key-7777', ANTHROPIC_BASE_URL: server.anthropicBaseUrl },
    });

    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Hello over the Messages API.\n');
    expect(server.requests[0]).toMatchObject({ wire: 'anthropic', apiKey: 'sk-ant-env-only-key-7777', model: 'claude-sonnet-4-6', stream: true });
  });

  test('with both keys set, OpenAI is used', async () => {
    const server = await scriptedServer([{ reply: { text: 'openai answered' } }]);
    const { home, work } = cleanupLater(tempHome());

    const result = await runMain(['run', 'hi'], {
      home,
      cwd: work,
      env: { OPENAI_API_KEY: 'sk-env-openai-key-4242', OPENAI_BASE_URL: server.openaiBaseUrl, ANTHROPIC_API_KEY: 'sk-ant-env-only-key-7777' },
    });

    expect(result.code).toBe(0);
    expect(server.requests[0]).toMatchObject({ wire: 'openai', apiKey: 'sk-env-openai-key-4242' });
  });
});
