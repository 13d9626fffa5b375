import type { Message, ToolCall } from '../../provider/types.js';

/**
 * Compaction policy: pure functions over a conversation, no IO. The shape follows pi-mono's
 * compaction (a reserve for output below the window, the newest turns kept by token count, never a
 * cut between a tool call and its result). The brief (the first message) is always kept verbatim.
 */

/** Rough tokens of a text: 4 characters a token, the usual estimate for English and code. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function messageTokens(message: Message): number {
  const calls = message.role === 'assistant' ? (message.toolCalls ?? []).reduce((sum, call) => sum + call.name.length + call.arguments.length, 0) : 0;
  return estimateTokens(message.content) + Math.ceil(calls / 4) + 4;
}

export function conversationTokens(messages: readonly Message[]): number {
  return messages.reduce((sum, message) => sum + messageTokens(message), 0);
}

export interface CompactionSettings {
  /** The model's context window, tokens. */
  contextWindow: number;
  /** Tokens kept free for the reply (and the system prompt and tool specs). */
  reserveTokens: number;
  /** Fraction of `contextWindow - reserveTokens` past which compaction runs (0 < threshold <= 1). */
  threshold: number;
  /** Tool-result tokens, newest first, that pruning leaves whole. */
  keepToolTokens: number;
  /** Tokens of the newest turns a summary keeps verbatim. */
  keepRecentTokens: number;
}

/** The token budget the conversation must stay under. */
export function budgetOf(settings: CompactionSettings): number {
  return Math.floor((settings.contextWindow - settings.reserveTokens) * settings.threshold);
}

/** A legal cut: `messages.slice(index)` starts with no tool result (so no result loses its call). */
export function isLegalCut(messages: readonly Message[], index: number): boolean {
  return index >= 1 && index <= messages.length && messages[index]?.role !== 'tool';
}

/** A task id as `newTaskId` writes it (`t_` and 8 hex digits). */
const taskIdPattern = /\bt_[0-9a-f]{8}\b/g;

/**
 * Older tool results beyond the newest `keepToolTokens` of them become one line naming the tool,
 * its arguments and the size dropped (and the ids of the tasks it named). The call/result pairing is untouched (only contents change).
 */
export function pruneToolResults(messages: readonly Message[], keepToolTokens: number): Message[] {
  const calls = new Map<string, ToolCall>();
  for (const message of messages) if (message.role === 'assistant') for (const call of message.toolCalls ?? []) calls.set(call.id, call);
  let kept = 0;
  const out = [...messages];
  for (let i = out.length - 1; i >= 0; i--) {
    const message = out[i]!;
    if (message.role !== 'tool' || message.content.startsWith('[pruned: ')) continue;
    const tokens = estimateTokens(message.content);
    if (kept + tokens <= keepToolTokens) {
      kept += tokens;
      continue;
    }
    kept = keepToolTokens; // everything older is pruned too
    const args = calls.get(message.toolCallId)?.arguments ?? '';
    const shownArgs = args.length > 200 ? `${args.slice(0, 200)}…` : args;
    // A result naming tasks (a delegation tool's) keeps their ids: a parent never loses a task handle to pruning.
    const tasks = [...new Set(message.content.match(taskIdPattern) ?? [])];
    const then = tasks.length > 0 ? `it named tasks ${tasks.join(', ')} (check_task or collect_task reads them)` : 'call it again if you need them';
    out[i] = { ...message, content: `[pruned: ${message.name} ${shownArgs} returned ${message.content.length} characters; ${then}]` };
  }
  return out;
}

/**
 * Where a summary's cut goes: the smallest legal index whose suffix fits in `keepRecentTokens`
 * (at least the last turn is kept). Undefined when no cut drops anything (only the brief precedes it).
 */
export function cutIndex(messages: readonly Message[], keepRecentTokens: number): number | undefined {
  let tokens = 0;
  let best: number | undefined;
  for (let i = messages.length - 1; i >= 1; i--) {
    tokens += messageTokens(messages[i]!);
    if (!isLegalCut(messages, i)) continue;
    if (best === undefined || tokens <= keepRecentTokens) best = i;
    if (tokens > keepRecentTokens) break;
  }
  return best !== undefined && best > 1 ? best : undefined;
}

/**
 * A single tool result too large for `maxTokens`: head and tail kept, a marker in between naming
 * what was cut.
 */
export function cutLargeResult(content: string, maxTokens: number): string {
  const maxChars = maxTokens * 4;
  if (content.length <= maxChars) return content;
  const half = Math.floor(maxChars / 2);
  return `${content.slice(0, half)}\n[… ${content.length - 2 * half} characters cut: the result was too large for the context window …]\n${content.slice(-half)}`;
}
