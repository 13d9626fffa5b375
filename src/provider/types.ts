/**
 * The narrow provider interface: one `stream(request, signal)` per wire. Everything above this
 * file speaks these types only; the wire adapters translate to and from OpenAI chat completions
 * and Anthropic Messages.
 */

import type { z } from 'zod';
import type {
  assistantMessageSchema,
  messageSchema,
  reasoningPartSchema,
  toolCallSchema,
  toolResultMessageSchema,
  userMessageSchema,
} from './message-schema.js';
import type { WireRuleOverrides } from './reasoning-rules.js';

/** A tool call as the model produced it. `arguments` is the raw JSON text, unparsed. */
export type ToolCall = z.infer<typeof toolCallSchema>;
export type UserMessage = z.infer<typeof userMessageSchema>;
export type AssistantMessage = z.infer<typeof assistantMessageSchema>;
export type ReasoningPart = z.infer<typeof reasoningPartSchema>;
export type ToolResultMessage = z.infer<typeof toolResultMessageSchema>;
/** A conversation message in legate's wire-neutral form (defined once, by its schema in `message-schema.ts`). */
export type Message = z.infer<typeof messageSchema>;

/** A tool as the model sees it: a JSON Schema object for its parameters. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ModelRequest {
  model: string;
  system: string;
  messages: Message[];
  tools: ToolSpec[];
  /**
   * Upper bound on output tokens. Absent: OpenAI sends none (the model's own limit); Anthropic,
   * which requires one, uses `anthropicMaxTokensFor(model)`.
   */
  maxTokens?: number;
  temperature?: number;
  /** `none`: the tools stay defined (the history may hold calls) but the model may not call one. */
  toolChoice?: 'none';
  /** Ask for reasoning (OpenAI `reasoning_effort`, Anthropic `thinking`). Absent: the model's default. */
  reasoningEffort?: ReasoningEffort;
  /** Anthropic `cache_control` breakpoints (default on); `false`: none. */
  promptCache?: boolean;
  /** A key shared by the calls of one task tree, for providers that route by it (OpenAI `prompt_cache_key`). */
  cacheKey?: string;
  /** The endpoint's overrides of the per-provider rules (`reasoning-rules.ts`). */
  rules?: WireRuleOverrides;
}

export const reasoningEfforts = ['minimal', 'low', 'medium', 'high'] as const;
export type ReasoningEffort = (typeof reasoningEfforts)[number];

/**
 * Tokens of one or more model calls. The three input counts are disjoint, so each can be priced on
 * its own: `inputTokens` read at the full price, `cacheReadTokens` served from the provider's prompt
 * cache (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`), `cacheWriteTokens` written
 * to it (Anthropic `cache_creation_input_tokens`). The cache counts are absent when zero (and in
 * records stored before they existed): read them with `?? 0`.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Of `outputTokens`, those spent reasoning (OpenAI `reasoning_tokens`); absent when zero or unknown. */
  reasoningTokens?: number;
  /** Bytes the web tools fetched (not tokens: no budget or price counts them). */
  fetchedBytes?: number;
}

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0 });

/** The sum; the cache counts and the bytes fetched appear only when non-zero. */
export function addUsage(a: Usage, b: Usage): Usage {
  const sum: Usage = { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
  const cacheRead = (a.cacheReadTokens ?? 0) + (b.cacheReadTokens ?? 0);
  const cacheWrite = (a.cacheWriteTokens ?? 0) + (b.cacheWriteTokens ?? 0);
  if (cacheRead > 0) sum.cacheReadTokens = cacheRead;
  if (cacheWrite > 0) sum.cacheWriteTokens = cacheWrite;
  const reasoning = (a.reasoningTokens ?? 0) + (b.reasoningTokens ?? 0);
  if (reasoning > 0) sum.reasoningTokens = reasoning;
  const fetched = (a.fetchedBytes ?? 0) + (b.fetchedBytes ?? 0);
  if (fetched > 0) sum.fetchedBytes = fetched;
  return sum;
}

/** Every input token, cached or not, plus the output. */
export function totalTokens(usage: Usage): number {
  return usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0) + usage.outputTokens;
}

/**
 * Why the model stopped, the same on both wires. `max_tokens`: the reply was cut off at the output
 * token limit (OpenAI `finish_reason: "length"`, Anthropic `stop_reason: "max_tokens"`), so its text
 * is incomplete and its tool calls may have broken arguments: never a final answer. `refusal`: the
 * model declined (Anthropic `refusal`, OpenAI `refusal` text or `content_filter`). `pause_turn`:
 * Anthropic paused a long turn; sent back as it is, the model continues it. `context_full`: the
 * context window ran out (Anthropic `model_context_window_exceeded`), not the output limit.
 */
export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'refusal' | 'pause_turn' | 'context_full' | 'other';

/** Why a provider call failed. `retryable` is what the retry policy consults. */
export interface ProviderFailure {
  /** `http` (a status code came back), `network`, `stream` (cut or malformed mid-stream), `aborted`, `no_keys`. */
  kind: 'http' | 'network' | 'stream' | 'aborted' | 'no_keys';
  message: string;
  status?: number;
  retryable: boolean;
}

/**
 * What a provider stream yields: zero or more `text.delta` (and `retry`), then exactly one final
 * event, `done` or `error`. A stream never throws once iteration has started.
 */
export type ProviderEvent =
  | { type: 'text.delta'; text: string }
  /** Reasoning text as it streams (never part of the answer). */
  | { type: 'reasoning.delta'; text: string }
  /**
   * The call goes on with another attempt. `discarded`: the failed attempt had streamed text, and
   * that partial reply is dropped (the retry streams the reply again from its start).
   */
  | { type: 'retry'; attempt: number; delayMs: number; reason: string; discarded?: boolean }
  /** `rawStopReason` is the wire's own value (`stop`, `length`, `end_turn`…), for logs. */
  /** `stopDetails`: the provider's explanation of a refusal (Anthropic `stop_details`, OpenAI `refusal`). */
  | { type: 'done'; message: AssistantMessage; usage: Usage; stopReason: StopReason; rawStopReason: string; stopDetails?: string }
  | { type: 'error'; failure: ProviderFailure };

export interface Provider {
  /** `openai` or `anthropic` (the wire), for logs and `doctor`. */
  readonly wire: string;
  /** The endpoint this provider talks to (base URL), for logs and `doctor`. Never contains a key. */
  readonly endpoint: string;
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent>;
}

/** Drain a stream to its final event. */
export async function complete(provider: Provider, request: ModelRequest, signal: AbortSignal): Promise<Extract<ProviderEvent, { type: 'done' | 'error' }>> {
  for await (const event of provider.stream(request, signal)) {
    if (event.type === 'done' || event.type === 'error') return event;
  }
  return { type: 'error', failure: { kind: 'stream', message: 'stream ended without a final event', retryable: false } };
}
