import type Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, MessageCreateParamsStreaming, MessageParam, RawMessageStreamEvent, Tool } from '@anthropic-ai/sdk/resources/messages';
import type { AssistantMessage, ModelRequest, ProviderEvent, StopReason, ToolCall, Usage } from './types.js';
import type { WireAdapter } from './wire-adapter.js';
import { defineWireAdapter, type WireEnd } from './wire-stream.js';

/** The Anthropic Messages wire, streaming. `baseUrl` is the API root: the SDK appends `/v1/messages`. */

export const defaultAnthropicBaseUrl = 'https://api.anthropic.com';

/**
 * The Messages API requires `max_tokens`. Unless configured (`model.max_tokens`), each model gets
 * its family's output limit where that is small (Claude 3: 4096, Claude 3.5: 8192) and 16384
 * otherwise (Claude 3.7 and 4 allow 32k–64k; 16k keeps a runaway reply bounded).
 */
export function anthropicMaxTokensFor(model: string): number {
  if (/claude-(instant|2)|claude-3-(opus|sonnet|haiku)/.test(model)) return 4096;
  if (/claude-3[-.]5/.test(model)) return 8192;
  return 16_384;
}

export function createAnthropicAdapter(baseUrl: string = defaultAnthropicBaseUrl): WireAdapter {
  return defineWireAdapter({
    wire: 'anthropic',
    endpoint: baseUrl,
    async createClient(baseURL, apiKey, fetch): Promise<Anthropic> {
      const { default: AnthropicClient } = await import('@anthropic-ai/sdk');
      return new AnthropicClient({ apiKey, baseURL, maxRetries: 0, logLevel: 'off', fetch });
    },
    open: (client, request, signal) => client.messages.create(toAnthropicRequest(request), { signal }),
    read: readAnthropicStream,
  });
}

/**
 * legate's request in Messages form: system top-level, assistant tool calls as `tool_use` blocks,
 * consecutive tool results (and a user message right after them) merged into ONE user message.
 */
export function toAnthropicRequest(request: ModelRequest): MessageCreateParamsStreaming {
  const messages: MessageParam[] = [];
  let toolResults: ContentBlockParam[] | undefined;
  for (const message of request.messages) {
    if (message.role === 'tool') {
      if (!toolResults) {
        toolResults = [];
        messages.push({ role: 'user', content: toolResults });
      }
      const block: ContentBlockParam = { type: 'tool_result', tool_use_id: message.toolCallId, content: message.content };
      if (message.isError) block.is_error = true;
      toolResults.push(block);
      continue;
    }
    if (message.role === 'user') {
      if (toolResults) toolResults.push({ type: 'text', text: message.content });
      else messages.push({ role: 'user', content: message.content });
    } else {
      const content: ContentBlockParam[] = [];
      if (message.content) content.push({ type: 'text', text: message.content });
      for (const call of message.toolCalls ?? []) {
        content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.arguments) });
      }
      // The API rejects empty assistant turns; dropping one loses nothing.
      if (content.length > 0) messages.push({ role: 'assistant', content });
    }
    toolResults = undefined;
  }
  const params: MessageCreateParamsStreaming = {
    model: request.model,
    max_tokens: request.maxTokens ?? anthropicMaxTokensFor(request.model),
    messages,
    stream: true,
  };
  if (request.system) params.system = request.system;
  if (request.tools.length > 0) {
    params.tools = request.tools.map((tool): Tool => ({ name: tool.name, description: tool.description, input_schema: tool.parameters as Tool.InputSchema }));
    if (request.toolChoice === 'none') params.tool_choice = { type: 'none' };
  }
  // Not in this SDK's types (newer models fix it), but sent when a caller asks for it.
  if (request.temperature !== undefined) (params as { temperature?: number }).temperature = request.temperature;
  return params;
}

/** `tool_use.input` must be an object; arguments the model sent malformed are replayed as `{}`. */
function parseInput(json: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json || '{}');
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    // not JSON: no input (the tool's validation says what is missing)
    return {};
  }
}

/** Assembles text and `tool_use` blocks into one message. */
async function* readAnthropicStream(stream: AsyncIterable<RawMessageStreamEvent>): AsyncGenerator<ProviderEvent, WireEnd> {
  let text = '';
  const calls = new Map<number, ToolCall & { initialInput: unknown }>();
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let stopReason = 'end_turn';
  let stopped = false;
  for await (const event of stream) {
    switch (event.type) {
      case 'message_start':
        readAnthropicUsage(usage, event.message.usage);
        break;
      case 'content_block_start':
        if (event.content_block.type === 'tool_use') {
          const block = event.content_block;
          calls.set(event.index, { id: block.id, name: block.name, arguments: '', initialInput: block.input });
        }
        break;
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') {
          text += event.delta.text;
          yield { type: 'text.delta', text: event.delta.text };
        } else if (event.delta.type === 'input_json_delta') {
          const call = calls.get(event.index);
          if (call) call.arguments += event.delta.partial_json;
        }
        break;
      case 'message_delta':
        if (event.delta.stop_reason) stopReason = event.delta.stop_reason;
        // Cumulative counts: the last message_delta holds the totals.
        readAnthropicUsage(usage, event.usage);
        break;
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  if (!stopped) return { missing: 'message_stop' };
  const message: AssistantMessage = { role: 'assistant', content: text };
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call]): ToolCall => ({ id: call.id, name: call.name, arguments: call.arguments || JSON.stringify(call.initialInput ?? {}) }));
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  return { type: 'done', message, usage, stopReason: anthropicStopReason(stopReason), rawStopReason: stopReason };
}

/** `model_context_window_exceeded` is also a reply cut off for lack of room. */
export function anthropicStopReason(stopReason: string): StopReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'end_turn';
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'max_tokens';
    case 'refusal':
      return 'refusal';
    default:
      return 'other';
  }
}

/**
 * Copies the counts an event carries (message_start has all; message_delta's are cumulative and
 * may omit the input ones). Anthropic's three input counts are already disjoint.
 */
function readAnthropicUsage(
  usage: Usage,
  from: { input_tokens?: number | null; output_tokens?: number | null; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null },
): void {
  if (from.input_tokens != null) usage.inputTokens = from.input_tokens;
  if (from.output_tokens != null) usage.outputTokens = from.output_tokens;
  if (from.cache_read_input_tokens) usage.cacheReadTokens = from.cache_read_input_tokens;
  if (from.cache_creation_input_tokens) usage.cacheWriteTokens = from.cache_creation_input_tokens;
}
