import { LegateError } from '../errors.js';
import { anthropicMaxTokensFor, createAnthropicAdapter, defaultAnthropicBaseUrl } from './anthropic.js';
import type { CredentialPool } from './credential-pool.js';
import { createOpenAIAdapter, defaultOpenAIBaseUrl } from './openai.js';
import { createResilientProvider } from './resilient-provider.js';
import type { Provider } from './types.js';
import type { WireAdapter } from './wire-adapter.js';

/** What legate knows about one provider (wire). Adding a provider is its adapter file plus one entry here. */
export interface ProviderEntry {
  /** The adapter over a base URL. */
  create(baseUrl: string): WireAdapter;
  /** Where requests go without `base_url`. */
  defaultBaseUrl: string;
  /** The environment variable a key is usually kept in (named in "no key" errors). */
  apiKeyEnv: string;
  /** `max_tokens` for a model when the config sets none; undefined: send none (the model's own limit). */
  defaultMaxTokens(model: string): number | undefined;
  /** Load the wire's SDK: done by the first request; a long-running worker does it at start (`Runtime.warmUp`). */
  load(): Promise<unknown>;
  /** The cheap authenticated request `legate doctor` makes to check an endpoint and key. */
  probe(baseUrl: string, key: string): { url: string; headers: Record<string, string> };
}

/** Every provider legate speaks, by the name used in config (`model.provider`). */
export const providers = {
  openai: {
    create: createOpenAIAdapter,
    defaultBaseUrl: defaultOpenAIBaseUrl,
    apiKeyEnv: 'OPENAI_API_KEY',
    defaultMaxTokens: () => undefined,
    load: () => import('openai'),
    probe: (baseUrl, key) => ({ url: `${baseUrl}/models`, headers: { authorization: `Bearer ${key}` } }),
  },
  anthropic: {
    create: createAnthropicAdapter,
    defaultBaseUrl: defaultAnthropicBaseUrl,
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    defaultMaxTokens: anthropicMaxTokensFor,
    load: () => import('@anthropic-ai/sdk'),
    probe: (baseUrl, key) => ({ url: `${baseUrl}/v1/models`, headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } }),
  },
} satisfies Record<string, ProviderEntry>;

export type WireName = keyof typeof providers;

export const wireNames = Object.keys(providers) as [WireName, ...WireName[]];

/** The registry entry for `name`; throws `config_invalid` naming the value for an unknown one. */
export function providerEntry(name: string): ProviderEntry {
  const entry: ProviderEntry | undefined = Object.hasOwn(providers, name) ? providers[name as WireName] : undefined;
  if (!entry) throw new LegateError('config_invalid', `unknown provider "${name}"; expected one of ${wireNames.join(', ')}`);
  return entry;
}

export interface ProviderSettings {
  provider: WireName;
  /** OpenAI: the API base including `/v1`. Anthropic: the API root (the SDK appends `/v1/messages`). */
  baseUrl?: string;
  /** Keys for this endpoint; share one pool between a parent and its children. */
  pool: CredentialPool;
  /** Idle timeout per attempt: no bytes at the response start or between chunks. Default 120 s. */
  timeoutMs?: number;
  /** Attempts per call for server/network errors, and per key for rate limits; first included. Default 4. */
  maxAttempts?: number;
  /** First backoff delay for 5xx / network errors. Default 1000 ms. */
  retryBaseDelayMs?: number;
  /** Cap on one backoff delay. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Random source for backoff jitter (tests). */
  random?: () => number;
}

/** A retrying, key-rotating `Provider` for the named wire. Throws `config_invalid` for an unknown wire. */
export function createProvider(settings: ProviderSettings): Provider {
  const entry = providerEntry(String(settings.provider));
  const baseUrl = (settings.baseUrl ?? entry.defaultBaseUrl).replace(/\/+$/, '');
  return createResilientProvider(entry.create(baseUrl), settings.pool, {
    timeoutMs: settings.timeoutMs,
    maxAttempts: settings.maxAttempts,
    retryBaseDelayMs: settings.retryBaseDelayMs,
    maxRetryDelayMs: settings.maxRetryDelayMs,
    random: settings.random,
  });
}
