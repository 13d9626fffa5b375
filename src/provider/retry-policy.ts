import type { CredentialPool } from './credential-pool.js';
import type { AttemptError } from './wire-adapter.js';

/** The one retry policy for both wires. Every field has a default (see `defaultRetryOptions`). */
export interface RetryOptions {
  /**
   * Attempts per `stream()` call for server and network errors, first one included; and attempts
   * per KEY for rate limits, so a call never fails while a key it has not tried is available. Default 4.
   */
  maxAttempts: number;
  /** First backoff delay for 5xx / network errors; doubles per attempt, with jitter. Default 1000 ms. */
  retryBaseDelayMs: number;
  /** Cap on one backoff delay. Default 30 s. */
  maxRetryDelayMs: number;
  /** Idle timeout per attempt: no bytes for the response to start or between chunks (keep-alives count). Default 120 s; 0 disables. */
  timeoutMs: number;
  /** Random source in [0, 1) for jitter (injected by tests). */
  random: () => number;
}

export const defaultRetryOptions: RetryOptions = {
  maxAttempts: 4,
  retryBaseDelayMs: 1000,
  maxRetryDelayMs: 30_000,
  timeoutMs: 120_000,
  random: Math.random,
};

/**
 * What to do after an attempt failed to start:
 * - `retry`: a server or network error; wait `delayMs`, then try again;
 * - `rotate`: a rate limit or refusal, reported to the pool; go on to another key now, or wait
 *   for the first key to come back when none is available;
 * - `fail`: give up with this failure.
 */
export type RetryDecision = { action: 'retry'; delayMs: number } | { action: 'rotate' } | { action: 'fail' };

/**
 * Decides, and reports rate-limit / auth failures to the pool (the only side effect). A 429 cools
 * its key down for exactly the server's `retry-after` / `retry-after-ms` (0 included), else until
 * its rate-limit reset, else for the pool's default: it is the pool, not this call, that waits it out.
 */
export function decideRetry(error: AttemptError, key: string, attempt: number, pool: CredentialPool, options: RetryOptions): RetryDecision {
  const { failure } = error;
  if (failure.kind === 'aborted') return { action: 'fail' };
  if (failure.status === 429) {
    pool.reportRateLimited(key, error.retryAfterMs !== undefined ? pool.now() + error.retryAfterMs : error.resetAtMs);
    return { action: 'rotate' };
  }
  if (failure.status === 401 || failure.status === 402 || failure.status === 403) {
    pool.reportAuthFailure(key, failure.status, failure.message.replace(/^HTTP \d+: /, ''));
    return { action: 'rotate' };
  }
  if (!failure.retryable) return { action: 'fail' };
  const backoff = backoffDelay(attempt, options);
  const asked = error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, options.maxRetryDelayMs) : 0;
  return { action: 'retry', delayMs: Math.max(backoff, asked) };
}

/** `base * 2^(attempt-1)`, capped, scaled by a jitter factor in [0.5, 1). */
export function backoffDelay(attempt: number, options: RetryOptions): number {
  const exponential = Math.min(options.maxRetryDelayMs, options.retryBaseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + options.random() * 0.5));
}
