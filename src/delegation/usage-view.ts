import type { Usage } from '../provider/types.js';

/** Per-model prices from config (`prices: {model: {input_per_million, output_per_million}}`). */
export type Prices = Record<string, { input_per_million: number; output_per_million: number }>;

/**
 * The `usage` block: tokens, and a cost estimate in USD when the model has a price in config. A
 * child that is an ACP agent (its model is `acp:<route>`) reports no tokens: its usage is
 * `{unknown: true}`, never zero.
 */
export function usageView(usage: Usage, model: string, prices: Prices = {}): Record<string, number> | { unknown: true } {
  if (model.startsWith('acp:') && usage.inputTokens === 0 && usage.outputTokens === 0) return { unknown: true };
  const price = prices[model];
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    ...(price ? { cost_usd: estimateCost(usage, price) } : {}),
  };
}

export function estimateCost(usage: Usage, price: { input_per_million: number; output_per_million: number }): number {
  const cost = (usage.inputTokens * price.input_per_million + usage.outputTokens * price.output_per_million) / 1_000_000;
  return Math.round(cost * 1_000_000) / 1_000_000;
}
