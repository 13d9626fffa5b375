import type Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlockParam,
  MessageCreateParamsStreaming,
  MessageParam,
  RawMessageStreamEvent,
  TextBlockParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import { type WireRules, wireRulesFor } from './reasoning-rules.js';
import type { AssistantMessage, ModelRequest, ProviderEvent, ReasoningEffort, ReasoningPart, StopReason, ToolCall, Usage } from './types.js';
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
    open: (client, request, options) =>
      client.messages.create(toAnthropicRequest(request, wireRulesFor('anthropic', baseUrl, request.model, request.rules)), options),
    read: readAnthropicStream,
  });
}

/** Models that take `thinking: {type: "adaptive"}` (with `output_config.effort`) rather than a token budget. */
const adaptiveThinkingModel = /claude-(opus|sonnet|haiku|fable|mythos)-(4-[6-9]|[5-9]|preview)/;

/** `thinking.budget_tokens` per effort where the budget is set by hand (at least 1024, the API's minimum). */
const thinkingBudgets: Record<ReasoningEffort, number> = { minimal: 1024, low: 2048, medium: 8192, high: 16_384 };

/** The API allows at most 4 `cache_control` breakpoints; legate sets 3 (tools, system, the last message). */
export const maxCacheBreakpoints = 4;

/**
 * legate's request in Messages form: system top-level, assistant tool calls as `tool_use` blocks,
 * consecutive tool results (and a user message right after them) merged into ONE user message.
 * Thinking blocks go back unchanged, first in their turn (`rules.replay`); prompt caching marks
 * the stable prefix (the last tool, the system) and the last message, which moves each turn.
 */
export function toAnthropicRequest(
  request: ModelRequest,
  rules: WireRules = wireRulesFor('anthropic', defaultAnthropicBaseUrl, request.model),
): MessageCreateParamsStreaming {
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
      const replay = rules.replay === 'anthropic' ? (message.reasoning ?? []) : [];
      const thinkingAt = (at: number): ContentBlockParam[] => replay.flatMap((part) => thinkingBlock(part, at));
      const content: ContentBlockParam[] = [...thinkingAt(0)];
      if (message.content) content.push({ type: 'text', text: message.content });
      for (const [n, call] of (message.toolCalls ?? []).entries()) {
        if (n > 0) content.push(...thinkingAt(n));
        content.push({ type: 'tool_use', id: call.id, name: call.name, input: parseInput(call.arguments) });
      }
      // The API rejects empty assistant turns; dropping one loses nothing.
      if (content.length > 0) messages.push({ role: 'assistant', content });
    }
    toolResults = undefined;
  }
  const cache = request.promptCache !== false;
  let maxTokens = request.maxTokens ?? anthropicMaxTokensFor(request.model);
  const params: MessageCreateParamsStreaming = { model: request.model, max_tokens: maxTokens, messages, stream: true };
  if (request.system) params.system = [{ type: 'text', text: request.system, ...(cache ? { cache_control: { type: 'ephemeral' } } : {}) }];
  if (request.tools.length > 0) {
    params.tools = request.tools.map((tool): Tool => ({ name: tool.name, description: tool.description, input_schema: tool.parameters as Tool.InputSchema }));
    if (cache) params.tools[params.tools.length - 1]!.cache_control = { type: 'ephemeral' };
    if (request.toolChoice === 'none') params.tool_choice = { type: 'none' };
  }
  if (cache) markLastMessage(messages);
  if (request.reasoningEffort !== undefined) {
    if (adaptiveThinkingModel.test(request.model)) {
      params.thinking = { type: 'adaptive' };
      params.output_config = { effort: request.reasoningEffort === 'minimal' ? 'low' : request.reasoningEffort };
    } else {
      const budget = thinkingBudgets[request.reasoningEffort];
      // `max_tokens` must be above the budget: the answer keeps the room it had.
      if (maxTokens <= budget) maxTokens += budget;
      params.max_tokens = maxTokens;
      params.thinking = { type: 'enabled', budget_tokens: budget };
    }
  } else if (request.temperature !== undefined) {
    // With thinking on, the API refuses any temperature but 1: none is sent then.
    (params as { temperature?: number }).temperature = request.temperature;
  }
  return params;
}

/** A reasoning part as a block of an assistant turn, if it is Anthropic's and belongs at position `at`. */
function thinkingBlock(part: ReasoningPart, at: number): ContentBlockParam[] {
  if ((part.type === 'thinking' || part.type === 'redacted_thinking') && (part.at ?? 0) !== at) return [];
  if (part.type === 'thinking' && part.source === 'anthropic' && part.signature !== undefined) {
    return [{ type: 'thinking', thinking: part.text, signature: part.signature }];
  }
  if (part.type === 'redacted_thinking') return [{ type: 'redacted_thinking', data: part.data }];
  // Another provider's reasoning has no signature Anthropic would accept: it stays out.
  return [];
}

/** The moving breakpoint: `cache_control` on the last block of the last message (a string content becomes a text block). */
function markLastMessage(messages: MessageParam[]): void {
  const last = messages.at(-1);
  if (!last) return;
  if (typeof last.content === 'string') {
    if (!last.content) return;
    last.content = [{ type: 'text', text: last.content, cache_control: { type: 'ephemeral' } } satisfies TextBlockParam];
    return;
  }
  const block = [...last.content].reverse().find((candidate) => candidate.type !== 'thinking' && candidate.type !== 'redacted_thinking');
  if (block && !(block.type === 'text' && !block.text)) (block as { cache_control?: unknown }).cache_control = { type: 'ephemeral' };
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

/** Assembles text, thinking and `tool_use` blocks into one message, thinking kept in its place. */
async function* readAnthropicStream(stream: AsyncIterable<RawMessageStreamEvent>): AsyncGenerator<ProviderEvent, WireEnd> {
  let text = '';
  const calls = new Map<number, ToolCall & { initialInput: unknown }>();
  const reasoning = new Map<number, ReasoningPart>();
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let stopReason = 'end_turn';
  let stopDetails: string | undefined;
  let stopped = false;
  for await (const event of stream) {
    switch (event.type) {
      case 'message_start':
        readAnthropicUsage(usage, event.message.usage);
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use') calls.set(event.index, { id: block.id, name: block.name, arguments: '', initialInput: block.input });
        else if (block.type === 'thinking') {
          reasoning.set(event.index, { type: 'thinking', source: 'anthropic', text: block.thinking ?? '', signature: block.signature ?? '', at: calls.size });
        } else if (block.type === 'redacted_thinking') reasoning.set(event.index, { type: 'redacted_thinking', data: block.data, at: calls.size });
        break;
      }
      case 'content_block_delta':
        if (event.delta.type === 'text_delta') {
          text += event.delta.text;
          yield { type: 'text.delta', text: event.delta.text };
        } else if (event.delta.type === 'input_json_delta') {
          const call = calls.get(event.index);
          if (call) call.arguments += event.delta.partial_json;
        } else if (event.delta.type === 'thinking_delta') {
          const part = reasoning.get(event.index);
          if (part?.type === 'thinking') part.text += event.delta.thinking;
          yield { type: 'reasoning.delta', text: event.delta.thinking };
        } else if (event.delta.type === 'signature_delta') {
          const part = reasoning.get(event.index);
          if (part?.type === 'thinking') part.signature = (part.signature ?? '') + event.delta.signature;
        }
        break;
      case 'message_delta':
        if (event.delta.stop_reason) stopReason = event.delta.stop_reason;
        if (event.delta.stop_details) stopDetails = refusalText(event.delta.stop_details);
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
  if (reasoning.size > 0) message.reasoning = [...reasoning.entries()].sort(([a], [b]) => a - b).map(([, part]) => part);
  const done: WireEnd = { type: 'done', message, usage, stopReason: anthropicStopReason(stopReason), rawStopReason: stopReason };
  if (stopDetails !== undefined) done.stopDetails = stopDetails;
  return done;
}

/** A refusal's `stop_details` as one line: its explanation, and its category when there is one. */
function refusalText(details: { category?: string | null; explanation?: string | null }): string {
  const explanation = details.explanation?.trim() || 'no explanation given';
  return details.category ? `${explanation} (category: ${details.category})` : explanation;
}

/** `model_context_window_exceeded`: the context is full, not the reply cut at `max_tokens`. */
export function anthropicStopReason(stopReason: string): StopReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'end_turn';
    case 'tool_use':
      return 'tool_use';
    case 'max_tokens':
      return 'max_tokens';
    case 'model_context_window_exceeded':
      return 'context_full';
    case 'refusal':
      return 'refusal';
    case 'pause_turn':
      return 'pause_turn';
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
  from:
    | { input_tokens?: number | null; output_tokens?: number | null; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null }
    | undefined,
): void {
  // The docs' abbreviated examples (and some proxies) send a message_start without usage.
  if (!from) return;
  if (from.input_tokens != null) usage.inputTokens = from.input_tokens;
  if (from.output_tokens != null) usage.outputTokens = from.output_tokens;
  if (from.cache_read_input_tokens) usage.cacheReadTokens = from.cache_read_input_tokens;
  if (from.cache_creation_input_tokens) usage.cacheWriteTokens = from.cache_creation_input_tokens;
}
