import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Runtime } from '../../src/runtime.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { executeToolCall } from '../../src/tools/execute.js';
import { startSite } from './web-server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'legate-webcfg-'));
  dirs.push(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `model:\n  name: m-1\n  api_key: sk-web-config-0001\n${yaml}`);
  return file;
}

function load(yaml: string, env: NodeJS.ProcessEnv = {}) {
  const file = configFile(yaml);
  return { file, loaded: () => loadConfig({ configPath: file, env: { ...env, LEGATE_HOME: join(file, '..') } }) };
}

describe('the web: section of config.yaml', () => {
  test('defaults: 20,000 characters, 30 s, 5 MB, 2 requests per host, no hosts allowed, no search; web is a default toolset', () => {
    const { config } = load('').loaded();
    expect(config.web).toEqual({
      max_chars: 20_000,
      timeout_seconds: 30,
      max_bytes: 5 * 1024 * 1024,
      per_host_concurrency: 2,
      allow_hosts: [],
      allowed_domains: [],
      blocked_domains: [],
    });
    expect(config.agent.toolsets).toContain('web');
  });

  test.each([
    ['web:\n  max_char: 100\n', '"web.max_char"'],
    ['web:\n  timeout_seconds: -1\n', 'web.timeout_seconds'],
    ['web:\n  search:\n    provider: bing\n', 'web.search.provider'],
    ['web:\n  search:\n    provider: searxng\n', 'web.search.url: provider searxng needs url'],
    ['web:\n  allow_hosts: localhost\n', 'web.allow_hosts'],
  ])('%j is refused naming the key and the file', (yaml, key) => {
    const { file, loaded } = load(yaml);
    expect(loaded).toThrow(key);
    expect(loaded).toThrow(file);
  });

  test('web.search.api_key may be ${VAR}; the key is masked in tool output, and web_search is offered', async () => {
    const key = 'brave-secret-key-42424242';
    // A backend that echoes the key back: the result the model reads shows it masked.
    const site = await startSite({
      '/brave': (request, response) =>
        void response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            web: { results: [{ title: 'echo', url: 'https://e.example/', description: `token ${request.headers['x-subscription-token']}` }] },
          }),
        ),
    });
    const { loaded } = load(`web:\n  search:\n    provider: brave\n    url: ${site.url}/brave\n    api_key: \${MY_BRAVE_KEY}\n`, { MY_BRAVE_KEY: key });
    const config = loaded();
    expect(config.config.web.search).toEqual({ provider: 'brave', url: `${site.url}/brave`, api_key: key });
    const runtime = new Runtime({ loaded: config, cwd: tmpdir(), store: new MemoryTaskStore(), env: {} });
    try {
      const tools = runtime.toolsFor({ sessionId: 's_web', depth: 0, toolsets: ['web'] });
      expect(tools.map((tool) => tool.name)).toEqual(['web_fetch', 'web_search']);
      expect(runtime.webSearchProblem).toBeUndefined();
      const result = await executeToolCall(
        new Map(tools.map((tool) => [tool.name, tool])),
        { id: 'c1', name: 'web_search', arguments: '{"query":"q"}' },
        {
          cwd: tmpdir(),
          signal: new AbortController().signal,
          io: runtime.io,
        },
      );
      expect(result.content).toContain('token bra...4242');
      expect(result.content).not.toContain(key);
    } finally {
      await runtime.close();
    }
  });

  test('config can take the web toolset away: agent.toolsets without web gives no web tools', async () => {
    const { loaded } = load('agent:\n  toolsets: [file]\n');
    const runtime = new Runtime({ loaded: loaded(), cwd: tmpdir(), store: new MemoryTaskStore(), env: {} });
    try {
      expect(runtime.agentToolsets).toEqual(['file']);
      expect(runtime.toolsFor({ sessionId: 's_web', depth: 1, toolsets: runtime.agentToolsets }).map((tool) => tool.name)).not.toContain('web_fetch');
    } finally {
      await runtime.close();
    }
  });
});
