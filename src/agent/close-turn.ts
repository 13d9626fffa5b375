import type { Message, ToolResultMessage } from '../provider/types.js';
import type { RunResult } from './events.js';

/**
 * The conversation after a turn that ended without an answer (failed, cancelled), closed so the
 * next turn's request is well formed: tool calls left without results get an error result each, and
 * a user message left unanswered (the model call failed) gets an assistant note saying so, instead
 * of the next user message following it (two user turns in a row). A completed turn is unchanged.
 */
export function closeTurn(result: RunResult): Message[] {
  if (result.status === 'completed') return result.messages;
  const messages = [...result.messages];
  const why = result.status === 'cancelled' ? 'the turn was cancelled' : `the turn failed: ${result.error ?? result.exitReason}`;
  const last = messages.at(-1);
  if (last?.role === 'assistant' && last.toolCalls && last.toolCalls.length > 0) {
    messages.push(
      ...last.toolCalls.map((call): ToolResultMessage => ({ role: 'tool', toolCallId: call.id, name: call.name, content: `not run: ${why}`, isError: true })),
    );
  }
  if (messages.at(-1)?.role !== 'assistant') messages.push({ role: 'assistant', content: `[no answer: ${why}]` });
  return messages;
}
