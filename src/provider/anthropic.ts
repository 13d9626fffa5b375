import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { abortFailure, startFailure, streamFailure, truncatedFailure } from './classify-failure.js';
import type { AssistantMessage, ModelRequest, ProviderEvent, ToolCall, Usage } from './types.js';
import type { AttemptOptions, WireAdapter } from './wire-adapter.js';
import { clientCache } from './client-cache.js';

/** The Anthropic Messages wire, streaming. `baseUrl` is the API root: the SDK appends `/v1/messages`. */

export const defaultAnthropicBaseUrl = 'https://api.anthropic.com';
export const defaultAnthropicMaxTokens = 4096;

/** One SDK client per (endpoint, key), shared by every adapter in the process. */
const clientFor = clientCache((baseUrl, apiKey) => new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0, logLevel: 'off' }));

export function createAnthropicAdapter(baseUrl: string = defaultAnthropicBaseUrl): WireAdapter {
  return {
    wire: 'anthropic',
    endpoint: baseUrl,
    async attempt(request: ModelRequest, options: AttemptOptions): Promise<AsyncIterable<ProviderEvent>> {
      const client = clientFor(baseUrl, options.apiKey);
      try {
        const stream = await client.messages.create(toAnthropicRequest(request), { signal: options.signal });
        options.onActivity?.();
        return readAnthropicStream(stream, options);
      } catch (error) {
        throw startFailure(error, options.signal);
      }
    },
  };
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
    max_tokens: request.maxTokens ?? defaultAnthropicMaxTokens,
    messages,
    stream: true,
  };
  if (request.system) params.system = request.system;
  if (request.tools.length > 0) {
    params.tools = request.tools.map(
      (tool): Tool => ({ name: tool.name, description: tool.description, input_schema: tool.parameters as Tool.InputSchema }),
    );
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
    return {};
  }
}

/** Assembles text and `tool_use` blocks into one message; never throws. */
async function* readAnthropicStream(
  stream: AsyncIterable<RawMessageStreamEvent>,
  options: AttemptOptions,
): AsyncGenerator<ProviderEvent> {
  let text = '';
  const calls = new Map<number, ToolCall & { initialInput: unknown }>();
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let stopReason = 'end_turn';
  let stopped = false;
  try {
    for await (const event of stream) {
      options.onActivity?.();
      switch (event.type) {
        case 'message_start': {
          const u = event.message.usage;
          usage.inputTokens = u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
          usage.outputTokens = u.output_tokens;
          break;
        }
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
          usage.outputTokens = event.usage.output_tokens;
          if (event.usage.input_tokens != null) {
            usage.inputTokens =
              event.usage.input_tokens + (event.usage.cache_creation_input_tokens ?? 0) + (event.usage.cache_read_input_tokens ?? 0);
          }
          break;
        case 'message_stop':
          stopped = true;
          break;
      }
    }
  } catch (error) {
    yield { type: 'error', failure: streamFailure(error, options.signal) };
    return;
  }
  // The SDK ends iteration quietly when its request is aborted.
  if (options.signal.aborted) {
    yield { type: 'error', failure: abortFailure(options.signal) };
    return;
  }
  if (!stopped) {
    yield { type: 'error', failure: truncatedFailure('message_stop') };
    return;
  }
  const message: AssistantMessage = { role: 'assistant', content: text };
  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call]): ToolCall => ({ id: call.id, name: call.name, arguments: call.arguments || JSON.stringify(call.initialInput ?? {}) }));
  if (toolCalls.length > 0) message.toolCalls = toolCalls;
  yield { type: 'done', message, usage, stopReason };
}
