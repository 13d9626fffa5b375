/**
 * The scripted model server's vocabulary: what a test scripts (`ScriptedStep`, `ScriptedReply`) and
 * what the server records (`RecordedRequest`). Re-exported by scripted-server.ts.
 */

/** One scripted model reply. Only `text` / `toolCalls` make a normal reply; the rest inject faults. */
export interface ScriptedReply {
  /** Assistant text. */
  text?: string;
  /** Tool calls. An object `arguments` is JSON-encoded; a string is sent raw (lets tests send malformed JSON). */
  toolCalls?: { id?: string; name: string; arguments: unknown }[];
  /**
   * Default: a rough count (characters / 4), no cache. `inputTokens` are the uncached ones: on the
   * OpenAI wire `prompt_tokens` is their sum with `cacheReadTokens` (sent as
   * `prompt_tokens_details.cached_tokens`; OpenAI has no cache writes, so `cacheWriteTokens` count
   * as prompt tokens there); on the Anthropic wire each is its own field.
   */
  usage?: ScriptedUsage;
  /**
   * The reply stops at the output token limit: OpenAI `finish_reason: "length"`, Anthropic
   * `stop_reason: "max_tokens"`. Script the cut-off text or tool arguments (a raw string) yourself.
   */
  truncated?: boolean;
  /** Latency before the response starts; cut short if the client disconnects. */
  delayMs?: number;
  /** Delay between streamed chunks. */
  chunkDelayMs?: number;
  /** An HTTP error reply when >= 400 (e.g. 429 with `retry-after`, 401, 500). */
  status?: number;
  /** Extra response headers, on any reply. */
  headers?: Record<string, string>;
  /** Body of an error reply; default: the wire's error shape with a generic message. */
  errorBody?: unknown;
  /** Never answer (until the client disconnects or the server closes). */
  hang?: boolean;
  /** Stream part of the reply, then destroy the socket mid-message. */
  cutStream?: boolean;
  /** Destroy the socket without any response. */
  resetConnection?: boolean;
  /** Invalid JSON in the body / a stream chunk. */
  malformed?: boolean;
  /**
   * Stream the whole reply but leave out its end: no `finish_reason` chunk, usage or `[DONE]`
   * (OpenAI), no `message_delta` / `message_stop` (Anthropic); the response then ends cleanly.
   */
  noFinish?: boolean;
  /**
   * Stream part of the reply, then the wire's mid-stream error and end: Anthropic
   * `event: error` / `data: {"type":"error","error":{type, message}}` (e.g. `overloaded_error`,
   * `api_error`), OpenAI `data: {"error":{message, type, …}}`.
   */
  streamError?: { type: string; message: string };
  /** Stream part of the reply, then send nothing more (until the client disconnects). */
  stallMidStream?: boolean;
  /** Stream part of the reply, wait this long, then the rest (keep-alives meanwhile with `keepAliveEveryMs`). */
  pauseMidStreamMs?: number;
  /**
   * While the stream waits (`pauseMidStreamMs`, `stallMidStream`), a keep-alive every so many ms:
   * Anthropic `event: ping`, OpenAI an SSE comment (`: keep-alive`), as the real servers send.
   */
  keepAliveEveryMs?: number;
  /**
   * Reasoning before the answer. Anthropic: a `thinking` block (thinking_delta, then a
   * signature_delta with the server's signature, which it checks when the block comes back). OpenAI
   * wire: in the field `reasoningFormat` names (default `reasoning_content`, as DeepSeek sends it).
   */
  reasoning?: string;
  /** OpenAI wire: `reasoning_content` (DeepSeek, vLLM), `reasoning` (Ollama), `reasoning_details` (OpenRouter, with `reasoning`), `mistral` (content parts). */
  reasoningFormat?: 'reasoning_content' | 'reasoning' | 'reasoning_details' | 'mistral';
  /** Anthropic: a `redacted_thinking` block with this opaque `data`, before the answer. */
  redactedThinking?: string;
  /** OpenAI wire: `delta.content` as an array of text parts (Mistral) rather than a string. */
  contentParts?: boolean;
  /**
   * The model declines. Anthropic: `stop_reason: "refusal"` with `stop_details`; OpenAI: the
   * `refusal` text (finish_reason `stop`, no content).
   */
  refusal?: { explanation: string | null; category?: string | null };
  /** Anthropic `stop_reason: "pause_turn"` (a long turn paused; the client sends it back to continue). */
  pauseTurn?: boolean;
  /** Anthropic `stop_reason: "model_context_window_exceeded"`. */
  contextWindowExceeded?: boolean;
  /**
   * The whole response body, as recorded (a fixture file's SSE frames), sent as it is with
   * `content-type: text/event-stream`. Everything else in the reply is ignored.
   */
  sse?: string;
}

export interface ScriptedUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  /** Of `outputTokens`, those spent reasoning (OpenAI `completion_tokens_details.reasoning_tokens`). */
  reasoningTokens?: number;
  /** OpenAI wire: report reasoning tokens outside `completion_tokens`, as xAI does (total = prompt + completion + reasoning). */
  reasoningOutside?: boolean;
}

export interface RecordedRequest {
  /** 0-based position among model requests received. */
  index: number;
  wire: 'openai' | 'anthropic';
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** From `Authorization: Bearer` or `x-api-key`. */
  apiKey: string | undefined;
  /** The parsed JSON body (the raw text when it was not JSON). */
  body: any;
  model: string | undefined;
  stream: boolean;
  /** All text of the request (system + every message's text/tool args/tool results) for easy `includes` checks. */
  text: string;
  startedAt: number;
  finishedAt?: number;
  /** True when the client closed the connection before the response was complete (e.g. an AbortSignal fired). */
  aborted: boolean;
  /** The label of the step that answered, if any. */
  stepLabel?: string;
}

export interface ScriptedStep {
  label?: string;
  /** Absent: matches any request. */
  match?: (req: RecordedRequest) => boolean;
  reply: ScriptedReply | ((req: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>);
}

/** A reply with defaults filled in, ready for a wire encoder. */
export interface ResolvedReply {
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  usage: ScriptedUsage;
  /** Stopped at the token limit. */
  truncated: boolean;
  /** Leave out the end of the stream (`noFinish`). */
  noFinish: boolean;
  reasoning: string;
  reasoningFormat: NonNullable<ScriptedReply['reasoningFormat']>;
  redactedThinking: string | undefined;
  contentParts: boolean;
  refusal: ScriptedReply['refusal'];
  pauseTurn: boolean;
  contextWindowExceeded: boolean;
}

/** The default output count of a reply: its text and tool calls (name and JSON arguments), 4 characters a token. */
export function estimatedOutputTokens(reply: ScriptedReply): number {
  const argumentsOf = (call: { arguments: unknown }): string => (typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}));
  const chars = (reply.text ?? '').length + (reply.toolCalls ?? []).reduce((sum, call) => sum + call.name.length + argumentsOf(call).length, 0);
  return Math.max(1, Math.ceil(chars / 4));
}

/** Fills in tool-call ids (`<idPrefix><request>_<n>`), JSON-encodes arguments and estimates usage. */
export function resolveReply(reply: ScriptedReply, request: RecordedRequest, idPrefix: string): ResolvedReply {
  const text = reply.text ?? '';
  const toolCalls = (reply.toolCalls ?? []).map((call, n) => ({
    id: call.id ?? `${idPrefix}${request.index}_${n}`,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
  }));
  const usage = reply.usage ?? { inputTokens: Math.max(1, Math.ceil(request.text.length / 4)), outputTokens: estimatedOutputTokens(reply) };
  return {
    text,
    toolCalls,
    usage,
    truncated: reply.truncated === true,
    noFinish: reply.noFinish === true,
    reasoning: reply.reasoning ?? '',
    reasoningFormat: reply.reasoningFormat ?? 'reasoning_content',
    redactedThinking: reply.redactedThinking,
    contentParts: reply.contentParts === true,
    refusal: reply.refusal,
    pauseTurn: reply.pauseTurn === true,
    contextWindowExceeded: reply.contextWindowExceeded === true,
  };
}

/** Splits text into word-sized pieces (each keeps its trailing space), so streams have several deltas. */
export function textPieces(text: string): string[] {
  return text.match(/\s*\S+\s*|\s+/g) ?? [];
}

/** Splits a string into two halves (one when it is shorter than 2 characters). */
export function halves(value: string): string[] {
  if (value.length < 2) return value ? [value] : [];
  const middle = Math.floor(value.length / 2);
  return [value.slice(0, middle), value.slice(middle)];
}

/** The text of a content value: a string, or an array of parts with `text` / `content` / `input`. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: any) => {
      if (typeof part === 'string') return part;
      if (part?.type === 'tool_use') return `${part.name ?? ''} ${JSON.stringify(part.input ?? {})}`;
      if (part?.type === 'tool_result') return contentText(part.content);
      if (part?.type === 'thinking' || part?.type === 'redacted_thinking') return '';
      return typeof part?.text === 'string' ? part.text : '';
    })
    .filter((piece: string) => piece.length > 0)
    .join('\n');
}
