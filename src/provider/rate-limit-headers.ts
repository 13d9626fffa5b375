/**
 * Reading how long a server wants us to back off: `retry-after-ms`, `retry-after` (seconds or an
 * HTTP date), and the rate-limit reset headers of OpenAI (`x-ratelimit-reset-*`, durations such as
 * `6m0s`) and Anthropic (`anthropic-ratelimit-*-reset`, RFC 3339 timestamps).
 */

export interface RateLimitHints {
  retryAfterMs?: number;
  resetAtMs?: number;
}

type HeaderSource = { get(name: string): string | null } | undefined;

export function readRateLimitHints(headers: HeaderSource, now: number = Date.now()): RateLimitHints {
  if (!headers) return {};
  const hints: RateLimitHints = {};
  const retryAfterMs = parseRetryAfter(headers.get('retry-after-ms'), headers.get('retry-after'), now);
  if (retryAfterMs !== undefined) hints.retryAfterMs = retryAfterMs;
  const resets = [durationMs(headers.get('x-ratelimit-reset-requests')), durationMs(headers.get('x-ratelimit-reset-tokens'))].map((delay) =>
    delay === undefined ? undefined : now + delay,
  );
  for (const name of ['requests', 'tokens', 'input-tokens', 'output-tokens']) {
    const value = headers.get(`anthropic-ratelimit-${name}-reset`);
    const at = value ? Date.parse(value) : NaN;
    resets.push(Number.isFinite(at) ? at : undefined);
  }
  const future = resets.filter((at): at is number => at !== undefined && at > now);
  if (future.length > 0) hints.resetAtMs = Math.max(...future);
  return hints;
}

function parseRetryAfter(msHeader: string | null, header: string | null, now: number): number | undefined {
  if (msHeader !== null) {
    const ms = Number(msHeader);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** `1s`, `20ms`, `6m0s`, `1h2m3.5s` (or a bare number of seconds) in milliseconds. */
export function durationMs(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const bare = Number(value);
  if (Number.isFinite(bare)) return bare * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let consumed = 0;
  for (const match of value.matchAll(pattern)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed += match[0].length;
  }
  return consumed === value.length ? total : undefined;
}
