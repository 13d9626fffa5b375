/**
 * Recognises a provider's "the context is too long" error text and the limit it names. Pure.
 * Texts as the servers send them:
 * - OpenAI (code `context_length_exceeded`): "This model's maximum context length is 128000 tokens. However, your messages resulted in …"
 * - OpenRouter: "This endpoint's maximum context length is 128000 tokens. However, you requested about …"
 * - vLLM: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens …" (or "… and your request has N input tokens")
 * - Anthropic: "prompt is too long: 208310 tokens > 200000 maximum"
 * - llama.cpp server (`exceed_context_size_error`): "request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it"
 * - Ollama: "the input length exceeds the context length" (no number)
 */
export interface ContextLengthError {
  /** The window the provider named, tokens; absent when its text names none. */
  limit?: number;
}

const patterns: RegExp[] = [
  /maximum context length is (\d+) tokens/i,
  /prompt is too long: \d+ tokens > (\d+) maximum/i,
  /exceeds the available context size \((\d+) tokens\)/i,
];
const withoutLimit: RegExp[] = [/context_length_exceeded/i, /input length exceeds the context length/i, /exceed_context_size_error/i, /prompt is too long/i];

export function contextLengthError(message: string): ContextLengthError | undefined {
  for (const pattern of patterns) {
    const match = pattern.exec(message);
    if (match) return { limit: Number(match[1]) };
  }
  return withoutLimit.some((pattern) => pattern.test(message)) ? {} : undefined;
}
