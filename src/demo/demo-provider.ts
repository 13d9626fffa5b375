import type { ModelRequest, Provider, ProviderEvent, ToolCall } from '../provider/types.js';
import { type DemoReply, type DemoTiming, demoModel } from './demo-model.js';

/**
 * The demo model as a `Provider` (`legate demo`): it answers in process, with no server, key or
 * network, through the same interface a wire adapter implements. Each reply waits its `delayMs`
 * (aborted with the signal, as a real call is), streams its text, then ends `done`; its usage is a
 * rough count (characters / 4).
 */
export class DemoProvider implements Provider {
  readonly wire = 'demo';
  readonly endpoint = 'built-in demo model (offline)';
  private readonly reply: (request: ModelRequest) => DemoReply;
  private calls = 0;

  constructor(timing: DemoTiming) {
    this.reply = demoModel(timing);
  }

  async *stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent> {
    const reply = this.reply(request);
    if (!(await pause(reply.delayMs ?? 0, signal))) {
      yield { type: 'error', failure: { kind: 'aborted', message: 'the demo model call was aborted', retryable: false } };
      return;
    }
    if (reply.text) yield { type: 'text.delta', text: reply.text };
    const toolCalls: ToolCall[] = (reply.toolCalls ?? []).map((call) => ({
      id: `call_demo_${++this.calls}`,
      name: call.name,
      arguments: JSON.stringify(call.arguments),
    }));
    const input = JSON.stringify(request.messages).length + request.system.length;
    yield {
      type: 'done',
      message: { role: 'assistant', content: reply.text, ...(toolCalls.length > 0 ? { toolCalls } : {}) },
      usage: { inputTokens: Math.ceil(input / 4), outputTokens: Math.ceil((reply.text.length + JSON.stringify(toolCalls).length) / 4) },
      stopReason: toolCalls.length > 0 ? 'tool_use' : 'end_turn',
      rawStopReason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
    };
  }
}

/** Wait `ms`; false if `signal` aborted first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (finished: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(finished);
    };
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
