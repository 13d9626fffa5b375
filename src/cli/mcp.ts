import type { Readable, Writable } from 'node:stream';
import { errorMessage } from '../errors.js';
import { CheckedStdioTransport } from '../mcp/checked-transport.js';
import { createDelegationServer, defaultMcpSessionId, type McpCallTracer } from '../mcp/server.js';
import type { Runtime } from '../runtime.js';
import { type GlobalOptions, openRuntime, type Streams } from './context.js';
import { armStopBound, stopBoundSeconds } from './stop-bound.js';

export interface McpOptions extends GlobalOptions {
  /** The session the client's tasks belong to (default: one per working directory). */
  session?: string;
  /** `--dispatch-only` (shared mode): the client's tasks go on the shared queue, for workers elsewhere. */
  dispatchOnly?: boolean;
}

/**
 * `legate mcp`: serve the delegation tools to an MCP client over stdio until it disconnects.
 * stdout is the MCP channel; everything else goes to stderr. On start, tasks of the session that a
 * previous server left interrupted (or queued) continue here from their last checkpoint.
 */
export async function mcpCommand(options: McpOptions, streams: Streams): Promise<number> {
  const runtime = await openRuntime(options, streams, { dispatchOnly: options.dispatchOnly === true });
  const say = (line: string): void => void streams.stderr.write(`legate mcp: ${line}\n`);
  const sessionId = options.session ?? defaultMcpSessionId(runtime.cwd);
  const { tracing } = runtime;
  // Each call a span, continuing the client's trace when its request carries one: the children it spawns join it.
  const traceCall: McpCallTracer | undefined = tracing.enabled
    ? (call, traceparent) =>
        tracing.startToolCall({
          agentId: sessionId,
          conversationId: sessionId,
          callId: call.id,
          name: call.name,
          arguments: call.arguments,
          ...(traceparent ? { traceparent } : {}),
        })
    : undefined;
  const server = createDelegationServer(runtime.delegationSession({ sessionId, depth: 0, toolsets: runtime.agentToolsets }), runtime.io, traceCall);
  let stop = (): void => {};
  const stopped = new Promise<void>((resolveStop) => (stop = resolveStop));
  let disarm = (): void => {};
  // A signal's stop is bounded (tasks.lease_seconds + 5 s), whatever the store and the model server do.
  const onSignal = (): void => {
    disarm = armStopBound(stopBoundSeconds(runtime.config.tasks.lease_seconds), (line) => void streams.stderr.write(`${line}\n`));
    stop();
  };
  server.onclose = stop;
  streams.stdin.once('end', stop);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await server.connect(new CheckedStdioTransport(streams.stdin as Readable, streams.stdout as Writable));
    say(`serving session ${sessionId} on stdio (${runtime.cwd})`);
    // With --dispatch-only the workers' sweep picks them up.
    if (!options.dispatchOnly) void resumeLeftovers(runtime, sessionId, say);
    await stopped;
    return 0;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await server.close().catch(() => {}); // the client already closed the transport
    await runtime.close();
    disarm();
  }
}

/** Continue the session's tasks that no process runs any more (the previous server stopped). */
async function resumeLeftovers(runtime: Runtime, sessionId: string, say: (line: string) => void): Promise<void> {
  try {
    const leftovers = (await runtime.tasks.list(sessionId, { status: ['interrupted', 'queued'] })).reverse();
    for (const task of leftovers) {
      await runtime.tasks.resume(sessionId, task.id).then(
        () => say(`resumed ${task.status} task ${task.id} from its last checkpoint`),
        (error: unknown) => say(`could not resume task ${task.id}: ${errorMessage(error)}`),
      );
    }
  } catch (error) {
    say(`could not look for interrupted tasks: ${errorMessage(error)}`);
  }
}
