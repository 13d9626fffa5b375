import type { AssistantMessage } from './types.js';

/** The readable reasoning of an assistant message, each part on its own line; `[redacted thinking]` for encrypted parts. */
export function reasoningText(message: AssistantMessage): string {
  return (message.reasoning ?? [])
    .map((part) => {
      if (part.type === 'thinking') return part.text.trim();
      if (part.type === 'redacted_thinking') return '[redacted thinking]';
      const texts = part.details.map((detail) =>
        detail && typeof detail === 'object'
          ? ((detail as { text?: unknown; summary?: unknown }).text ?? (detail as { summary?: unknown }).summary)
          : undefined,
      );
      return texts
        .filter((value): value is string => typeof value === 'string')
        .join('')
        .trim();
    })
    .filter((text, index, all) => text !== '' && all.indexOf(text) === index)
    .join('\n');
}
