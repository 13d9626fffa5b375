import type { CredentialPool } from './credential-pool.js';
import type { AttemptError } from './wire-adapter.js';

/** The one retry policy for both wires. Every field has a default (see `defaultRetryOptions`). */
export interface RetryOptions {
  /** Requests per `stream()` call, first one included. Switching to a key not yet tried in this call is always allowed. Default 4. */
  maxAttempts: number;
  /** First backoff delay for 5xx / network errors; doubles per attempt, with jitter. Default 1000 ms. */
  retryBaseDelayMs: number;
  /** Cap on one backoff delay. Default 30 s. */
  maxRetryDelayMs: number;
  /** A 429's `retry-after` up to this long is waited out on the same key; longer ones rotate keys. Default 10 s. */
  maxRetryAfterMs: number;
  /** Idle timeout per attempt: for the response to start and between streamed chunks. Default 10 min; 0 disables. */
  timeoutMs: number;
  /** Random source in [0, 1) for jitter (injected by tests). */
  random: () => number;
}

export const defaultRetryOptions: RetryOptions = {
  maxAttempts: 4,
  retryBaseDelayMs: 1000,
  maxRetryDelayMs: 30_000,
  maxRetryAfterMs: 10_000,
  timeoutMs: 600_000,
  random: Math.random,
};

/**
 * What to do after an attempt failed to start:
 * - `retry`: wait `delayMs`, then try again (with the same key when `sameKey`);
 * - `rotate`: the key was reported to the pool; try the next key now;
 * - `fail`: give up with this failure.
 */
export type RetryDecision =
  | { action: 'retry'; delayMs: number; sameKey: boolean }
  | { action: 'rotate' }
  | { action: 'fail' };

/** Decides, and reports rate-limit / auth failures to the pool (the only side effect). */
export function decideRetry(
  error: AttemptError,
  key: string,
  attempt: number,
  pool: CredentialPool,
  options: RetryOptions,
): RetryDecision {
  const { failure } = error;
  if (failure.kind === 'aborted') return { action: 'fail' };
  if (failure.status === 429) {
    if (error.retryAfterMs !== undefined && error.retryAfterMs <= options.maxRetryAfterMs) {
      return { action: 'retry', delayMs: error.retryAfterMs, sameKey: true };
    }
    const fromRetryAfter = error.retryAfterMs !== undefined ? pool.now() + error.retryAfterMs : undefined;
    pool.reportRateLimited(key, error.resetAtMs ?? fromRetryAfter);
    return { action: 'rotate' };
  }
  if (failure.status === 401 || failure.status === 402 || failure.status === 403) {
    pool.reportAuthFailure(key, failure.status, failure.message.replace(/^HTTP \d+: /, ''));
    return { action: 'rotate' };
  }
  if (!failure.retryable) return { action: 'fail' };
  const backoff = backoffDelay(attempt, options);
  const asked = error.retryAfterMs !== undefined && error.retryAfterMs <= options.maxRetryAfterMs ? error.retryAfterMs : 0;
  return { action: 'retry', delayMs: Math.max(backoff, asked), sameKey: false };
}

/** `base * 2^(attempt-1)`, capped, scaled by a jitter factor in [0.5, 1). */
export function backoffDelay(attempt: number, options: RetryOptions): number {
  const exponential = Math.min(options.maxRetryDelayMs, options.retryBaseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (0.5 + options.random() * 0.5));
}
