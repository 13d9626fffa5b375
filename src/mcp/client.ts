import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type Tool as McpToolDefinition } from '@modelcontextprotocol/sdk/types.js';
import type { ConfigFile } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import { excerpt } from '../tools/output-cap.js';
import type { ToolOutput } from '../tools/tool.js';
import { legateVersion } from '../version.js';
import { toolOutput } from './tool-output.js';

/** One `mcp_servers` entry of config.yaml: a command (stdio) or a URL (Streamable HTTP). */
export type McpServerSpec = ConfigFile['mcp_servers'][string];

export interface McpConnectOptions {
  /** Working directory of a stdio server. */
  cwd: string;
  /** Starting the server, the handshake and listing its tools must finish within this. */
  timeoutMs: number;
  /** Told once, with the reason, when the server goes away after it connected. */
  onGone(reason: string): void;
  /** Told when the server announces that its tool list changed (`notifications/tools/list_changed`). */
  onToolsChanged?(): void;
}

/** How long one tool call may take (the SDK's default of 60 s is too short for real tools); progress resets it. */
const toolCallTimeoutMs = 10 * 60_000;

/**
 * A live connection to one MCP server. `callTool` never throws for a server that is gone: it
 * returns an error result saying so.
 */
export class McpConnection {
  private goneReason: string | undefined;
  private closing = false;

  private constructor(
    readonly name: string,
    private readonly client: Client,
    /** What the server's stderr says went wrong: at startup its first error line; later, in its latest output. */
    private readonly stderrSays: (when: 'startup' | 'later') => string,
  ) {}

  /** Start (or reach) the server and complete the MCP handshake. Rejects with a readable reason. */
  static async open(name: string, spec: McpServerSpec, options: McpConnectOptions): Promise<McpConnection> {
    let head = '';
    let tail = '';
    let transport: Transport;
    if ('command' in spec) {
      const stdio = new StdioClientTransport({ command: spec.command, args: spec.args, env: spec.env, cwd: options.cwd, stderr: 'pipe' });
      // Keep the start of the server's stderr for messages (a stack trace's first line is the error, its
      // last lines are noise like "Node.js v20"); reading it also keeps the pipe from filling up.
      stdio.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        if (head.length < 4000) head = (head + text).slice(0, 4000);
        tail = (tail + text).slice(-2000);
      });
      transport = stdio;
    } else {
      transport = new StreamableHTTPClientTransport(new URL(spec.url), { requestInit: { headers: spec.headers } });
    }
    // The SDK listens for list_changed only when the server advertises it; re-listing (all pages) is ours.
    const client = new Client(
      { name: 'legate', version: legateVersion },
      { listChanged: { tools: { autoRefresh: false, debounceMs: 100, onChanged: () => options.onToolsChanged?.() } } },
    );
    const connection = new McpConnection(name, client, (when) => errorLine(when === 'startup' ? head : tail) || lastLines(tail));
    try {
      await client.connect(transport, { timeout: options.timeoutMs });
    } catch (error) {
      await client.close().catch(() => {}); // already failing: the error below is the one reported
      throw new Error(connection.describeFailure(error, spec, options.timeoutMs));
    }
    client.onclose = () => {
      if (connection.closing || connection.goneReason) return;
      const said = connection.stderrSays('later');
      connection.goneReason = `the server ${'command' in spec ? 'process exited' : 'closed the connection'}${said ? `: ${said}` : ''}`;
      options.onGone(connection.goneReason);
    };
    return connection;
  }

  /** Every tool the server offers (all pages). */
  async listTools(timeoutMs: number): Promise<McpToolDefinition[]> {
    const tools: McpToolDefinition[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  async callTool(tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutput> {
    if (this.goneReason) return this.goneResult(tool);
    try {
      // Asking for progress (onprogress) is what lets the server's progress reset the timeout.
      const options = { signal, timeout: toolCallTimeoutMs, resetTimeoutOnProgress: true, onprogress: () => {} };
      const result = await this.client.callTool({ name: tool, arguments: args }, undefined, options);
      return toolOutput(result);
    } catch (error) {
      if (this.goneReason || (error instanceof McpError && error.code === ErrorCode.ConnectionClosed)) return this.goneResult(tool);
      throw error;
    }
  }

  /** True once legate started closing it or the server went away: nothing it says then is news. */
  get closed(): boolean {
    return this.closing || this.goneReason !== undefined;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.client.close();
  }

  private goneResult(tool: string): ToolOutput {
    const reason = this.goneReason ?? 'the connection closed';
    return { content: `mcp_server_gone: MCP server "${this.name}" is gone (${reason}); its tool "${tool}" cannot be called`, isError: true };
  }

  private describeFailure(error: unknown, spec: McpServerSpec, timeoutMs: number): string {
    const first = this.stderrSays('startup');
    const said = first ? `; it said: ${first}` : '';
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && 'command' in spec) return `command not found: ${JSON.stringify(spec.command)}`;
    if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) return `no answer within ${timeoutMs / 1000}s${said}`;
    if (error instanceof McpError && error.code === ErrorCode.ConnectionClosed) return `it exited during startup${said}`;
    const cause = (error as { cause?: unknown }).cause;
    return `${excerpt(errorMessage(cause ?? error), 200)}${said}`;
  }
}

/**
 * The first line of a server's stderr that reads as an error (`Error: Cannot find module
 * '/x/server.js'`, not the stack trace and `Node.js v20` that follow), or `''`.
 */
export function errorLine(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const error = lines.find((line) => /\b(error|exception|fatal|cannot|can't|failed|not found|denied|refused)\b/i.test(line) && !/^at\s/.test(line));
  return error ? excerpt(error, 300) : '';
}

/** The last few non-empty lines of a server's stderr, on one line. */
function lastLines(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return excerpt(lines.slice(-3).join(' / '), 300);
}
