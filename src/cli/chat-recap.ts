import type { Message } from '../provider/types.js';
import { oneLine } from '../tasks/output-lines.js';
import type { Palette } from './colors.js';

const noticeHeader = /^(A background task you started has ended\.|\d+ background tasks you started have ended\.)/;

/**
 * The last `turns` exchanges of a stored conversation as short transcript lines, for `chat
 * --resume`: what the user said and what legate answered (tool traffic left out, long text cut to
 * one line). Completion notices show as notices, not as the user's words.
 */
export function recapLines(messages: Message[], palette: Palette, turns = 3, width = 160): string[] {
  const starts = messages.flatMap((message, index) => (message.role === 'user' ? [index] : []));
  const from = starts.length > turns ? starts[starts.length - turns]! : 0;
  const lines: string[] = [];
  for (const message of messages.slice(from)) {
    if (message.role === 'user') {
      const notice = noticeHeader.exec(message.content);
      lines.push(notice ? palette.dim(`  ── ${notice[1]}`) : `${palette.bold(palette.green('you›'))} ${oneLine(message.content, width)}`);
    } else if (message.role === 'assistant' && message.content.trim()) {
      lines.push(`${palette.bold(palette.cyan('legate›'))} ${oneLine(message.content, width)}`);
    }
  }
  if (lines.length === 0) return [];
  const earlier = starts.length > turns ? ` (last ${turns} of ${starts.length} turns)` : '';
  return [palette.dim(`── earlier in this session${earlier} ──`), ...lines, palette.dim('──')];
}
