import type { ModelRequest, ProviderEvent, ProviderFailure } from './types.js';

/** What one attempt needs besides the request. */
export interface AttemptOptions {
  apiKey: string;
  /** Aborts the HTTP request itself, before or during streaming. */
  signal: AbortSignal;
  /** Called for every chunk received (text or not), so an idle watchdog can tell the stream is alive. */
  onActivity?: () => void;
}

/**
 * One wire format (OpenAI chat completions, Anthropic Messages) as a single *attempt*: no retries,
 * no key rotation. `attempt` rejects with an `AttemptError` if the request fails to start (an HTTP
 * error status, a network error, an abort); once it resolves, the iterable never throws and ends
 * with exactly one `done` or `error` event.
 */
export interface WireAdapter {
  /** The provider's name in the registry (`openai`, `anthropic`). */
  readonly wire: string;
  /** The base URL requests go to. Never contains a key. */
  readonly endpoint: string;
  attempt(request: ModelRequest, options: AttemptOptions): Promise<AsyncIterable<ProviderEvent>>;
}

/** A request that failed before streaming started, classified for the retry policy. */
export class AttemptError extends Error {
  readonly failure: ProviderFailure;
  /** From `retry-after` / `retry-after-ms`: how long the server asked us to wait. */
  readonly retryAfterMs: number | undefined;
  /** From rate-limit reset headers: epoch ms when the limit resets. */
  readonly resetAtMs: number | undefined;

  constructor(failure: ProviderFailure, hints: { retryAfterMs?: number; resetAtMs?: number } = {}) {
    super(failure.message);
    this.name = 'AttemptError';
    this.failure = failure;
    this.retryAfterMs = hints.retryAfterMs;
    this.resetAtMs = hints.resetAtMs;
  }
}
