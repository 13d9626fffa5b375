import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome, until } from '../helpers/cli.js';
import { startMain } from '../helpers/main.js';
import { childWith } from '../helpers/script.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { spanNamed } from './trace-tree.js';

/**
 * `legate mcp` traced (in process, JSON-RPC over its stdio): each tool call is an `execute_tool`
 * span continuing the client's `_meta.traceparent`, else the root of a trace of its own, and the
 * children the call spawns are under it.
 */

let server: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
});

const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientSpan = '00f067aa0ba902b7';

describe('legate mcp traced', () => {
  it("a call's children join the client's trace (_meta.traceparent), or a trace of the call's own", async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue({ match: childWith('MCP-GOAL-1'), reply: { text: 'ONE-DONE' } }, { match: childWith('MCP-GOAL-2'), reply: { text: 'TWO-DONE' } });
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const mcp = startMain(['mcp'], { home, cwd: work, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    const send = (message: object): void => void mcp.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    const answered = (id: number) => until(() => mcp.stdout().includes(`"id":${id}`), 30_000, `the answer to request ${id}`);
    send({ id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'test', version: '1' } } });
    await answered(1);
    send({ method: 'notifications/initialized' });
    const call = (id: number, goal: string, meta?: object) =>
      send({ id, method: 'tools/call', params: { name: 'delegate_task', arguments: { goal }, ...(meta ? { _meta: meta } : {}) } });
    call(2, 'MCP-GOAL-1', { traceparent: `00-${clientTrace}-${clientSpan}-01` });
    await answered(2);
    call(3, 'MCP-GOAL-2');
    await answered(3);
    mcp.stdin.end();
    const result = await mcp.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('ONE-DONE');

    const calls = receiver.spans.filter((span) => span.name === 'execute_tool delegate_task');
    expect(calls).toHaveLength(2);
    const joined = calls.find((span) => span.traceId === clientTrace)!;
    expect(joined.parentSpanId).toBe(clientSpan);
    expect(joined.kind).toBe(2); // SERVER: a call received
    const own = calls.find((span) => span.traceId !== clientTrace)!;
    expect(own.parentSpanId).toBe('');
    const childOf = (call: typeof joined) => spanNamed(receiver!.spans, 'invoke_agent child', (span) => span.parentSpanId === call.spanId);
    expect(childOf(joined).traceId).toBe(clientTrace);
    expect(childOf(own).traceId).toBe(own.traceId);
    server.assertDone();
  }, 60_000);
});
