import type OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionCreateParamsStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AssistantMessage, ModelRequest, ProviderEvent, StopReason, ToolCall, Usage } from './types.js';
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
    open: (client, request, signal) => client.chat.completions.create(toOpenAIRequest(request), { signal }),
    read: readOpenAIStream,
  });
}

/** legate's request in chat-completions form: system first, assistant tool_calls, `tool` role results. */
export function toOpenAIRequest(request: ModelRequest): ChatCompletionCreateParamsStreaming {
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
      });
    } else {
      messages.push({ role: 'assistant', content: message.content });
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
  // `max_tokens` rather than `max_completion_tokens`: the one every compatible server accepts.
  if (request.maxTokens !== undefined) params.max_tokens = request.maxTokens;
  if (request.temperature !== undefined) params.temperature = request.temperature;
  return params;
}

/** Assembles text and tool-call deltas (keyed by index) into one message. */
async function* readOpenAIStream(stream: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<ProviderEvent, WireEnd> {
  let text = '';
  const calls = new Map<number, ToolCall>();
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let finishReason: string | undefined;
  for await (const chunk of stream) {
    if (chunk.usage) usage = openAIUsage(chunk.usage);
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta;
      if (delta?.content) {
        text += delta.content;
        yield { type: 'text.delta', text: delta.content };
      }
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
  return { type: 'done', message, usage, stopReason: openAIStopReason(finishReason), rawStopReason: finishReason };
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

/** `cached_tokens` are part of `prompt_tokens`: they are taken out, so the counts stay disjoint. */
function openAIUsage(usage: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } | null }): Usage {
  const cached = Math.min(usage.prompt_tokens, usage.prompt_tokens_details?.cached_tokens ?? 0);
  const result: Usage = { inputTokens: usage.prompt_tokens - cached, outputTokens: usage.completion_tokens };
  if (cached > 0) result.cacheReadTokens = cached;
  return result;
}
