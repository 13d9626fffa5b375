import type { Message } from '../provider/types.js';
import type { Checkpoint } from '../tasks/store/task-store.js';

/**
 * `legate tasks show ID --transcript`: a task's full conversation as its checkpoint log holds it,
 * the brief first (message 0), every message numbered as the compaction records count them, and a
 * marker where each compaction happened saying what it replaced and its hand-off. Nothing a
 * compaction dropped from the model's context is missing here.
 */
export function transcriptLines(brief: string, checkpoint: Checkpoint): string[] {
  const lines: string[] = [];
  const compactions = checkpoint.compactions ?? [];
  let next = 0;
  const markersUpTo = (at: number): void => {
    while (next < compactions.length && compactions[next]!.at <= at) {
      const compaction = compactions[next++]!;
      const tokens =
        compaction.tokensBefore !== undefined && compaction.tokensAfter !== undefined
          ? `, context ~${compaction.tokensBefore} → ~${compaction.tokensAfter} tokens`
          : '';
      lines.push(
        `══ compaction ${next} (after message #${compaction.at})${tokens}: from here the model sees the brief, this hand-off, ` +
          `then messages #${compaction.firstKept} on ══`,
        compaction.handoff,
        '══ end of hand-off ══',
        '',
      );
    }
  };
  lines.push('── #0 user (brief)', brief, '');
  checkpoint.messages.forEach((message, index) => {
    markersUpTo(index);
    lines.push(...messageLines(message, index + 1), '');
  });
  markersUpTo(Number.MAX_SAFE_INTEGER);
  return lines;
}

function messageLines(message: Message, number: number): string[] {
  if (message.role === 'tool') return [`── #${number} tool result ${message.name}${message.isError ? ' (error)' : ''}`, message.content];
  if (message.role === 'assistant') {
    const calls = (message.toolCalls ?? []).map((call) => `→ ${call.name} ${call.arguments}`);
    return [`── #${number} assistant`, ...(message.content ? [message.content] : []), ...calls];
  }
  return [`── #${number} user`, message.content];
}
