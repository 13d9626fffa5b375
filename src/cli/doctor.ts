import type { EndpointSpec } from '../config/endpoints.js';
import { resolveEndpoints } from '../config/endpoints.js';
import { errorMessage } from '../errors.js';
import { connectMcpServers } from '../mcp/mcp-toolsets.js';
import { providerEntry } from '../provider/registry.js';
import { Runtime } from '../runtime.js';
import { describeSandbox } from '../sandbox/availability.js';
import { maskKey } from '../secrets.js';
import { loadFor, type GlobalOptions, type Streams } from './context.js';

/** `legate doctor`: the resolved config with keys masked, and a reachability check of each endpoint. */
export async function doctorCommand(options: GlobalOptions, streams: Streams): Promise<number> {
  const out = (line: string): void => void streams.stdout.write(`${line}\n`);
  let failures = 0;
  try {
    const loaded = loadFor(options, streams);
    out(`config:    ${loaded.file ?? '(no config file: using the environment)'}`);
    out(`home:      ${loaded.home}`);
    const endpoints = resolveEndpoints(loaded);
    const describe = (label: string, endpoint: EndpointSpec): void => {
      out(`${label.padEnd(10)} ${endpoint.provider} ${endpoint.model} at ${endpoint.baseUrl}; keys: ${endpoint.keys.map(maskKey).join(', ')}${endpoint.keys.length > 1 ? ` (${endpoint.keyStrategy})` : ''}${endpoint.maxTokens !== undefined ? `; max_tokens ${endpoint.maxTokens}` : ''}`);
    };
    describe('parent:', endpoints.parent);
    describe('children:', endpoints.child);
    for (const [name, route] of endpoints.routes) describe(`route ${name}:`, route);
    const delegation = loaded.config.delegation;
    out(`limits:    depth ${delegation.max_spawn_depth}, ${delegation.max_concurrent_children} children at once, ${delegation.max_iterations} iterations, timeout ${delegation.child_timeout_seconds || 'none'}`);
    out(`toolsets:  ${loaded.config.agent.toolsets.join(', ')}`);
    out(`sandbox:   ${describeSandbox(options.sandbox ?? loaded.config.agent.sandbox)}`);
    const cwd = options.cwd ?? process.cwd();
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
      await Promise.all(mcp.connections.map((connection) => connection.close().catch(() => {})));
    }
    const seen = new Set<string>();
    for (const endpoint of [endpoints.parent, endpoints.child, ...endpoints.routes.values()]) {
      if (seen.has(endpoint.baseUrl)) continue;
      seen.add(endpoint.baseUrl);
      const verdict = await checkEndpoint(endpoint);
      if (!verdict.ok) failures++;
      out(`check:     ${endpoint.baseUrl}: ${verdict.message}`);
    }
  } catch (error) {
    streams.stderr.write(`legate: ${errorMessage(error)}\n`);
    return 2;
  }
  return failures === 0 ? 0 : 1;
}

async function checkEndpoint(endpoint: EndpointSpec): Promise<{ ok: boolean; message: string }> {
  const { url, headers } = providerEntry(endpoint.provider).probe(endpoint.baseUrl, endpoint.keys[0] ?? '');
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    if (response.ok) return { ok: true, message: `reachable (HTTP ${response.status})` };
    const hint = response.status === 401 || response.status === 403 ? ' — the key was refused' : '';
    return { ok: false, message: `HTTP ${response.status}${hint}` };
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    return { ok: false, message: `not reachable: ${errorMessage(cause ?? error)}` };
  }
}
