import type { AgentEvent } from '../agent/events.js';

/**
 * The short form of what a child did, for its output buffer: model text, tool calls and their
 * results. Returns no lines for events that do not show there.
 */
export function outputLinesFor(event: AgentEvent): string[] {
  switch (event.type) {
    case 'model.finished': {
      // Thinking first, folded to one line each, marked as such: it is never the answer.
      const thinking = (event.reasoning ?? '')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => `✻ thinking: ${oneLine(line, 200)}`);
      const lines = event.text.trim()
        ? event.text
            .trim()
            .split('\n')
            .filter((line) => line.trim() !== '')
        : [];
      return [...thinking, ...lines, ...(event.stopReason === 'max_tokens' ? ['✂ reply cut off at the output token limit (max_tokens)'] : [])];
    }
    case 'tool.started':
      return [`→ ${event.name} ${oneLine(event.arguments, 200)}`];
    case 'tool.finished':
      return [`${event.isError ? '✗' : '←'} ${event.name}: ${oneLine(event.content, 300)}`];
    case 'steer.delivered':
      return event.messages.map((message) => `⇢ steered: ${oneLine(message, 300)}`);
    case 'context.compacted':
      return [`⇲ context compacted (${event.how}): ${event.tokensBefore} → ${event.tokensAfter} tokens, ${event.count}× in this run`];
    case 'model.retry':
      return [
        `↻ retry ${event.attempt} in ${Math.round(event.delayMs)} ms${event.discarded ? ' (partial reply discarded)' : ''}: ${oneLine(event.reason, 200)}`,
      ];
    default:
      return [];
  }
}

/** Collapse whitespace and cap, for one-line previews. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
