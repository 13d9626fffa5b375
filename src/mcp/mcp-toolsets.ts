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

/** Where the lines about a server go. */
export interface McpReporter {
  /** A server that failed to start, or died later. */
  warn(line: string): void;
  /** A live server's tool list really changed (default: `warn`). */
  info?(line: string): void;
  /** A live server said its tools changed, but listing them failed (default: `warn`). */
  listFailed?(line: string): void;
}

/**
 * Connect every configured MCP server, in parallel. A server that fails to start, to answer in
 * time or to list its tools costs one warning naming it and the reason; the others go on. A
 * server that dies later costs one warning too, and its tools then return an error result.
 */
export async function connectMcpServers(
  servers: Record<string, McpServerSpec>,
  options: McpReporter & { cwd: string; timeoutMs?: number },
): Promise<McpToolsets> {
  const timeoutMs = options.timeoutMs ?? connectTimeoutMs;
  const opened = await Promise.all(
    Object.entries(servers).map(async ([name, spec]): Promise<{ toolset: Toolset; connection?: McpConnection }> => {
      let connection: McpConnection | undefined;
      let listed: McpConnection | undefined;
      let noticedWhileConnecting = false;
      // Re-listings run one after another, so an older listing never replaces a newer one.
      let refreshing = Promise.resolve();
      const refresh = (open: McpConnection, quiet: boolean): void => {
        refreshing = refreshing.then(() => refreshTools(toolset, open, timeoutMs, quiet, options));
      };
      const toolset: Toolset = { name, mcp: true, tools: [], revision: 0 };
      try {
        connection = await McpConnection.open(name, spec, {
          cwd: options.cwd,
          timeoutMs,
          onGone: (reason) => options.warn(`MCP server "${name}" is gone (${reason}); its tools now return errors`),
          onToolsChanged: () => {
            if (!listed) noticedWhileConnecting = true;
            else if (!listed.closed) refresh(listed, false);
          },
        });
        const open = connection;
        toolset.tools = (await connection.listTools(timeoutMs)).map((definition) => mcpTool(open, definition));
        listed = open;
        // A notice during startup may predate the listing above: list once more, without news.
        if (noticedWhileConnecting) refresh(open, true);
        return { toolset, connection };
      } catch (error) {
        await connection?.close().catch(() => {}); // already failing: the warning below says why
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
 * The server says its tools changed: list them again. Only a real change replaces the toolset's
 * tools and bumps its revision (running agents take the new list at their next model call), with
 * one `info` line saying what changed unless `quiet`. A failed re-listing keeps the old tools and
 * says why. A connection that is closing or gone says nothing: that is not news.
 */
async function refreshTools(toolset: Toolset, connection: McpConnection, timeoutMs: number, quiet: boolean, reporter: McpReporter): Promise<void> {
  if (connection.closed) return;
  let tools: Tool[];
  try {
    tools = (await connection.listTools(timeoutMs)).map((definition) => mcpTool(connection, definition));
  } catch (error) {
    if (connection.closed) return;
    (reporter.listFailed ?? reporter.warn)(
      `MCP server "${toolset.name}" said its tools changed, but listing them failed: ${errorMessage(error)}; keeping the previous ${toolset.tools.length}`,
    );
    return;
  }
  if (connection.closed) return;
  const before = new Map(toolset.tools.map((tool) => [tool.name, fingerprint(tool)]));
  const after = new Map(tools.map((tool) => [tool.name, fingerprint(tool)]));
  const added = [...after.keys()].filter((name) => !before.has(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const updated = [...after.keys()].filter((name) => before.has(name) && before.get(name) !== after.get(name));
  if (added.length + removed.length + updated.length === 0) return;
  toolset.tools = tools;
  toolset.revision = (toolset.revision ?? 0) + 1;
  if (quiet) return;
  const changes = [
    added.length > 0 ? `added ${added.join(', ')}` : '',
    removed.length > 0 ? `removed ${removed.join(', ')}` : '',
    updated.length > 0 ? `updated ${updated.join(', ')}` : '',
  ].filter(Boolean);
  (reporter.info ?? reporter.warn)(`MCP server "${toolset.name}" changed its tools (${changes.join('; ')}); ${tools.length} now`);
}

/** What the model is shown of a tool: a change here is a change of the tool. */
function fingerprint(tool: Tool): string {
  return JSON.stringify([tool.description, tool.inputSchema ?? null]);
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
