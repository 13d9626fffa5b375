import { describe, expect, test } from 'vitest';
import { LegateError } from '../../src/errors.js';
import { CredentialPool } from '../../src/provider/credential-pool.js';
import { durationMs, readRateLimitHints } from '../../src/provider/rate-limit-headers.js';
import { createProvider } from '../../src/provider/registry.js';
import { backoffDelay, defaultRetryOptions } from '../../src/provider/retry-policy.js';
import { maskKey, redactSecrets } from '../../src/secrets.js';

describe('secrets', () => {
  test('maskKey keeps the first 3 and last 4 characters', () => {
    expect(maskKey('sk-proj-abcdefghijkla1b2')).toBe('sk-...a1b2');
    expect(maskKey('123456789')).toBe('123...6789');
    expect(maskKey('12345678')).toBe('***');
    expect(maskKey('')).toBe('***');
  });

  test('redactSecrets replaces every occurrence of every key', () => {
    const keys = ['sk-first-secret-1111', 'sk-second-secret-2222'];
    const text = 'used sk-first-secret-1111 then sk-second-secret-2222 then sk-first-secret-1111 again';
    expect(redactSecrets(text, keys)).toBe('used sk-...1111 then sk-...2222 then sk-...1111 again');
    expect(redactSecrets('nothing here', keys)).toBe('nothing here');
    expect(redactSecrets('x', [''])).toBe('x');
  });
});

describe('rate-limit headers', () => {
  const headers = (values: Record<string, string>) => new Headers(values);
  const now = Date.parse('2025-01-01T00:00:00Z');

  test('retry-after in seconds, as a date, and retry-after-ms', () => {
    expect(readRateLimitHints(headers({ 'retry-after': '2' }), now).retryAfterMs).toBe(2000);
    expect(readRateLimitHints(headers({ 'retry-after': '0.5' }), now).retryAfterMs).toBe(500);
    expect(readRateLimitHints(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now).retryAfterMs).toBe(30_000);
    expect(readRateLimitHints(headers({ 'retry-after-ms': '150', 'retry-after': '9' }), now).retryAfterMs).toBe(150);
    expect(readRateLimitHints(headers({ 'retry-after': 'soon' }), now).retryAfterMs).toBeUndefined();
  });

  test('OpenAI and Anthropic reset headers give the latest reset time', () => {
    expect(readRateLimitHints(headers({ 'x-ratelimit-reset-requests': '1m30s', 'x-ratelimit-reset-tokens': '20ms' }), now).resetAtMs).toBe(now + 90_000);
    expect(readRateLimitHints(headers({ 'anthropic-ratelimit-requests-reset': '2025-01-01T00:01:00Z' }), now).resetAtMs).toBe(now + 60_000);
    expect(readRateLimitHints(headers({}), now)).toEqual({});
  });

  test('durations', () => {
    expect(durationMs('6m0s')).toBe(360_000);
    expect(durationMs('1h2m3.5s')).toBe(3_723_500);
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('3')).toBe(3000);
    expect(durationMs('later')).toBeUndefined();
  });
});

describe('backoff', () => {
  test('doubles per attempt with jitter in [0.5, 1), capped', () => {
    const options = { ...defaultRetryOptions, retryBaseDelayMs: 100, maxRetryDelayMs: 1000 };
    expect(backoffDelay(1, { ...options, random: () => 0 })).toBe(50);
    expect(backoffDelay(3, { ...options, random: () => 0.999 })).toBeCloseTo(400, -1);
    expect(backoffDelay(10, { ...options, random: () => 0 })).toBe(500);
  });
});

describe('registry', () => {
  const pool = new CredentialPool({ keys: ['sk-registry-key-1'] });

  test('maps wire names to adapters with default base URLs', () => {
    expect(createProvider({ provider: 'openai', pool })).toMatchObject({ wire: 'openai', endpoint: 'https://api.openai.com/v1' });
    expect(createProvider({ provider: 'anthropic', pool })).toMatchObject({ wire: 'anthropic', endpoint: 'https://api.anthropic.com' });
    expect(createProvider({ provider: 'openai', pool, baseUrl: 'http://localhost:1/v1/' }).endpoint).toBe('http://localhost:1/v1');
  });

  test('an unknown wire is refused, naming it', () => {
    expect(() => createProvider({ provider: 'gemini' as never, pool })).toThrow(LegateError);
    expect(() => createProvider({ provider: 'gemini' as never, pool })).toThrow(/unknown provider "gemini"; expected one of openai, anthropic/);
  });
});
