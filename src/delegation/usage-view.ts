import type { PriceSection } from '../config/schema.js';
import { totalTokens, type Usage } from '../provider/types.js';

/**
 * Per-model prices from config, USD per million tokens:
 * `prices: {model: {input_per_million, output_per_million, cache_read_per_million?, cache_write_per_million?}}`.
 */
export type Prices = Record<string, PriceSection>;

/** How a task's usage is shown: prices for its cost, and which models count tokens at all (default: every one). */
export interface UsageTerms {
  prices?: Prices;
  reportsUsage?(model: string): boolean;
}

/** Cache reads cost this share of the input price when the config names none (OpenAI's and Anthropic's rate). */
export const defaultCacheReadShare = 0.1;
/** Cache writes cost this multiple of the input price when the config names none (Anthropic's 5-minute cache). */
export const defaultCacheWriteShare = 1.25;

/**
 * The `usage` block of every result: the input tokens read at full price, the cache reads and
 * writes (each its own count, none included in another), output, their total, and a cost estimate
 * in USD when the model has a price in config. A child on a model that reports no usage
 * (`reportsUsage` false: an ACP agent's) that counted no tokens has `{unknown: true}`, never zero.
 */
export function usageView(usage: Usage, model: string, terms: UsageTerms = {}): Record<string, number> | { unknown: true } {
  if (terms.reportsUsage?.(model) === false && usage.inputTokens === 0 && usage.outputTokens === 0) return { unknown: true };
  const prices = terms.prices ?? {};
  const price = prices[model];
  return {
    ...tokenCounts(usage),
    ...(usage.reasoningTokens ? { reasoning_tokens: usage.reasoningTokens } : {}),
    ...(usage.cacheReadTokens ? { cache_hit_share: Math.round(cacheHitShare(usage) * 1000) / 1000 } : {}),
    ...(price ? { cost_usd: estimateCost(usage, price) } : {}),
  };
}

/** The share of all input tokens (uncached, cache reads, cache writes) served from the prompt cache, 0–1. */
export function cacheHitShare(usage: Usage): number {
  const input = usage.inputTokens + (usage.cacheReadTokens ?? 0) + (usage.cacheWriteTokens ?? 0);
  return input === 0 ? 0 : (usage.cacheReadTokens ?? 0) / input;
}

/** The token counts of `usage` in the snake_case shape of results. */
export function tokenCounts(usage: Usage): Record<string, number> {
  return {
    input_tokens: usage.inputTokens,
    cache_read_tokens: usage.cacheReadTokens ?? 0,
    cache_write_tokens: usage.cacheWriteTokens ?? 0,
    output_tokens: usage.outputTokens,
    total_tokens: totalTokens(usage),
    ...(usage.fetchedBytes ? { fetched_bytes: usage.fetchedBytes } : {}),
  };
}

/** USD, rounded to a millionth; cache prices default from the input price (see above). */
export function estimateCost(usage: Usage, price: PriceSection): number {
  const cacheRead = price.cache_read_per_million ?? price.input_per_million * defaultCacheReadShare;
  const cacheWrite = price.cache_write_per_million ?? price.input_per_million * defaultCacheWriteShare;
  const cost =
    (usage.inputTokens * price.input_per_million +
      (usage.cacheReadTokens ?? 0) * cacheRead +
      (usage.cacheWriteTokens ?? 0) * cacheWrite +
      usage.outputTokens * price.output_per_million) /
    1_000_000;
  return Math.round(cost * 1_000_000) / 1_000_000;
}

/** USD of `usage` on `model` at `prices`; undefined for a model without a price (a budget's `CostOf`). */
export function costFromPrices(prices: Prices): (usage: Usage, model: string) => number | undefined {
  return (usage, model) => {
    const price = prices[model];
    return price ? estimateCost(usage, price) : undefined;
  };
}
