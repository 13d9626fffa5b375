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
  options: { cwd: string; warn(line: string): void; timeoutMs?: number },
): Promise<McpToolsets> {
  const timeoutMs = options.timeoutMs ?? connectTimeoutMs;
  const opened = await Promise.all(
    Object.entries(servers).map(async ([name, spec]): Promise<{ toolset: Toolset; connection?: McpConnection }> => {
      let connection: McpConnection | undefined;
      try {
        connection = await McpConnection.open(name, spec, {
          cwd: options.cwd,
          timeoutMs,
          onGone: (reason) => options.warn(`MCP server "${name}" is gone (${reason}); its tools now return errors`),
        });
        const definitions = await connection.listTools(timeoutMs);
        const open = connection;
        return { toolset: { name, mcp: true, tools: definitions.map((definition) => mcpTool(open, definition)) }, connection };
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
