import { createHash } from 'node:crypto';
import type { EndpointSpec } from './config/endpoints.js';
import { CredentialPool } from './provider/credential-pool.js';
import { createProvider } from './provider/registry.js';
import type { Provider } from './provider/types.js';

/** Builds the provider of an endpoint from its pool, instead of the real wire (tests, benchmarks). */
export type ProviderFactory = (endpoint: EndpointSpec, pool: CredentialPool) => Provider;

/**
 * The providers of a runtime's endpoints: endpoints with the same wire, base URL and keys share one
 * credential pool (a parent and its children rotate and rest the same keys), and endpoints that also
 * share their timeout and retries share one provider.
 */
export class EndpointProviders {
  private readonly pools = new Map<string, CredentialPool>();
  private readonly providers = new Map<string, Provider>();

  constructor(private readonly options: { factory?: ProviderFactory; retryBaseDelayMs?: number } = {}) {}

  for(endpoint: EndpointSpec): Provider {
    const poolId = `${endpoint.provider}|${endpoint.baseUrl}|${fingerprint(endpoint.keys)}`;
    let pool = this.pools.get(poolId);
    if (!pool) {
      pool = new CredentialPool({ keys: endpoint.keys, strategy: endpoint.keyStrategy, endpoint: endpoint.baseUrl });
      this.pools.set(poolId, pool);
    }
    const providerId = `${poolId}|${endpoint.timeoutMs}|${endpoint.maxRetries}`;
    let provider = this.providers.get(providerId);
    if (!provider) {
      provider = this.options.factory
        ? this.options.factory(endpoint, pool)
        : createProvider({
            provider: endpoint.provider,
            baseUrl: endpoint.baseUrl,
            pool,
            timeoutMs: endpoint.timeoutMs,
            maxAttempts: endpoint.maxRetries + 1,
            ...(this.options.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: this.options.retryBaseDelayMs } : {}),
          });
      this.providers.set(providerId, provider);
    }
    return provider;
  }
}

/** Keys named without being kept: the pool id holds a hash, never a key. */
function fingerprint(keys: string[]): string {
  return createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16);
}
