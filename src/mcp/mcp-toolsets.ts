import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Tool, Toolset } from '../tools/tool.js';
import { McpConnection, type McpServerSpec } from './client.js';

export interface McpToolsets {
  /** One toolset per configured server, named after it (empty for a server that failed). */
  toolsets: Toolset[];
  /** The live connections: close them when done. */
  connections: McpConnection[];
}

/** Starting a server, its handshake and its tool list must take less than this. */
const connectTimeoutMs = 20_000;

/**
 * Connect every configured MCP server, in parallel. A server that fails to start, to answer in
 * time or to list its tools costs one warning naming it and the reason; the others go on. A
 * server that dies later costs one warning too, and its tools then return an error result.
 */
export async function connectMcpServers(
  servers: Record<string, McpServerSpec>,
  options: { cwd: string; warn(line: string): void; info?(line: string): void; timeoutMs?: number },
): Promise<McpToolsets> {
  const timeoutMs = options.timeoutMs ?? connectTimeoutMs;
  const opened = await Promise.all(
    Object.entries(servers).map(async ([name, spec]): Promise<{ toolset: Toolset; connection?: McpConnection }> => {
      let connection: McpConnection | undefined;
      let listed: McpConnection | undefined;
      try {
        const toolset: Toolset = { name, mcp: true, tools: [], revision: 0 };
        connection = await McpConnection.open(name, spec, {
          cwd: options.cwd,
          timeoutMs,
          onGone: (reason) => options.warn(`MCP server "${name}" is gone (${reason}); its tools now return errors`),
          // A change announced during startup is already in the first listing below.
          onToolsChanged: () => {
            if (listed) void refreshTools(toolset, listed, timeoutMs, { info: options.info ?? options.warn, warn: options.warn });
          },
        });
        const open = connection;
        toolset.tools = (await connection.listTools(timeoutMs)).map((definition) => mcpTool(open, definition));
        listed = open;
        return { toolset, connection };
      } catch (error) {
        await connection?.close().catch(() => {});
        options.warn(`MCP server "${name}" unavailable: ${errorMessage(error)}; going on without its tools`);
        return { toolset: { name, mcp: true, tools: [] } };
      }
    }),
  );
  return {
    toolsets: opened.map((entry) => entry.toolset),
    connections: opened.flatMap((entry) => (entry.connection ? [entry.connection] : [])),
  };
}

/**
 * The server says its tools changed: list them again and replace the toolset's tools, bumping its
 * revision so running agents take the new list at their next model call. One `info` line says
 * what changed; a failed re-list keeps the old tools and `warn`s why.
 */
async function refreshTools(
  toolset: Toolset,
  connection: McpConnection,
  timeoutMs: number,
  { info, warn }: { info(line: string): void; warn(line: string): void },
): Promise<void> {
  try {
    const tools = (await connection.listTools(timeoutMs)).map((definition) => mcpTool(connection, definition));
    const before = new Set(toolset.tools.map((tool) => tool.name));
    const after = new Set(tools.map((tool) => tool.name));
    const added = [...after].filter((name) => !before.has(name));
    const removed = [...before].filter((name) => !after.has(name));
    toolset.tools = tools;
    toolset.revision = (toolset.revision ?? 0) + 1;
    const changes = [added.length > 0 ? `added ${added.join(', ')}` : '', removed.length > 0 ? `removed ${removed.join(', ')}` : ''].filter(Boolean);
    info(`MCP server "${toolset.name}" changed its tools${changes.length > 0 ? ` (${changes.join('; ')})` : ''}; ${tools.length} now`);
  } catch (error) {
    warn(`MCP server "${toolset.name}" said its tools changed, but listing them failed: ${errorMessage(error)}; keeping the previous ${toolset.tools.length}`);
  }
}

/** Arguments pass through unchecked: the tool's JSON Schema is what the model sees, and the server validates. */
const passThrough = z.record(z.string(), z.unknown());

/** An MCP server's tool as a legate tool, named `<server>__<tool>` so servers never clash with each other or with legate's tools. */
function mcpTool(connection: McpConnection, definition: { name: string; description?: string; inputSchema: Record<string, unknown> }): Tool {
  return {
    name: toolName(connection.name, definition.name),
    description: definition.description ?? `Tool "${definition.name}" of MCP server "${connection.name}".`,
    parameters: passThrough,
    inputSchema: definition.inputSchema,
    execute: (args, context) => connection.callTool(definition.name, args as Record<string, unknown>, context.signal),
  };
}

/** What the model wires accept: letters, digits, `_` and `-`, at most 64 characters. */
export function toolName(server: string, tool: string): string {
  return `${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}
