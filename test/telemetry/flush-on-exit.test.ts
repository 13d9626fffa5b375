import { afterEach, describe, expect, it } from 'vitest';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { childWith, isParent } from '../helpers/script.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { spanNamed } from './trace-tree.js';

/** Spans are flushed on every exit: Ctrl-C of a run mid-task, the end of a chat (one trace per turn). */

let server: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
});

/** The batch delay is longer than any test: what arrives came with the flush at exit. */
const tracingEnv = (url: string): Record<string, string> => ({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_BSP_SCHEDULE_DELAY: '600000' });

describe('flush on exit', () => {
  it('Ctrl-C of a run with a child mid-call: exit 130, the spans exported, the cut ones as errors', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'HANG-GOAL' } }] } },
      { label: 'child', match: childWith('HANG-GOAL'), reply: { hang: true } },
    );
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const run = startCli(['run', 'go'], { home, cwd: work, env: tracingEnv(receiver.url) });
    await until(() => server!.requests.some((request) => request.stepLabel === 'child'), 30_000, 'the child to call the model');
    run.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    const spans = receiver.spans;
    const root = spanNamed(spans, 'invoke_agent legate');
    expect(root.statusCode).toBe(2);
    expect(root.attributes['error.type']).toBe('cancelled');
    const call = spanNamed(spans, 'execute_tool delegate_task');
    const child = spanNamed(spans, 'invoke_agent child');
    expect(child.parentSpanId).toBe(call.spanId);
    expect(['cancelled', 'interrupted']).toContain(child.attributes['legate.task.status']);
    expect(spanNamed(spans, 'chat parent-model', (span) => span.parentSpanId === child.spanId).statusCode).toBe(2);
  }, 60_000);

  it('legate chat: one trace per turn, in one conversation, exported when the chat ends', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue({ match: isParent, reply: { text: 'FIRST' } }, { match: isParent, reply: { text: 'SECOND' } });
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const result = await runCli(['chat'], { home, cwd: work, env: tracingEnv(receiver.url), input: 'one\ntwo\n' });
    expect(result.code, result.stderr).toBe(0);
    const turns = receiver.spans.filter((span) => span.name === 'invoke_agent legate');
    expect(turns).toHaveLength(2);
    expect(turns[0]!.traceId).not.toBe(turns[1]!.traceId);
    expect(turns[0]!.attributes['gen_ai.conversation.id']).toBe(turns[1]!.attributes['gen_ai.conversation.id']);
    for (const turn of turns)
      expect(receiver.spans.filter((span) => span.parentSpanId === turn.spanId).map((span) => span.name)).toEqual(['chat parent-model']);
  }, 60_000);
});
