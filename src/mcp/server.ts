import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
// The low-level Server, not McpServer: McpServer validates arguments with its own wording, and
// these tools must answer exactly as they do for an agent (same validation, same JSON results).
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema, type Tool as McpToolDefinition } from '@modelcontextprotocol/sdk/types.js';
import { delegationToolsets } from '../delegation/as-tools.js';
import type { DelegationSession } from '../delegation/session.js';
import { executeToolCall } from '../tools/execute.js';
import type { ToolContext, ToolIO } from '../tools/tool.js';
import { toToolSpec } from '../tools/tool-spec.js';
import { legateVersion } from '../version.js';

/**
 * The session an MCP client's tasks belong to, stable across server restarts so a restarted
 * server's client can still collect them: `mcp_<hash of the working directory>`.
 */
export function defaultMcpSessionId(cwd: string): string {
  return `mcp_${createHash('sha256').update(resolve(cwd)).digest('hex').slice(0, 10)}`;
}

/**
 * Traces one tool call (`Tracing.startToolCall` for the session): `traceparent` is the client's
 * (`_meta.traceparent` of the request) when it sent one. The children the call spawns continue its span.
 */
export type McpCallTracer = (
  call: { id: string; name: string; arguments: string },
  traceparent: string | undefined,
) => { end(result: { content: string; isError: boolean }): void };

/**
 * legate's seven delegation tools served over MCP, with the MCP client as the parent of `session`
 * (`runtime.delegationSession({ sessionId, depth: 0, toolsets: runtime.agentToolsets })`); the
 * tools run in `session.cwd` with `io`. They are the very tools an agent gets: same schemas, validation, JSON
 * results and error wording; a refusal or bad arguments is a tool result with `isError: true`.
 * `delegate_task` and `collect_task` send progress notifications while they wait, when the
 * client asked for them (a progress token). With `traceCall`, each call is an `execute_tool` span.
 */
export function createDelegationServer(session: DelegationSession, io: ToolIO, traceCall?: McpCallTracer): Server {
  const tools = new Map(
    delegationToolsets(session)
      .flatMap((toolset) => toolset.tools)
      .map((tool) => [tool.name, tool]),
  );
  const listed: McpToolDefinition[] = [...tools.values()].map((tool) => {
    const spec = toToolSpec(tool);
    return { name: spec.name, description: spec.description, inputSchema: spec.parameters as McpToolDefinition['inputSchema'] };
  });

  const server = new Server({ name: 'legate', version: legateVersion }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const progressToken = request.params._meta?.progressToken;
    // Notifications go out in order, and all of them before the result (the client drops late ones).
    let notified = Promise.resolve();
    const progress: ToolContext['progress'] =
      progressToken === undefined
        ? undefined
        : (done, total, message) => {
            const notification = { method: 'notifications/progress' as const, params: { progressToken, progress: done, total, message } };
            notified = notified.then(() => extra.sendNotification(notification)).catch(() => {}); // the client went away: progress is advisory
          };
    const call = { id: String(extra.requestId), name: request.params.name, arguments: JSON.stringify(request.params.arguments ?? {}) };
    const traceparent = request.params._meta?.traceparent;
    const trace = traceCall?.(call, typeof traceparent === 'string' ? traceparent : undefined);
    const result = await executeToolCall(tools, call, { cwd: session.cwd, io, signal: extra.signal, progress });
    trace?.end(result);
    await notified;
    return { content: [{ type: 'text', text: result.content }], ...(result.isError ? { isError: true } : {}) };
  });
  return server;
}
