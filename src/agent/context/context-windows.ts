/**
 * Which context window a model has, in tokens: the configured `context_window`, else a limit a
 * provider's context-length error taught this process, else the built-in table of well-known
 * families, else unknown (compaction is then reactive only).
 *
 * The table, as the providers publish it (checked 2026-12; their model pages):
 * - OpenAI, platform.openai.com/docs/models: gpt-5 family 400,000; gpt-4.1 family 1,047,576;
 *   gpt-4o / gpt-4o-mini / gpt-4-turbo 128,000; o1 / o3 / o3-mini / o4-mini 200,000; gpt-4 8,192;
 *   gpt-3.5-turbo 16,385.
 * - Anthropic, docs.anthropic.com "Models overview": every Claude 3, 3.5, 3.7, 4, 4.5 and 4.6
 *   model 200,000 (the 1M-token window of some is a beta that needs a header legate does not send).
 * - Google, ai.google.dev "Gemini models": gemini-1.5-pro 2,097,152; gemini-1.5-flash, 2.0 and
 *   2.5 1,048,576.
 * - DeepSeek, api-docs.deepseek.com: deepseek-chat and deepseek-reasoner 128,000.
 * - Mistral, docs.mistral.ai "Models": mistral-large / mistral-medium / mistral-small 128,000;
 *   codestral 256,000.
 * - Meta Llama 3.1, 3.2, 3.3 (model cards): 131,072. Qwen 2.5 (model card) 32,768; Qwen3-Coder
 *   262,144. xAI grok-4: 256,000.
 * A name matches after any `vendor/` prefix (OpenRouter's `anthropic/claude-sonnet-4.5`) and
 * any `:tag` (Ollama's `llama3.1:8b`). Local servers (Ollama, llama.cpp, vLLM) often run a model
 * with a smaller window than its card's: set `context_window` for them, or let the first
 * context-length error teach it.
 */
const families: ReadonlyArray<readonly [RegExp, number]> = [
  [/^gpt-5/, 400_000],
  [/^gpt-4\.1/, 1_047_576],
  [/^(gpt-4o|chatgpt-4o|gpt-4-turbo)/, 128_000],
  [/^gpt-4(-|$)/, 8_192],
  [/^gpt-3\.5-turbo/, 16_385],
  [/^o[134](-|$)/, 200_000],
  [/^claude-/, 200_000],
  [/^gemini-1\.5-pro/, 2_097_152],
  [/^gemini-(1\.5-flash|2)/, 1_048_576],
  [/^deepseek-(chat|reasoner|v3|r1)/, 128_000],
  [/^(mistral-(large|medium|small))/, 128_000],
  [/^codestral/, 256_000],
  [/^(meta-)?llama-?3\.[123]/, 131_072],
  [/^qwen3-coder/, 262_144],
  [/^qwen2\.5/, 32_768],
  [/^grok-4/, 256_000],
];

/** The built-in window of a well-known model family, or undefined. */
export function knownContextWindow(model: string): number | undefined {
  const name = model.toLowerCase().split('/').at(-1)!.split(':')[0]!;
  for (const [pattern, window] of families) if (pattern.test(name)) return window;
  return undefined;
}

/** Where a window came from, for views and docs. */
export type WindowSource = 'config' | 'learned' | 'table';

/**
 * The windows of one process: configured and table values, and limits learned from providers'
 * context-length errors (kept for the life of the process, per endpoint address and model, so a
 * child that learned it spares its siblings the failed call).
 */
export class ContextWindows {
  private readonly learned = new Map<string, number>();

  /** The window for `model` at `baseUrl`: the smaller of the configured (or table) one and a learned one. */
  windowFor(endpoint: { baseUrl: string; model: string; contextWindow?: number | undefined }): { window: number; source: WindowSource } | undefined {
    const learned = this.learned.get(keyOf(endpoint.baseUrl, endpoint.model));
    const configured = endpoint.contextWindow;
    const base = configured ?? knownContextWindow(endpoint.model);
    if (learned !== undefined && (base === undefined || learned < base)) return { window: learned, source: 'learned' };
    if (base === undefined) return undefined;
    return { window: base, source: configured !== undefined ? 'config' : 'table' };
  }

  /** A provider said the window of `model` at `baseUrl` is at most `window` tokens. */
  learn(baseUrl: string, model: string, window: number): void {
    const key = keyOf(baseUrl, model);
    const known = this.learned.get(key);
    if (known === undefined || window < known) this.learned.set(key, window);
  }
}

function keyOf(baseUrl: string, model: string): string {
  return `${baseUrl.replace(/\/+$/, '')} ${model}`;
}

/** "200k", "1M", "8.2k": a window as the views print it. */
export function formatTokens(tokens: number): string {
  if (tokens >= 1_000_000) return `${trim(tokens / 1_000_000)}M`;
  if (tokens >= 1_000) return `${trim(tokens / 1_000)}k`;
  return String(tokens);
}

function trim(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}
