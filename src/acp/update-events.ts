import type * as acp from '@agentclientprotocol/sdk';
import type { AgentEvent } from '../agent/events.js';

/**
 * Translates an ACP agent's `session/update` notifications into legate's agent events, so a child
 * that is an ACP agent fills its task's output trail like a model-backed child: tool calls become
 * `tool.started` / `tool.finished`, message chunks `text.delta` (the turn's text is reported once,
 * as `model.finished`, when the prompt turn ends).
 */
export class UpdateTranslator {
  /** The agent's text in the current prompt turn. */
  text = '';
  toolCalls = 0;
  private readonly titles = new Map<string, string>();
  private readonly started = new Map<string, number>();
  private readonly finished = new Set<string>();

  constructor(private readonly emit: (event: AgentEvent) => void) {}

  /** Start a new prompt turn. */
  nextTurn(): void {
    this.text = '';
    this.toolCalls = 0;
  }

  handle(update: acp.SessionUpdate): void {
    switch (update.sessionUpdate) {
      case 'agent_message_chunk':
        if (update.content.type === 'text') {
          this.text += update.content.text;
          this.emit({ type: 'text.delta', text: update.content.text });
        }
        return;
      case 'tool_call':
        this.toolCalls++;
        this.titles.set(update.toolCallId, update.title);
        this.started.set(update.toolCallId, Date.now());
        this.emit({
          type: 'tool.started',
          callId: update.toolCallId,
          name: update.title,
          arguments: update.rawInput === undefined ? '' : JSON.stringify(update.rawInput),
        });
        this.finishIfDone(update.toolCallId, update.status, update.content, update.rawOutput);
        return;
      case 'tool_call_update':
        if (update.title) this.titles.set(update.toolCallId, update.title);
        this.finishIfDone(update.toolCallId, update.status, update.content, update.rawOutput);
        return;
      default:
        return;
    }
  }

  private finishIfDone(
    callId: string,
    status: acp.ToolCallStatus | null | undefined,
    content: acp.ToolCallContent[] | null | undefined,
    rawOutput: unknown,
  ): void {
    if ((status !== 'completed' && status !== 'failed') || this.finished.has(callId)) return;
    this.finished.add(callId);
    const text = (content ?? []).map(contentText).filter(Boolean).join('\n') || (rawOutput === undefined ? status : JSON.stringify(rawOutput));
    this.emit({
      type: 'tool.finished',
      callId,
      name: this.titles.get(callId) ?? callId,
      content: text,
      isError: status === 'failed',
      durationMs: Date.now() - (this.started.get(callId) ?? Date.now()),
    });
  }
}

function contentText(item: acp.ToolCallContent): string {
  if (item.type === 'content') return item.content.type === 'text' ? item.content.text : `[${item.content.type}]`;
  if (item.type === 'diff') return `edited ${item.path}`;
  return `[terminal ${item.terminalId}]`;
}
