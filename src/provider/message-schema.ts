import { z } from 'zod';

/**
 * The one definition of a conversation message: these schemas, from which `provider/types.ts`
 * derives `Message` and its parts, and with which a store validates what it loads. A field added
 * here is in the type and survives a store round trip (resume); there is no second list to forget.
 */

/** A tool call as the model produced it. `arguments` is the raw JSON text, unparsed. */
export const toolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.string() });

export const userMessageSchema = z.object({ role: z.literal('user'), content: z.string() });

export const assistantMessageSchema = z.object({ role: z.literal('assistant'), content: z.string(), toolCalls: z.array(toolCallSchema).optional() });

export const toolResultMessageSchema = z.object({
  role: z.literal('tool'),
  toolCallId: z.string(),
  name: z.string(),
  content: z.string(),
  isError: z.boolean().optional(),
});

/** A conversation message in legate's wire-neutral form. */
export const messageSchema = z.discriminatedUnion('role', [userMessageSchema, assistantMessageSchema, toolResultMessageSchema]);
