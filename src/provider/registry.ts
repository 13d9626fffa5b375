import { LegateError } from '../errors.js';
import { createAnthropicAdapter, defaultAnthropicBaseUrl } from './anthropic.js';
import type { CredentialPool } from './credential-pool.js';
import { createOpenAIAdapter, defaultOpenAIBaseUrl } from './openai.js';
import { createResilientProvider } from './resilient-provider.js';
import type { Provider } from './types.js';
import type { WireAdapter } from './wire-adapter.js';

/** The wires legate speaks, each an adapter factory over a base URL, with its default base URL. */
const wires = {
  openai: { create: createOpenAIAdapter, defaultBaseUrl: defaultOpenAIBaseUrl },
  anthropic: { create: createAnthropicAdapter, defaultBaseUrl: defaultAnthropicBaseUrl },
} satisfies Record<string, { create: (baseUrl: string) => WireAdapter; defaultBaseUrl: string }>;

export type WireName = keyof typeof wires;

export const wireNames = Object.keys(wires) as WireName[];

export interface ProviderSettings {
  provider: WireName;
  /** OpenAI: the API base including `/v1`. Anthropic: the API root (the SDK appends `/v1/messages`). */
  baseUrl?: string;
  /** Keys for this endpoint; share one pool between a parent and its children. */
  pool: CredentialPool;
  /** Idle timeout per attempt (response start and gaps between chunks). Default 10 min. */
  timeoutMs?: number;
  /** Requests per call, first included. Default 4. */
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
  const wire = Object.hasOwn(wires, settings.provider) ? wires[settings.provider] : undefined;
  if (!wire) {
    throw new LegateError('config_invalid', `unknown provider "${String(settings.provider)}"; expected one of ${wireNames.join(', ')}`);
  }
  const baseUrl = (settings.baseUrl ?? wire.defaultBaseUrl).replace(/\/+$/, '');
  return createResilientProvider(wire.create(baseUrl), settings.pool, {
    timeoutMs: settings.timeoutMs,
    maxAttempts: settings.maxAttempts,
    retryBaseDelayMs: settings.retryBaseDelayMs,
    maxRetryDelayMs: settings.maxRetryDelayMs,
    random: settings.random,
  });
}
