import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EndpointSpec } from '../config/endpoints.js';
import { resolveEndpoints } from '../config/endpoints.js';
import type { ConfigFile } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { connectMcpServers } from '../mcp/mcp-toolsets.js';
import { providerEntry } from '../provider/registry.js';
import { Runtime } from '../runtime.js';
import { describeSandbox } from '../sandbox/availability.js';
import { hiddenCredentialPaths } from '../sandbox/credentials.js';
import { maskKey } from '../secrets.js';
import { closeRedis, connectRedis, maskRedisUrl } from '../tasks/store/redis/redis-connection.js';
import { webSettingsFrom } from '../tools/web/web-settings.js';
import { logFilePath } from './command-log.js';
import { type GlobalOptions, loadFor, type Streams, sharedStoreUrl } from './context.js';

/** `legate doctor`: the resolved config with keys masked, and a reachability check of each endpoint. */
export async function doctorCommand(options: GlobalOptions, streams: Streams): Promise<number> {
  const out = (line: string): void => void streams.stdout.write(`${line}\n`);
  let failures = 0;
  try {
    const loaded = loadFor(options, streams);
    out(`config:    ${loaded.file ?? '(no config file: using the environment)'}`);
    out(`home:      ${loaded.home}`);
    const sharedUrl = sharedStoreUrl(loaded.config, streams.env);
    if (sharedUrl === undefined) out(`tasks:     ${join(loaded.home, 'state.db')}`);
    else {
      const reached = await pingRedis(sharedUrl);
      out(`tasks:     shared store at ${maskRedisUrl(sharedUrl)} (Redis, prefix ${loaded.config.tasks.redis_prefix}): ${reached}`);
      if (reached !== 'ok') failures++;
    }
    out(`log:       ${logFilePath(loaded.home)}`);
    const endpoints = resolveEndpoints(loaded);
    const describe = (label: string, endpoint: EndpointSpec): void => {
      out(
        `${label.padEnd(10)} ${endpoint.provider} ${endpoint.model} at ${endpoint.baseUrl}` +
          `; keys: ${endpoint.keys.map(maskKey).join(', ')}${endpoint.keys.length > 1 ? ` (${endpoint.keyStrategy})` : ''}` +
          `${endpoint.maxTokens !== undefined ? `; max_tokens ${endpoint.maxTokens}` : ''}`,
      );
    };
    describe('parent:', endpoints.parent);
    describe('children:', endpoints.child);
    for (const [name, route] of endpoints.routes) describe(`route ${name}:`, route);
    const delegation = loaded.config.delegation;
    out(
      `limits:    depth ${delegation.max_spawn_depth}, ${delegation.max_concurrent_children} children at once, ` +
        `${delegation.max_iterations} iterations, timeout ${delegation.child_timeout_seconds || 'none'}`,
    );
    out(`toolsets:  ${loaded.config.agent.toolsets.join(', ')}`);
    const sandboxMode = options.sandbox ?? loaded.config.agent.sandbox;
    out(`sandbox:   ${describeSandbox(sandboxMode)}`);
    const cwd = options.cwd ?? process.cwd();
    const credentials = { denyRead: loaded.config.sandbox.deny_read, allowRead: loaded.config.sandbox.allow_read, userHome: streams.env.HOME || undefined };
    const hidden = hiddenCredentialPaths(credentials, cwd).filter((path) => existsSync(path));
    if (sandboxMode === 'danger-full-access')
      out(`hidden:    nothing (danger-full-access: tools read your credentials${hidden.length ? `: ${hidden.join(', ')}` : ''})`);
    else out(`hidden:    ${[loaded.home, ...hidden].join(', ')}${hidden.length ? '' : ' (no credential files found)'}; sandbox.allow_read re-opens one`);
    for (const line of webLines(loaded.config, streams.env)) out(line);
    const problem = (line: string): void => {
      failures++;
      out(`problem:   ${line}`);
    };
    // A server's tool list changing (or failing to re-list) while doctor looks is worth a note, never a failure.
    const note = (line: string): void => out(`note:      ${line}`);
    const mcp = await connectMcpServers(loaded.config.mcp_servers, { cwd, warn: problem, info: note, listFailed: note });
    for (const connection of mcp.connections) {
      const tools = mcp.toolsets.find((toolset) => toolset.name === connection.name)?.tools ?? [];
      out(`mcp:       ${connection.name}: ${tools.length} tools${tools.length ? ` (${tools.map((tool) => tool.name).join(', ')})` : ''}`);
    }
    // The same checks `run` makes when it builds the runtime (unknown toolsets…), reported instead of thrown.
    try {
      await new Runtime({ loaded, cwd, extraToolsets: mcp.toolsets, resources: mcp.connections }).close();
    } catch (error) {
      problem(errorMessage(error));
      await Promise.all(mcp.connections.map((connection) => connection.close().catch(() => {}))); // already reporting the failure: closing is best effort
    }
    const all = [endpoints.parent, endpoints.child, ...endpoints.routes.values()];
    const seen = new Set<string>();
    for (const endpoint of all) {
      if (seen.has(endpoint.baseUrl)) continue;
      seen.add(endpoint.baseUrl);
      const verdict = await checkEndpoint(endpoint);
      if (!verdict.ok) failures++;
      out(`check:     ${endpoint.baseUrl}: ${verdict.message}`);
      // A model the endpoint does not list is worth a warning, not a failure: some lists are partial (proxies, deployments).
      const missing = verdict.models
        ? [...new Set(all.filter((other) => other.baseUrl === endpoint.baseUrl && !verdict.models!.includes(other.model)).map((other) => other.model))]
        : [];
      for (const model of missing) {
        out(
          `warning:   model "${model}" is not in the model list of ${endpoint.baseUrl} ` +
            `(${verdict.models!.length} listed${verdict.models!.length ? `, e.g. ${verdict.models!.slice(0, 5).join(', ')}` : ''}` +
            `); calls to it will probably fail — check the name`,
        );
      }
    }
  } catch (error) {
    streams.stderr.write(`legate: ${errorMessage(error)}\n`);
    return 2;
  }
  return failures === 0 ? 0 : 1;
}

/** Whether the endpoint answers; `models`: its complete model list, when it gave one. */
async function checkEndpoint(endpoint: EndpointSpec): Promise<{ ok: boolean; message: string; models?: string[] }> {
  const { url, headers } = providerEntry(endpoint.provider).probe(endpoint.baseUrl, endpoint.keys[0] ?? '');
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    if (response.ok) return { ok: true, message: `reachable (HTTP ${response.status})`, ...modelList(await response.json().catch(() => undefined)) }; // a body that is not JSON: no model list to show
    const hint = response.status === 401 || response.status === 403 ? ' — the key was refused' : '';
    return { ok: false, message: `HTTP ${response.status}${hint}` };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return { ok: false, message: `not reachable: ${errorMessage(cause ?? error)}` };
  }
}

/** The ids of a `GET /models` body (both wires list `{data: [{id}]}`); none when the list is paged or not a list. */
function modelList(body: unknown): { models?: string[] } {
  const { data, has_more: more } = (body ?? {}) as { data?: unknown; has_more?: unknown };
  if (!Array.isArray(data) || more === true) return {};
  const ids = data.map((entry) => (entry as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string');
  return ids.length === data.length && ids.length > 0 ? { models: ids } : {};
}

/** `ok` when the Redis at `url` answers PING within a few seconds, else what went wrong (the URL masked). */
async function pingRedis(url: string): Promise<string> {
  try {
    const redis = await connectRedis(url, { connectTimeoutMs: 3_000, maxRetriesPerRequest: 1 });
    try {
      await redis.ping();
      return 'ok';
    } finally {
      await closeRedis(redis);
    }
  } catch (error) {
    return `unreachable: ${errorMessage(error).replaceAll(url, maskRedisUrl(url))}`;
  }
}

/** The web tools: their limits and containment, and the search backend or how to add one. */
function webLines(config: ConfigFile, env: NodeJS.ProcessEnv): string[] {
  if (!config.agent.toolsets.includes('web')) return ['web:       off (agent.toolsets does not name web)'];
  const { settings, searchProblem } = webSettingsFrom(config.web, env);
  const list = (values: string[]): string => (values.length ? values.join(', ') : 'none');
  const lines = [
    `web:       web_fetch: ${settings.timeoutSeconds} s, ${settings.maxBytes} bytes, ${settings.maxChars} characters a call, ${settings.perHostConcurrency} requests per host; ` +
      `private addresses refused (web.allow_hosts: ${list(settings.allowHosts)}); web.allowed_domains: ${list(settings.allowedDomains)}; web.blocked_domains: ${list(settings.blockedDomains)}`,
  ];
  const search = settings.search;
  if (search) {
    lines.push(
      `web:       web_search: ${search.provider}${search.provider === 'searxng' ? ` at ${search.url}` : `, key ${maskKey(search.apiKey)}${search.url ? ` at ${search.url}` : ''}`}`,
    );
  } else {
    lines.push(
      `note:      no web_search: ${searchProblem}. To add one, in config.yaml: web: {search: {provider: searxng, url: http://localhost:8888}} ` +
        '(a SearXNG with its JSON format enabled), or provider: brave with BRAVE_API_KEY, or provider: tavily with TAVILY_API_KEY (or web.search.api_key)',
    );
  }
  return lines;
}
