import { z } from 'zod';
import { LegateError } from '../../errors.js';
import { messageSchema } from '../../provider/message-schema.js';
import type { Message } from '../../provider/types.js';

/**
 * The shapes a store keeps as JSON (checkpointed steps, sessions' conversations) and their
 * validation on load: a damaged row is a `store_corrupt` error naming the task or session, never a
 * malformed conversation reaching the loop. Each stored conversation carries the `format` it was
 * written in: format 1 is a plain `Message[]`; format 2 (now written) adds the reasoning parts of
 * assistant messages (`reasoning`). A backend writes `storedFormat` and reads with
 * `parseStoredMessages`, which reads both: a format-1 conversation is a format-2 one without reasoning.
 */
export const storedFormat = 2;

/** The formats this legate reads. */
export const readableFormats: readonly number[] = [1, 2];

// The message schema is the one definition of `Message` (provider/message-schema.ts).
const messages = z.array(messageSchema);

/**
 * `json` (stored in `format`) as a conversation, or `store_corrupt` naming `where` (for example
 * `task "t_1" checkpoint step 3`) and what is wrong.
 */
export function parseStoredMessages(json: unknown, format: number, where: string): Message[] {
  if (!readableFormats.includes(format)) {
    throw new LegateError('store_corrupt', `${where} was stored in format ${format}; this legate reads formats ${readableFormats.join(' and ')}`, {
      where,
      format,
    });
  }
  let value: unknown;
  try {
    value = typeof json === 'string' ? JSON.parse(json) : json;
  } catch (error) {
    throw new LegateError('store_corrupt', `${where} is not valid JSON: ${(error as Error).message}`, { where });
  }
  const parsed = messages.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LegateError('store_corrupt', `${where} is not a valid conversation: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { where });
  }
  return parsed.data;
}
