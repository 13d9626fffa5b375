import { errorBodyOf } from './activity-fetch.js';
import { AttemptTimeoutError } from './attempt-signal.js';
import { readRateLimitHints } from './rate-limit-headers.js';
import type { ProviderFailure } from './types.js';
import { AttemptError } from './wire-adapter.js';

/**
 * Turning what the SDKs throw into `ProviderFailure`s. Both SDKs (openai, @anthropic-ai/sdk) throw
 * errors of the same shape: `status` + `headers` for HTTP errors, a `cause` chain for network
 * errors, `APIUserAbortError` for aborts; so one classifier serves both wires.
 */

/** Status codes worth retrying on the same endpoint (timeouts, rate limits, server errors). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The failure for an attempt whose signal fired: the idle timeout (retryable) or the caller (aborted). */
export function abortFailure(signal: AbortSignal): ProviderFailure {
  if (signal.reason instanceof AttemptTimeoutError) {
    return { kind: 'network', message: `timed out: ${signal.reason.message}`, retryable: true };
  }
  return { kind: 'aborted', message: 'request aborted', retryable: false };
}

/** Classifies an error thrown while starting a request (before any event). */
export function startFailure(error: unknown, signal: AbortSignal): AttemptError {
  if (signal.aborted) return new AttemptError(abortFailure(signal));
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number') {
    const headers = (error as { headers?: { get(name: string): string | null } }).headers;
    return new AttemptError(
      { kind: 'http', status, message: `HTTP ${status}: ${serverMessage(error, status)}`, retryable: isRetryableStatus(status) },
      readRateLimitHints(headers),
    );
  }
  return new AttemptError({ kind: 'network', message: `network error: ${describeCause(error)}`, retryable: true });
}

/** Classifies an error thrown while reading a started stream: cut, malformed or an error event. */
export function streamFailure(error: unknown, signal: AbortSignal): ProviderFailure {
  if (signal.aborted) return abortFailure(signal);
  if (error instanceof SyntaxError) {
    return { kind: 'stream', message: `malformed stream data: ${error.message}`, retryable: false };
  }
  if ((error as { error?: unknown } | null)?.error !== undefined) {
    // An SDK APIError built from an error event/chunk the server sent mid-stream.
    const type = errorEventType(error);
    const named = type ? `${type}: ` : '';
    const retryable = type === undefined || !refusedEventTypes.has(type);
    return { kind: 'stream', message: `error event in stream: ${named}${serverMessage(error, undefined)}`, retryable };
  }
  return { kind: 'stream', message: `stream interrupted: ${describeCause(error)}`, retryable: true };
}

/**
 * Error event types that say the request itself is wrong (the same request would fail again):
 * Anthropic's `invalid_request_error` / `authentication_error` / `permission_error` /
 * `not_found_error` / `request_too_large`, OpenAI's `invalid_request_error`. The others
 * (`overloaded_error`, `api_error`, `rate_limit_error`, `server_error`, an unknown type) are retried.
 */
const refusedEventTypes = new Set(['invalid_request_error', 'authentication_error', 'permission_error', 'not_found_error', 'request_too_large']);

/** `error.type` of an error event: Anthropic `{type:"error", error:{type}}`, OpenAI `{error:{type}}` (the SDK keeps the inner object). */
function errorEventType(error: unknown): string | undefined {
  const body = (error as { error?: { type?: unknown; error?: { type?: unknown } } }).error;
  const type = body?.error?.type ?? body?.type;
  return typeof type === 'string' && type !== 'error' ? type : undefined;
}

/** The failure for a stream that ended cleanly but without its final marker. */
export function truncatedFailure(missing: string): ProviderFailure {
  return { kind: 'stream', message: `stream ended before ${missing} (connection closed mid-message)`, retryable: true };
}

/** The server's own error message from an SDK error body, falling back to the SDK's message. */
function serverMessage(error: unknown, status: number | undefined): string {
  const body = (error as { error?: unknown }).error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const fromBody = body?.error?.message ?? body?.message;
  if (typeof fromBody === 'string' && fromBody) return fromBody;
  // A body the SDK did not keep (no `error` key: vLLM's `{object: "error", message}`): its message, or its text.
  const raw = errorBodyOf((error as { headers?: unknown }).headers);
  if (raw) return rawMessage(raw);
  const message = error instanceof Error ? error.message : String(error);
  return status !== undefined && message.startsWith(`${status} `) ? message.slice(`${status} `.length) : message;
}

/** The `message` of a JSON error body, else the body's text (at most 500 characters). */
function rawMessage(raw: string): string {
  try {
    const parsed = JSON.parse(raw) as { message?: unknown; detail?: unknown };
    const message = parsed.message ?? parsed.detail;
    if (typeof message === 'string' && message) return message;
  } catch {
    // not JSON: the text itself
  }
  return raw.length > 500 ? `${raw.slice(0, 500)}…` : raw;
}

/** `Connection error. (ECONNRESET: read ECONNRESET)`: the SDK message plus the innermost cause. */
export function describeCause(error: unknown): string {
  const top = error instanceof Error ? error.message : String(error);
  let cause: unknown = (error as { cause?: unknown } | null)?.cause;
  let detail: string | undefined;
  for (let depth = 0; cause && depth < 5; depth += 1) {
    const code = (cause as { code?: unknown }).code;
    const message = cause instanceof Error ? cause.message : String(cause);
    detail = typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return detail && detail !== top ? `${top} (${detail})` : top;
}
