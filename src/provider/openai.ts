import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { type WireRules, wireRulesFor } from './reasoning-rules.js';
import { sseJsonChunks } from './sse-chunks.js';
import type { AssistantMessage, ModelRequest, ProviderEvent, ReasoningPart, StopReason, ToolCall, Usage } from './types.js';
import type { WireAdapter } from './wire-adapter.js';
import { defineWireAdapter, type WireEnd } from './wire-stream.js';

/** The OpenAI chat-completions wire (api.openai.com and compatible servers), streaming only. */

export const defaultOpenAIBaseUrl = 'https://api.openai.com/v1';

export function createOpenAIAdapter(baseUrl: string = defaultOpenAIBaseUrl): WireAdapter {
  return defineWireAdapter({
    wire: 'openai',
    endpoint: baseUrl,
    async createClient(baseURL, apiKey, fetch): Promise<OpenAI> {
      const { default: OpenAIClient } = await import('openai');
      return new OpenAIClient({ apiKey, baseURL, maxRetries: 0, logLevel: 'off', fetch });
    },
    // The SDK makes the request (headers, auth, HTTP errors); the stream is read by sseJsonChunks.
    open: async (client, request, options) =>
      sseJsonChunks<ChatCompletionChunk>(
        await client.chat.completions.create(toOpenAIRequest(request, wireRulesFor('openai', baseUrl, request.model, request.rules)), options).asResponse(),
      ),
    read: readOpenAIStream,
  });
}

/**
 * legate's request in chat-completions form: system first, assistant tool_calls, `tool` role results;
 * reasoning sent back only as `rules.replay` says (`reasoning-rules.ts`).
 */
export function toOpenAIRequest(
  request: ModelRequest,
  rules: WireRules = wireRulesFor('openai', defaultOpenAIBaseUrl, request.model),
): ChatCompletionCreateParamsStreaming {
  const messages: ChatCompletionMessageParam[] = [];
  if (request.system) messages.push({ role: 'system', content: request.system });
  for (const message of request.messages) {
    if (message.role === 'user') {
      messages.push({ role: 'user', content: message.content });
    } else if (message.role === 'tool') {
      messages.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.content });
    } else if (message.toolCalls && message.toolCalls.length > 0) {
      messages.push({
        role: 'assistant',
        content: message.content || null,
        tool_calls: message.toolCalls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
        ...replayedReasoning(message, rules, true),
      });
    } else {
      messages.push({ role: 'assistant', content: message.content, ...replayedReasoning(message, rules, false) });
    }
  }
  const params: ChatCompletionCreateParamsStreaming = {
    model: request.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.tools.length > 0) {
    params.tools = request.tools.map((tool) => ({
      type: 'function' as const,
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
  }
  if (request.toolChoice === 'none' && params.tools) params.tool_choice = 'none';
  // `max_tokens` unless the model is one of OpenAI's reasoning models, which refuse it.
  if (request.maxTokens !== undefined) {
    if (rules.tokenParam === 'max_completion_tokens') params.max_completion_tokens = request.maxTokens;
    else params.max_tokens = request.maxTokens;
  }
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.reasoningEffort !== undefined) params.reasoning_effort = request.reasoningEffort;
  if (rules.promptCacheKey && request.cacheKey) params.prompt_cache_key = request.cacheKey;
  return params;
}

/**
 * The reasoning fields of an assistant turn, as the provider requires them back: DeepSeek's
 * `reasoning_content` on turns with tool calls (an empty one when the turn has none recorded: the
 * field must be there), OpenRouter's `reasoning_details` unchanged; nothing otherwise.
 */
function replayedReasoning(message: AssistantMessage, rules: WireRules, withToolCalls: boolean): Record<string, unknown> {
  const parts = message.reasoning ?? [];
  if (rules.replay === 'reasoning_content' && withToolCalls) {
    const text = parts.map((part) => (part.type === 'thinking' ? part.text : '')).join('');
    return { reasoning_content: text };
  }
  if (rules.replay === 'reasoning_details') {
    const details = parts.flatMap((part) => (part.type === 'reasoning_details' ? part.details : []));
    if (details.length > 0) return { reasoning_details: details };
  }
  return {};
}

/** The fields of a delta beyond the SDK's types that compatible servers send. */
interface ReasoningDelta {
  /** DeepSeek, vLLM, llama.cpp, Qwen. */
  reasoning_content?: string | null;
  /** OpenRouter, Ollama. */
  reasoning?: string | null;
  /** OpenRouter's structured reasoning (each item keyed by `index`, its text streamed in pieces). */
  reasoning_details?: Record<string, unknown>[] | null;
  /** Mistral: an array of parts, `text` and `thinking` (whose `thinking` is an array of text parts). */
  content?: string | { type?: string; text?: string; thinking?: { type?: string; text?: string }[] }[] | null;
  refusal?: string | null;
}

/** Assembles text, reasoning and tool-call deltas (keyed by index) into one message. */
async function* readOpenAIStream(stream: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<ProviderEvent, WireEnd> {
  let text = '';
  let refusal = '';
  const calls = new Map<number, ToolCall>();
  const thinking = new Map<Extract<ReasoningPart, { type: 'thinking' }>['source'], string>();
  const details: Record<string, unknown>[] = [];
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let finishReason: string | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = openAIUsage(chunk.usage);
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta as (ChatCompletionChunk.Choice.Delta & ReasoningDelta) | undefined;
      for (const [source, piece] of reasoningPieces(delta)) {
        thinking.set(source, (thinking.get(source) ?? '') + piece);
        yield { type: 'reasoning.delta', text: piece };
      }
      for (const item of delta?.reasoning_details ?? []) mergeDetail(details, item);
      const content = contentPieces(delta?.content);
      if (content) {
        text += content;
        yield { type: 'text.delta', text: content };
      }
      if (delta?.refusal) refusal += delta.refusal;
      for (const part of delta?.tool_calls ?? []) {
        const call = calls.get(part.index) ?? { id: '', name: '', arguments: '' };
        if (part.id) call.id = part.id;
        if (part.function?.name && !call.name) call.name = part.function.name;
        if (part.function?.arguments) call.arguments += part.function.arguments;
        calls.set(part.index, call);
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
  }
  if (finishReason === undefined) return { missing: 'a finish_reason' };
  const message: AssistantMessage = { role: 'assistant', content: text };
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  const reasoning: ReasoningPart[] = [...thinking.entries()].map(([source, value]) => ({ type: 'thinking', source, text: value }));
  if (details.length > 0) reasoning.push({ type: 'reasoning_details', details });
  if (reasoning.length > 0) message.reasoning = reasoning;
  // A refusal comes as `refusal` text (finish_reason `stop`) or as `content_filter`.
  if (refusal) return { type: 'done', message, usage, stopReason: 'refusal', rawStopReason: finishReason, stopDetails: refusal };
  return { type: 'done', message, usage, stopReason: openAIStopReason(finishReason), rawStopReason: finishReason };
}

/** The reasoning text pieces of one delta, by the field they came in. */
function reasoningPieces(delta: ReasoningDelta | undefined): [Extract<ReasoningPart, { type: 'thinking' }>['source'], string][] {
  const pieces: [Extract<ReasoningPart, { type: 'thinking' }>['source'], string][] = [];
  if (typeof delta?.reasoning_content === 'string' && delta.reasoning_content) pieces.push(['reasoning_content', delta.reasoning_content]);
  // OpenRouter sends `reasoning` and `reasoning_details` both: the text once, the details kept.
  if (typeof delta?.reasoning === 'string' && delta.reasoning) pieces.push(['reasoning', delta.reasoning]);
  if (Array.isArray(delta?.content)) {
    for (const part of delta.content) {
      if (part?.type !== 'thinking') continue;
      const value = (part.thinking ?? []).map((inner) => (typeof inner?.text === 'string' ? inner.text : '')).join('');
      if (value) pieces.push(['mistral', value]);
    }
  }
  return pieces;
}

/** The answer text of a delta's `content`: a string, or the `text` parts of an array (Mistral). */
function contentPieces(content: ReasoningDelta['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part?.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}

/** OpenRouter streams each reasoning detail in pieces with the same `index`: strings are joined, the rest kept. */
function mergeDetail(details: Record<string, unknown>[], item: Record<string, unknown>): void {
  const index = typeof item.index === 'number' ? item.index : details.length;
  const known = details.find((detail) => detail.index === index);
  if (!known) {
    details.push({ ...item, index });
    return;
  }
  for (const [key, value] of Object.entries(item)) {
    if (key === 'index') continue;
    if (typeof value === 'string' && typeof known[key] === 'string' && (key === 'text' || key === 'summary' || key === 'data')) known[key] += value;
    else if (value !== null && value !== undefined) known[key] = value;
  }
}

/** `length` is the token limit; `function_call` is the legacy form of `tool_calls`. */
export function openAIStopReason(finishReason: string): StopReason {
  switch (finishReason) {
    case 'stop':
      return 'end_turn';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    case 'content_filter':
      return 'refusal';
    default:
      return 'other';
  }
}

/**
 * `cached_tokens` are part of `prompt_tokens`: they are taken out, so the counts stay disjoint.
 * Reasoning tokens are part of `completion_tokens`, except where the provider's own total says they
 * are not (xAI: total = prompt + completion + reasoning): then they are added to the output.
 */
export function openAIUsage(usage: {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}): Usage {
  const cached = Math.min(usage.prompt_tokens, usage.prompt_tokens_details?.cached_tokens ?? 0);
  const reasoning = usage.completion_tokens_details?.reasoning_tokens ?? 0;
  const outside = reasoning > 0 && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens + reasoning;
  const result: Usage = { inputTokens: usage.prompt_tokens - cached, outputTokens: usage.completion_tokens + (outside ? reasoning : 0) };
  if (cached > 0) result.cacheReadTokens = cached;
  if (reasoning > 0) result.reasoningTokens = reasoning;
  return result;
}
