import { z } from 'zod';

/**
 * The one definition of a conversation message: these schemas, from which `provider/types.ts`
 * derives `Message` and its parts, and with which a store validates what it loads. A field added
 * here is in the type and survives a store round trip (resume); there is no second list to forget.
 */

/** A tool call as the model produced it. `arguments` is the raw JSON text, unparsed. */
export const toolCallSchema = z.object({ id: z.string(), name: z.string(), arguments: z.string() });

export const userMessageSchema = z.object({ role: z.literal('user'), content: z.string() });

/**
 * A reasoning part of an assistant message, as the provider sent it (kept so it can go back the way
 * the provider requires: `reasoning-rules.ts`). Never part of the answer.
 * - `thinking`: readable reasoning. `source` says which field it came in: Anthropic `thinking` blocks
 *   (with their `signature`, opaque, byte for byte), OpenAI-compatible `reasoning_content` (DeepSeek,
 *   vLLM…) or `reasoning` (OpenRouter, Ollama…), Mistral `thinking` content parts.
 * - `redacted_thinking`: Anthropic's encrypted reasoning (`data`, opaque).
 * - `reasoning_details`: OpenRouter's structured reasoning, the provider's objects unchanged.
 * `at`: how many of the message's tool calls came before it (Anthropic's block order; 0 = first).
 */
export const reasoningPartSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('thinking'),
    source: z.enum(['anthropic', 'reasoning_content', 'reasoning', 'mistral']),
    text: z.string(),
    signature: z.string().optional(),
    at: z.number().int().min(0).optional(),
  }),
  z.object({ type: z.literal('redacted_thinking'), data: z.string(), at: z.number().int().min(0).optional() }),
  z.object({ type: z.literal('reasoning_details'), details: z.array(z.unknown()) }),
]);

export const assistantMessageSchema = z.object({
  role: z.literal('assistant'),
  content: z.string(),
  toolCalls: z.array(toolCallSchema).optional(),
  reasoning: z.array(reasoningPartSchema).optional(),
});

export const toolResultMessageSchema = z.object({
  role: z.literal('tool'),
  toolCallId: z.string(),
  name: z.string(),
  content: z.string(),
  isError: z.boolean().optional(),
});

/** A conversation message in legate's wire-neutral form. */
export const messageSchema = z.discriminatedUnion('role', [userMessageSchema, assistantMessageSchema, toolResultMessageSchema]);
