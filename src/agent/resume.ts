import type { Message, ToolResultMessage } from '../provider/types.js';

/** What an in-flight tool call gets when its process died before it finished. */
export const interruptedToolResult =
  'interrupted: the process running this task stopped while this tool call was running. ' +
  'Its effects are unknown: it may have completed, partly completed, or not run at all. ' +
  'Check before relying on or repeating it.';

/**
 * Make a checkpointed conversation safe to continue: tool calls of the last model reply that have
 * no result (they were running when the process died) get an error result saying so, so the model
 * decides what to do next.
 */
export function repairInterrupted(messages: readonly Message[]): Message[] {
  const repaired = [...messages];
  let replyIndex = repaired.length - 1;
  while (replyIndex >= 0 && repaired[replyIndex]!.role === 'tool') replyIndex--;
  const reply = repaired[replyIndex];
  if (!reply || reply.role !== 'assistant' || !reply.toolCalls?.length) return repaired;
  const answered = new Set(repaired.slice(replyIndex + 1).map((message) => (message as ToolResultMessage).toolCallId));
  for (const call of reply.toolCalls) {
    if (answered.has(call.id)) continue;
    repaired.push({ role: 'tool', toolCallId: call.id, name: call.name, content: interruptedToolResult, isError: true });
  }
  return repaired;
}
