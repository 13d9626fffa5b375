/**
 * Each provider's own rules for reasoning and request parameters, in one table. A rule is chosen by
 * the endpoint's host and by the model's name (a DeepSeek reasoner behind a local proxy is still a
 * DeepSeek reasoner); the first matching row wins (host rows come first), and an endpoint's config can override the
 * outcome (`reasoning_replay`, `token_limit_param`).
 *
 * `replay`: how an assistant turn's reasoning goes back to the provider.
 * - `anthropic`: `thinking` / `redacted_thinking` blocks unchanged, in place, first in the assistant
 *   turn of a tool-use loop. Source: docs.claude.com/en/docs/build-with-claude/extended-thinking
 *   ("Preserving thinking blocks"; the API answers 400 "Expected `thinking` or `redacted_thinking`,
 *   but found `tool_use`" without them).
 * - `reasoning_content`: the text in `reasoning_content` on assistant turns WITH tool calls (the
 *   ones of the current tool loop need it; others are ignored). Source:
 *   api-docs.deepseek.com/guides/thinking_mode ("Tool calls": 400 "Missing `reasoning_content`
 *   field in the assistant message" without it).
 * - `reasoning_details`: OpenRouter's `reasoning_details` array unchanged on assistant turns. Source:
 *   openrouter.ai/docs/use-cases/reasoning-tokens ("Preserving reasoning blocks").
 * - `none`: never sent. OpenAI's own endpoint rejects unknown message fields (400 "Additional
 *   properties are not allowed"); Mistral reads back string content only; unknown servers get none.
 *
 * `tokenParam`: OpenAI's reasoning models (o-series, gpt-5) refuse `max_tokens` ("Unsupported
 * parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.").
 * Source: platform.openai.com/docs/guides/reasoning. Other servers take `max_tokens`.
 *
 * `promptCacheKey`: OpenAI's `prompt_cache_key` (platform.openai.com/docs/guides/prompt-caching),
 * sent only where the endpoint is OpenAI's.
 *
 * Usage as billed is read the same everywhere: reasoning tokens are counted within output, and a
 * provider that reports them outside `completion_tokens` (xAI: total = prompt + completion +
 * reasoning; docs.x.ai/docs/guides/reasoning) is recognised by its own total (`openai.ts`).
 */

export type ReasoningReplay = 'anthropic' | 'reasoning_content' | 'reasoning_details' | 'none';
export type TokenLimitParam = 'max_tokens' | 'max_completion_tokens';

export interface WireRules {
  /** The row of the table that matched, for `doctor` and tests. */
  provider: string;
  replay: ReasoningReplay;
  tokenParam: TokenLimitParam;
  promptCacheKey: boolean;
}

/** Per endpoint in config: `reasoning_replay`, `token_limit_param` (absent or `auto`: the table's). */
export interface WireRuleOverrides {
  replay?: ReasoningReplay | 'auto';
  tokenParam?: TokenLimitParam | 'auto';
}

export const reasoningReplays = ['auto', 'anthropic', 'reasoning_content', 'reasoning_details', 'none'] as const;
export const tokenLimitParams = ['auto', 'max_tokens', 'max_completion_tokens'] as const;

interface Row {
  provider: string;
  /** Matches on the endpoint's host or the model's name. */
  host?: RegExp;
  model?: RegExp;
  /** Only on this wire. */
  wire?: 'openai' | 'anthropic';
  rules: Omit<WireRules, 'provider' | 'tokenParam'>;
}

/** OpenAI's reasoning models by name (also behind a proxy or on Azure): `max_completion_tokens`. */
const openAIReasoningModel = /(^|\/)(o\d|gpt-5)([-.:]|$)/i;

const table: Row[] = [
  { provider: 'anthropic', wire: 'anthropic', rules: { replay: 'anthropic', promptCacheKey: false } },
  { provider: 'deepseek', host: /(^|\.)deepseek\.com$/i, rules: { replay: 'reasoning_content', promptCacheKey: false } },
  { provider: 'openrouter', host: /(^|\.)openrouter\.ai$/i, rules: { replay: 'reasoning_details', promptCacheKey: false } },
  { provider: 'openai', host: /(^|\.)api\.openai\.com$/i, rules: { replay: 'none', promptCacheKey: true } },
  { provider: 'mistral', host: /(^|\.)mistral\.ai$/i, rules: { replay: 'none', promptCacheKey: false } },
  { provider: 'xai', host: /(^|\.)x\.ai$/i, rules: { replay: 'none', promptCacheKey: false } },
  // By model name, for an endpoint the rows above do not know (a local proxy, vLLM): hosts win, so
  // DeepSeek R1 on OpenRouter follows OpenRouter's rule.
  { provider: 'deepseek', model: /deepseek[-_]?(reasoner|r1)|deepseek-v3\.[1-9]/i, rules: { replay: 'reasoning_content', promptCacheKey: false } },
  { provider: 'mistral', model: /magistral/i, rules: { replay: 'none', promptCacheKey: false } },
];

const fallback: Row = { provider: 'openai-compatible', rules: { replay: 'none', promptCacheKey: false } };

/** The rules for one call: by wire, endpoint host and model name, then the endpoint's overrides. */
export function wireRulesFor(wire: 'openai' | 'anthropic', endpoint: string, model: string, overrides: WireRuleOverrides = {}): WireRules {
  const host = hostOf(endpoint);
  const row =
    table.find(
      (candidate) =>
        (candidate.wire === undefined || candidate.wire === wire) &&
        (candidate.wire !== undefined || wire === 'openai') &&
        (candidate.host === undefined || candidate.host.test(host)) &&
        (candidate.model === undefined || candidate.model.test(model)),
    ) ?? fallback;
  const tokenParam: TokenLimitParam = wire === 'openai' && openAIReasoningModel.test(model) ? 'max_completion_tokens' : 'max_tokens';
  return {
    provider: row.provider,
    replay: overrides.replay && overrides.replay !== 'auto' ? overrides.replay : row.rules.replay,
    tokenParam: overrides.tokenParam && overrides.tokenParam !== 'auto' ? overrides.tokenParam : tokenParam,
    promptCacheKey: row.rules.promptCacheKey,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
