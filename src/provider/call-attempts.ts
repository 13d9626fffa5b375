import { maskKey } from '../secrets.js';
import { type CredentialPool, describeKey } from './credential-pool.js';
import type { ProviderFailure } from './types.js';

/**
 * What one `stream()` call has tried so far: attempts per key and each key's last failure. Rate
 * limits and refusals count against the key (a call moves on to a key it has not tried); server
 * and network errors count against the call (they are the endpoint's, not a key's).
 */
export class CallAttempts {
  /** Attempts made by this call, on every key. */
  total = 0;
  /** 5xx, network errors and timeouts seen by this call. */
  serverFailures = 0;
  /** Keys this call saw rate limited or refused: tried again only when no other key is available. */
  readonly failedKeys = new Set<string>();
  private readonly perKey = new Map<string, { attempts: number; failure?: ProviderFailure }>();

  started(key: string): void {
    this.total += 1;
    const entry = this.perKey.get(key) ?? { attempts: 0 };
    entry.attempts += 1;
    this.perKey.set(key, entry);
  }

  /** A rate limit or refusal on `key`. */
  keyFailed(key: string, failure: ProviderFailure): void {
    this.failedKeys.add(key);
    const entry = this.perKey.get(key);
    if (entry) entry.failure = failure;
  }

  /**
   * Keys to pick only when no other is available: those this call saw fail more often than the
   * least-tried key of `keys`, so untried keys come first and failing keys take turns.
   */
  avoid(keys: readonly string[]): Set<string> {
    const least = Math.min(...keys.map((key) => this.perKey.get(key)?.attempts ?? 0));
    return new Set([...this.failedKeys].filter((key) => (this.perKey.get(key)?.attempts ?? 0) > least || least === 0));
  }

  /** Keys tried `maxAttempts` times in this call: not picked again by it. */
  exhausted(maxAttempts: number): Set<string> {
    return new Set([...this.perKey].filter(([, entry]) => entry.attempts >= maxAttempts).map(([key]) => key));
  }

  /**
   * The failure for "no key can be used", naming every key of the pool once (masked) with what
   * this call saw on it and when it comes back. When the keys were refused (401/402/403) it says
   * so and what to check, instead of a cool-down.
   */
  noKeysFailure(pool: CredentialPool, where: string, lastStatus: number | undefined): ProviderFailure {
    const now = pool.now();
    const keys = pool.secrets();
    const statuses = pool.status();
    const lines = keys.map((key, index) => {
      const status = statuses[index]!;
      const entry = this.perKey.get(key);
      if (!entry?.failure) return describeKey(status, now);
      const times = entry.attempts > 1 ? ` (${entry.attempts} attempts)` : '';
      if (status.state === 'auth_failed') return `${maskKey(key)} refused (${entry.failure.message})${times}`;
      const back = status.until !== undefined && status.until > now ? `, back in ${Math.ceil((status.until - now) / 1000)}s` : '';
      return `${maskKey(key)} rate limited (${entry.failure.message})${times}${back}`;
    });
    const refused = statuses.filter((status) => status.state === 'auth_failed').length;
    const check =
      refused > 0
        ? `. Check that ${refused === 1 ? 'this key is' : 'these keys are'} valid and active for this endpoint ` +
          `(model.api_key / api_keys in config.yaml, or the provider's API key variable), and that the account has access`
        : '';
    const message =
      refused === keys.length
        ? `API key${keys.length === 1 ? '' : 's'} refused by ${where}: ${lines.join('; ')}${check}`
        : `no API key available for ${where}${this.total > 0 ? ` after ${this.total} attempt${this.total === 1 ? '' : 's'}` : ''}: ${lines.join('; ')}${check}`;
    const failure: ProviderFailure = { kind: 'no_keys', message, retryable: false };
    if (lastStatus !== undefined) failure.status = lastStatus;
    return failure;
  }
}
