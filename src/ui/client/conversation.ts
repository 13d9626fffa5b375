import type { ConversationEntry } from '../view-types.js';
import { el } from './dom.js';

/** A conversation as a column of entries: messages, tool calls and tool results, each as text. */
export function conversationList(entries: ConversationEntry[]): HTMLElement {
  if (entries.length === 0) return el('p', { class: 'muted' }, 'nothing checkpointed yet');
  return el('div', { id: 'conversation' }, ...entries.map(entry));
}

function entry(item: ConversationEntry): HTMLElement {
  switch (item.kind) {
    case 'message':
      return el('div', { class: `entry ${item.role}` }, el('div', { class: 'who' }, item.role), el('div', { class: 'text' }, item.text));
    case 'thinking':
      return el('div', { class: 'entry thinking' }, el('div', { class: 'who' }, 'thinking'), el('div', { class: 'text' }, item.text));
    case 'tool_call':
      return el('div', { class: 'entry tool_call' }, el('div', { class: 'who' }, `tool call · ${item.name}`), el('pre', {}, prettyJson(item.arguments)));
    case 'tool_result':
      return el(
        'div',
        { class: `entry tool_result${item.isError ? ' error' : ''}` },
        el('div', { class: 'who' }, `${item.isError ? 'tool error' : 'tool result'} · ${item.name}`),
        el('pre', {}, item.text),
      );
  }
}

/** Arguments as indented JSON when they parse, else as they came. */
function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: shown as it is
    return text;
  }
}
