/**
 * The narrow provider interface: one `stream(request, signal)` per wire. Everything above this
 * file speaks these types only; the wire adapters translate to and from OpenAI chat completions
 * and Anthropic Messages.
 */

/** A tool call as the model produced it. `arguments` is the raw JSON text, unparsed. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export interface UserMessage {
  role: 'user';
  content: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content: string;
  toolCalls?: ToolCall[];
}

export interface ToolResultMessage {
  role: 'tool';
  toolCallId: string;
  name: string;
  content: string;
  isError?: boolean;
}

/** A conversation message in legate's wire-neutral form. */
export type Message = UserMessage | AssistantMessage | ToolResultMessage;

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
  /** Upper bound on output tokens. Anthropic requires one; defaults to 4096 there. */
  maxTokens?: number;
  temperature?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0 });

export function addUsage(a: Usage, b: Usage): Usage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
}

/** Why a provider call failed. `retryable` is what the retry policy consults. */
export interface ProviderFailure {
  /** `http` (a status code came back), `network`, `stream` (cut or malformed mid-stream), `aborted`, `no_keys`. */
  kind: 'http' | 'network' | 'stream' | 'aborted' | 'no_keys';
  message: string;
  status?: number;
  retryable: boolean;
}

/**
 * What a provider stream yields: zero or more `text.delta`, then exactly one final event,
 * `done` or `error`. A stream never throws once iteration has started.
 */
export type ProviderEvent =
  | { type: 'text.delta'; text: string }
  | { type: 'retry'; attempt: number; delayMs: number; reason: string }
  | { type: 'done'; message: AssistantMessage; usage: Usage; stopReason: string }
  | { type: 'error'; failure: ProviderFailure };

export interface Provider {
  /** `openai` or `anthropic` (the wire), for logs and `doctor`. */
  readonly wire: string;
  /** The endpoint this provider talks to (base URL), for logs and `doctor`. Never contains a key. */
  readonly endpoint: string;
  stream(request: ModelRequest, signal: AbortSignal): AsyncIterable<ProviderEvent>;
}

/** Drain a stream to its final event. */
export async function complete(
  provider: Provider,
  request: ModelRequest,
  signal: AbortSignal,
): Promise<Extract<ProviderEvent, { type: 'done' | 'error' }>> {
  for await (const event of provider.stream(request, signal)) {
    if (event.type === 'done' || event.type === 'error') return event;
  }
  return { type: 'error', failure: { kind: 'stream', message: 'stream ended without a final event', retryable: false } };
}
