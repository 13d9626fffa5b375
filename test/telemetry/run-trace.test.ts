import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, tempHome } from '../helpers/cli.js';
import { childWith, isParent } from '../helpers/script.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { childrenOf, spanNamed, taskSpan } from './trace-tree.js';

/**
 * `legate run` with tracing on: one trace per run whose tree follows the task tree, a sync child
 * (delegate_task) and an async one (delegate_task_async, then collect_task) each under the span of
 * the call that spawned it, exported over OTLP/HTTP in protobuf and in JSON.
 */

const apiKey = 'sk-test-parent-0001';
let server: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
});

const idIn = (text: string): string => /"task_id":"(t_[0-9a-f]+)"/.exec(text)![1]!;

/** A run that spawns an async child, then a sync one, then collects the async one. */
async function tracedRun(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  server = await startScriptedServer();
  receiver = await startOtlpReceiver();
  server.enqueue(
    { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'ASYNC-GOAL' } }] } },
    {
      match: (request) => isParent(request) && request.text.includes('"task_id"') && !request.text.includes('SYNC-SUMMARY'),
      reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'SYNC-GOAL', context: 'SYNC-CONTEXT', budget: { tokens: 1_000_000 } } }] },
    },
    {
      match: (request) => isParent(request) && request.text.includes('SYNC-SUMMARY'),
      reply: (request) => ({ toolCalls: [{ name: 'collect_task', arguments: { task_id: idIn(request.text) } }] }),
    },
    { match: (request) => isParent(request) && request.text.includes('ASYNC-SUMMARY'), reply: { text: 'ALL-DONE' } },
    { match: childWith('ASYNC-GOAL'), reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
    { match: childWith('ASYNC-GOAL'), reply: { text: 'ASYNC-SUMMARY' } },
    { match: childWith('SYNC-GOAL'), reply: { text: 'SYNC-SUMMARY' } },
  );
  const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { agent: { toolsets: ['file', 'delegation', 'async_delegation'] } }));
  const result = await runCli(['run', 'TRACE-THIS-PROMPT'], { home, cwd: work, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env } });
  server.assertDone();
  return result;
}

describe('legate run with tracing', () => {
  it('exports one trace whose tree follows the tasks (http/protobuf), with the GenAI attributes, and no key or prompt text', async () => {
    const result = await tracedRun({});
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('ALL-DONE');
    expect(result.stderr).not.toContain('warning');
    const spans = receiver!.spans;
    expect(receiver!.bodies.every((body) => body.contentType === 'application/x-protobuf')).toBe(true);
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    expect(new Set(spans.map((span) => span.serviceName))).toEqual(new Set(['legate']));

    const root = spanNamed(spans, 'invoke_agent legate');
    expect(root.parentSpanId).toBe('');
    const sessionId = root.attributes['gen_ai.agent.id'];
    expect(root.attributes).toMatchObject({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.conversation.id': sessionId, 'gen_ai.provider.name': 'openai' });

    const parentChats = childrenOf(spans, root).filter((span) => span.name === 'chat parent-model');
    expect(parentChats).toHaveLength(4);
    for (const chat of parentChats) {
      expect(chat.kind).toBe(3); // CLIENT
      expect(chat.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'parent-model',
        'gen_ai.response.model': 'parent-model',
      });
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    }
    expect(parentChats.map((chat) => chat.attributes['gen_ai.response.finish_reasons'])).toEqual([['tool_calls'], ['tool_calls'], ['tool_calls'], ['stop']]);

    // Each child's invoke_agent span is a child of the execute_tool span of the call that spawned it.
    const asyncCall = spanNamed(spans, 'execute_tool delegate_task_async');
    const syncCall = spanNamed(spans, 'execute_tool delegate_task');
    const collectCall = spanNamed(spans, 'execute_tool collect_task');
    for (const call of [asyncCall, syncCall, collectCall]) {
      expect(call.parentSpanId).toBe(root.spanId);
      expect(call.attributes['gen_ai.operation.name']).toBe('execute_tool');
      expect(String(call.attributes['gen_ai.tool.call.id'])).not.toBe('');
    }
    const children = spans.filter((span) => span.name === 'invoke_agent child');
    expect(children).toHaveLength(2);
    const asyncChild = children.find((span) => span.parentSpanId === asyncCall.spanId)!;
    const syncChild = children.find((span) => span.parentSpanId === syncCall.spanId)!;
    expect(asyncChild).toBeDefined();
    expect(syncChild).toBeDefined();
    for (const child of [asyncChild, syncChild]) {
      expect(child.attributes['gen_ai.agent.id']).toMatch(/^t_[0-9a-f]+$/);
      expect(child.attributes).toMatchObject({
        'gen_ai.conversation.id': sessionId,
        'legate.task.depth': 1,
        'legate.task.status': 'completed',
        'legate.task.resumes': 0,
      });
    }
    expect(asyncChild.attributes['legate.task.mode']).toBe('async');
    expect(syncChild.attributes['legate.task.mode']).toBe('sync');
    // The sync child's budget and what its tree spent.
    expect(syncChild.attributes['legate.budget.tokens']).toBe(1_000_000);
    expect(syncChild.attributes['legate.budget.spent.tokens']).toBeGreaterThan(0);
    expect(asyncChild.attributes['legate.budget.tokens']).toBeUndefined();
    expect(taskSpan(spans, String(asyncChild.attributes['gen_ai.agent.id']))).toBe(asyncChild);
    // The async child's own model and tool calls are under its span.
    const asyncKids = childrenOf(spans, asyncChild).map((span) => span.name);
    expect(asyncKids.sort()).toEqual(['chat parent-model', 'chat parent-model', 'execute_tool list_dir']);
    expect(childrenOf(spans, syncChild).map((span) => span.name)).toEqual(['chat parent-model']);
    // The collect is an event on the collected task's span (or on the collect call's, once the task ended).
    const collected = [...asyncChild.events, ...collectCall.events].filter((event) => event.name === 'legate.task.collected');
    expect(collected).toHaveLength(1);
    expect(collected[0]!.attributes['legate.task.id']).toBe(asyncChild.attributes['gen_ai.agent.id']);

    // No key and, by default, no prompt, goal or completion text.
    const exported = receiver!.bodies.map((body) => body.text).join('\n');
    for (const secret of [apiKey, 'TRACE-THIS-PROMPT', 'SYNC-GOAL', 'SYNC-CONTEXT', 'SYNC-SUMMARY', 'ALL-DONE']) expect(exported).not.toContain(secret);
    expect(spans.some((span) => 'gen_ai.input.messages' in span.attributes || 'gen_ai.output.messages' in span.attributes)).toBe(false);
  }, 60_000);

  it('http/json with content capture: the text is on the spans, the key still is not', async () => {
    const result = await tracedRun({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
      OTEL_SERVICE_NAME: 'my-agents',
    });
    expect(result.code, result.stderr).toBe(0);
    const spans = receiver!.spans;
    expect(receiver!.bodies.every((body) => body.contentType.startsWith('application/json'))).toBe(true);
    expect(new Set(spans.map((span) => span.serviceName))).toEqual(new Set(['my-agents']));
    const root = spanNamed(spans, 'invoke_agent legate');
    expect(String(root.attributes['gen_ai.input.messages'])).toContain('TRACE-THIS-PROMPT');
    expect(String(root.attributes['gen_ai.output.messages'])).toContain('ALL-DONE');
    const syncChild = childrenOf(spans, spanNamed(spans, 'execute_tool delegate_task'))[0]!;
    expect(String(syncChild.attributes['gen_ai.input.messages'])).toContain('SYNC-CONTEXT');
    expect(String(spanNamed(spans, 'execute_tool delegate_task').attributes['gen_ai.tool.call.arguments'])).toContain('SYNC-GOAL');
    expect(String(spanNamed(spans, 'execute_tool delegate_task').attributes['gen_ai.tool.call.result'])).toContain('SYNC-SUMMARY');
    expect(receiver!.bodies.map((body) => body.text).join('\n')).not.toContain(apiKey);
    // The trace tree is the same as over protobuf.
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    expect(syncChild.name).toBe('invoke_agent child');
  }, 60_000);
});
