import { describe, expect, test } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';

/** `legate doctor` on the web tools: their limits and containment, and the search backend or how to add one. */
describe('legate doctor: web tools', () => {
  test('without a search backend it says there is no web_search and how to add one', async () => {
    const server = await scriptedServer();
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl, { web: { allow_hosts: ['wiki.internal'] } }));
    const result = await runMain(['doctor'], { home: legateHome, cwd: work });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('web:       web_fetch: 30 s, 5242880 bytes, 20000 characters a call, 2 requests per host');
    expect(result.stdout).toContain('private addresses refused (web.allow_hosts: wiki.internal)');
    expect(result.stdout).toContain('note:      no web_search: no search backend configured (web.search). To add one, in config.yaml:');
    expect(result.stdout).toContain('provider: searxng, url: http://localhost:8888');
    expect(result.stdout).toContain('provider: brave with BRAVE_API_KEY');
  });

  test('a hosted backend shows its key masked; one without a key says which variable to set', async () => {
    const server = await scriptedServer();
    const withKey = home(scriptedConfig(server.openaiBaseUrl, { web: { search: { provider: 'brave' } } }));
    const shown = await runMain(['doctor'], { home: withKey.home, cwd: withKey.work, env: { BRAVE_API_KEY: 'BSA-doctor-key-55556666' } });
    expect(shown.stdout).toContain('web:       web_search: brave, key BSA...6666');
    expect(shown.stdout).not.toContain('BSA-doctor-key-55556666');

    const without = home(scriptedConfig(server.openaiBaseUrl, { web: { search: { provider: 'tavily' } } }));
    const missing = await runMain(['doctor'], { home: without.home, cwd: without.work, env: {} });
    expect(missing.stdout).toContain('no web_search: web.search.provider is tavily but it has no key: set web.search.api_key or TAVILY_API_KEY');
  });

  test('agent.toolsets without web: the web tools are off', async () => {
    const server = await scriptedServer();
    const { home: legateHome, work } = home(scriptedConfig(server.openaiBaseUrl, { agent: { toolsets: ['file'] } }));
    const result = await runMain(['doctor'], { home: legateHome, cwd: work });
    expect(result.stdout).toContain('web:       off (agent.toolsets does not name web)');
  });
});
