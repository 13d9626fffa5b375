import type { Message, Provider } from '../../provider/types.js';
import { budgetOf, type CompactionSettings, conversationTokens, cutIndex, cutLargeResult, messageTokens, pruneToolResults } from './compaction-policy.js';
import { contextLengthError } from './context-length-error.js';

/**
 * The latest compaction of a transcript: the context is the brief (`transcript[0]`), the hand-off,
 * then `transcript.slice(firstKept)`. The full transcript stays as it is (pi-mono's compaction
 * record), so resume rebuilds the context from the transcript and the latest record.
 */
export interface CompactionRecord {
  firstKept: number;
  handoff: string;
  /** Estimated tokens of the context before and after the compaction that wrote it. */
  tokensBefore?: number;
  tokensAfter?: number;
}

/** What one compaction did, for the `context.compacted` event. */
export interface CompactionReport {
  how: 'prune' | 'summarise';
  tokensBefore: number;
  tokensAfter: number;
  /** Present for a summary: the record to store (a checkpoint of its own). */
  record?: CompactionRecord;
}

export interface PreparedContext {
  messages: Message[];
  compaction?: CompactionReport;
}

/**
 * The loop's context step: asked before each model call with the full transcript, it returns the
 * messages to send. Never throws; a failure to fit is `{ overflow: message }`.
 */
export type PrepareContext = (
  transcript: readonly Message[],
  signal: AbortSignal,
  /** Set when the last call with the context this returned failed with a context-length error (its text): compact harder. */
  rejected?: string,
) => Promise<PreparedContext | { overflow: string }>;

export interface CompactingContextOptions extends CompactionSettings {
  provider: Provider;
  /** The model that writes the hand-off (`compaction.model`, default the task's own). */
  model: string;
  /** A record loaded from the store (resume): the context continues from it. */
  latest?: CompactionRecord;
  /** Called with each new record before the call that uses it: store it as a checkpoint of its own (docs/compaction.md). */
  onRecord?: (record: CompactionRecord) => void;
  /** Called with the window a provider's context-length error taught (remember it for the process). */
  onLearned?: (window: number) => void;
  /**
   * A note appended to each hand-off, in the record (so it is as durable): a parent's list of the
   * tasks it started, with their status, so no task handle is lost to a summary. Undefined: none.
   */
  note?: (signal: AbortSignal) => Promise<string | undefined>;
}

export const handoffPrompt =
  'Write a hand-off of the conversation above for whoever continues this task without seeing it. ' +
  'Sections: Goal, Constraints, Progress, Decisions, Files read, Files changed, Open task ids (every task started and its status), Next steps. ' +
  'Be specific and brief; do not call tools.';

/** The hand-off as the model reads it after a compaction. */
export function handoffTurn(handoff: string): Message {
  return { role: 'user', content: `[Context compacted: earlier turns were replaced by this hand-off.]\n${handoff}` };
}

/** The context of `transcript` under `record`. */
export function contextOf(transcript: readonly Message[], record: CompactionRecord | undefined): Message[] {
  if (!record || record.firstKept >= transcript.length + 1 || transcript.length === 0) return [...transcript];
  return [transcript[0]!, handoffTurn(record.handoff), ...transcript.slice(record.firstKept)];
}

/** Prune, then summarise (one model call) when still over the threshold. */
export function compactingContext(options: CompactingContextOptions): PrepareContext {
  let latest = options.latest;
  let budget = budgetOf(options);
  return async (transcript, signal, rejected) => {
    const full = contextOf(transcript, latest);
    const before = conversationTokens(full);
    if (rejected !== undefined) {
      // Learned from the provider: its limit when it names one, else below what was just sent.
      const limit = contextLengthError(rejected)?.limit;
      const window = limit !== undefined ? Math.min(limit, options.contextWindow) : Math.floor(before * 0.9) + options.reserveTokens;
      budget = Math.min(budget, budgetOf({ ...options, contextWindow: window }), Math.floor(before * 0.9));
      options.onLearned?.(window);
    }
    if (before <= budget) return { messages: full };
    const perResult = Math.max(1, Math.floor(budget / 2));
    const pruned = pruneToolResults(full, options.keepToolTokens).map((m) => (m.role === 'tool' ? { ...m, content: cutLargeResult(m.content, perResult) } : m));
    const afterPrune = conversationTokens(pruned);
    if (afterPrune <= budget) return { messages: pruned, compaction: { how: 'prune', tokensBefore: before, tokensAfter: afterPrune } };

    const offset = latest ? latest.firstKept : 1;
    const visibleCut = cutIndex(pruned, options.keepRecentTokens);
    const brief = transcript[0];
    if (!brief || messageTokens(brief) > budget) {
      return { overflow: 'context_overflow: the brief alone does not fit the context window; shorten the brief or use a model with a larger context_window' };
    }
    if (visibleCut === undefined)
      return { overflow: `context_overflow: the newest turn alone (${afterPrune} tokens) does not fit the budget of ${budget} tokens` };
    // Indexes of `pruned` past the brief (and the hand-off, when there is one) map back to the transcript.
    const headLength = latest ? 2 : 1;
    const firstKept = offset + (visibleCut - headLength);
    const summary = await writeHandoff(options, pruned.slice(0, visibleCut), signal);
    if (summary === undefined) return { overflow: 'context_overflow: the hand-off summary call failed' };
    const note = await options.note?.(signal).catch(() => undefined);
    const handoff = note ? `${summary}\n\n${note}` : summary;
    const record: CompactionRecord = { firstKept, handoff };
    const messages = pruneToolResults(contextOf(transcript, record), options.keepToolTokens);
    const after = conversationTokens(messages);
    if (after > budget) return { overflow: `context_overflow: after compaction the context is still ${after} tokens, over the budget of ${budget}` };
    latest = { ...record, tokensBefore: before, tokensAfter: after };
    options.onRecord?.(latest);
    return { messages, compaction: { how: 'summarise', tokensBefore: before, tokensAfter: after, record: latest } };
  };
}

async function writeHandoff(options: CompactingContextOptions, dropped: Message[], signal: AbortSignal): Promise<string | undefined> {
  // The dropped turns as text: no tool pairing to keep, no tool specs needed.
  const request = {
    model: options.model,
    system: 'You summarise an agent conversation into a hand-off.',
    messages: [{ role: 'user' as const, content: `<conversation>\n${renderTranscript(dropped)}\n</conversation>\n\n${handoffPrompt}` }],
    tools: [],
  };
  for await (const event of options.provider.stream(request, signal)) {
    if (event.type === 'error') return undefined;
    if (event.type === 'done') return event.message.content.trim() || undefined;
  }
  return undefined;
}

/** A transcript as plain text, one block per message. Reasoning parts are not rendered (they go with their turns). */
export function renderTranscript(messages: readonly Message[]): string {
  return messages
    .map((message) => {
      if (message.role === 'tool') return `[tool result ${message.name}${message.isError ? ' (error)' : ''}]\n${message.content}`;
      if (message.role === 'assistant') {
        const calls = (message.toolCalls ?? []).map((call) => `[tool call ${call.name} ${call.arguments}]`).join('\n');
        return `[assistant]\n${message.content}${calls ? `\n${calls}` : ''}`;
      }
      return `[user]\n${message.content}`;
    })
    .join('\n\n');
}
