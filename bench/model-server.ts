import { type RecordedRequest, type ScriptedReply, startScriptedServer } from '../src/testing/scripted-server.js';

/**
 * The scripted model server in its own process (forked by `startModelServer`), so its CPU and the
 * requests it records never count against the runtime being measured, as with a remote model.
 *
 * `fanout`: every conversation makes `steps` model calls: `steps - 1` cheap `list_dir` tool calls,
 * then a final text, each after `latencyMs`. `hang`: every request waits until the client goes.
 */
export interface ModelServerOptions {
  mode: 'fanout' | 'hang';
  latencyMs: number;
  steps: number;
  /**
   * A parent agent (a request offering `delegate_task_async`) spawns `spawns` children in turns of
   * `batch` calls, each turn answered after `delayMs`, then ends with a text (shared-mode benches).
   */
  parent?: { spawns: number; batch: number; delayMs: number };
}

export interface ModelServerStats {
  requests: number;
  /** Most requests in flight at once (server side): N means the client pool did not cap it. */
  maxInFlight: number;
  /** Server-side request durations (arrival → response closed), ms. */
  durationP50: number;
  durationP99: number;
  durationMax: number;
  /** The server process's CPU (user + system) since the last reset, ms. */
  cpuMs: number;
  unexpected: string[];
}

function replyFor(options: ModelServerOptions, request: RecordedRequest): ScriptedReply {
  if (options.mode === 'hang') return { hang: true };
  const messages: { role?: string }[] = Array.isArray(request.body?.messages) ? request.body.messages : [];
  const toolResults = messages.filter((message) => message?.role === 'tool').length;
  const tools: { function?: { name?: string } }[] = Array.isArray(request.body?.tools) ? request.body.tools : [];
  const parent = options.parent;
  if (parent && tools.some((tool) => tool?.function?.name === 'delegate_task_async')) {
    if (toolResults >= parent.spawns) return { text: `Spawned ${toolResults} tasks.` };
    const count = Math.min(parent.batch, parent.spawns - toolResults);
    const toolCalls = Array.from({ length: count }, (_, index) => ({
      name: 'delegate_task_async',
      arguments: { goal: `bench task ${toolResults + index}: list the working directory and report what is in it`, toolsets: ['file'] },
    }));
    return { delayMs: parent.delayMs, toolCalls };
  }
  if (toolResults < options.steps - 1) {
    return { delayMs: options.latencyMs, toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] };
  }
  return { delayMs: options.latencyMs, text: `Done: listed the directory ${toolResults} times. Nothing else to report.` };
}

function stats(requests: RecordedRequest[], unexpected: string[], cpuMs: number): ModelServerStats {
  const edges: [number, number][] = [];
  const durations: number[] = [];
  for (const request of requests) {
    edges.push([request.startedAt, 1]);
    if (request.finishedAt !== undefined) {
      edges.push([request.finishedAt, -1]);
      durations.push(request.finishedAt - request.startedAt);
    }
  }
  // Ends before starts at the same millisecond: a keep-alive socket reused at once is not two in flight.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let inFlight = 0;
  let maxInFlight = 0;
  for (const [, delta] of edges) {
    inFlight += delta;
    maxInFlight = Math.max(maxInFlight, inFlight);
  }
  durations.sort((a, b) => a - b);
  const at = (q: number): number => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? 0;
  return {
    requests: requests.length,
    maxInFlight,
    durationP50: at(0.5),
    durationP99: at(0.99),
    durationMax: durations.at(-1) ?? 0,
    cpuMs,
    unexpected: unexpected.slice(0, 5),
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as ModelServerOptions;
  // Keep idle connections for 60 s, as a hosted model API does, instead of Node's 5 s: on a starved
  // machine a client's pause between two calls can outlast 5 s while its own pool still holds the
  // socket, and the next request fails with "other side closed".
  const server = await startScriptedServer({ handler: (request) => replyFor(options, request), models: ['bench-model'], keepAliveTimeoutMs: 60_000 });
  let cpuFrom = process.cpuUsage();
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') {
      const cpu = process.cpuUsage(cpuFrom);
      process.send?.({ type: 'stats', stats: stats(server.requests, server.unexpected, (cpu.user + cpu.system) / 1000) });
    }
    if (message.type === 'reset') {
      server.requests.length = 0;
      cpuFrom = process.cpuUsage();
    }
    if (message.type === 'close') void server.close().then(() => process.exit(0));
  });
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  process.send?.({ type: 'ready', url: server.url });
}

void main();
