import { describe, expect, test } from 'vitest';
import { LegateError } from '../../src/errors.js';
import { CredentialPool, type CredentialPoolOptions } from '../../src/provider/credential-pool.js';

const KEYS = ['sk-key-one-00000001', 'sk-key-two-00000002', 'sk-key-three-0000003'];

function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function pool(options: Partial<CredentialPoolOptions> = {}): CredentialPool {
  return new CredentialPool({ keys: KEYS, ...options });
}

const take = (p: CredentialPool, n: number): (string | undefined)[] => Array.from({ length: n }, () => p.acquire());

describe('strategies', () => {
  test('fill_first (default) uses the first key until it is out', () => {
    const p = pool();
    expect(p.strategy).toBe('fill_first');
    expect(take(p, 3)).toEqual([KEYS[0], KEYS[0], KEYS[0]]);
    p.reportRateLimited(KEYS[0]!);
    expect(p.acquire()).toBe(KEYS[1]);
  });

  test('round_robin cycles and skips keys that are out', () => {
    const p = pool({ strategy: 'round_robin' });
    expect(take(p, 4)).toEqual([KEYS[0], KEYS[1], KEYS[2], KEYS[0]]);
    p.reportRateLimited(KEYS[1]!);
    expect(take(p, 3)).toEqual([KEYS[2], KEYS[0], KEYS[2]]);
  });

  test('least_used picks the key acquired the fewest times', () => {
    const p = pool({ strategy: 'least_used' });
    expect(take(p, 3)).toEqual([KEYS[0], KEYS[1], KEYS[2]]);
    p.reportRateLimited(KEYS[0]!);
    expect(take(p, 2)).toEqual([KEYS[1], KEYS[2]]);
    expect(p.status().map((s) => s.uses)).toEqual([1, 2, 2]);
  });

  test('random uses the injected random source', () => {
    const values = [0.9, 0.1, 0.5];
    const p = pool({ strategy: 'random', random: () => values.shift() ?? 0 });
    expect(take(p, 3)).toEqual([KEYS[2], KEYS[0], KEYS[1]]);
  });

  test('unknown strategy and empty key lists are refused with the bad value named', () => {
    expect(() => pool({ strategy: 'fastest' as never })).toThrow(/unknown key strategy "fastest"/);
    expect(() => new CredentialPool({ keys: ['', ''] })).toThrow(LegateError);
  });

  test('duplicate keys are dropped', () => {
    expect(new CredentialPool({ keys: ['sk-same-key-123', 'sk-same-key-123'] }).size).toBe(1);
  });
});

describe('cool-downs', () => {
  test('a rate-limited key comes back after the default cool-down', () => {
    const clock = fakeClock();
    const p = pool({ now: clock.now, rateLimitCooldownMs: 60_000 });
    p.reportRateLimited(KEYS[0]!);
    expect(p.acquire()).toBe(KEYS[1]);
    clock.advance(59_999);
    expect(p.acquire()).toBe(KEYS[1]);
    clock.advance(1);
    expect(p.acquire()).toBe(KEYS[0]);
  });

  test('a reset time from the server overrides the default cool-down', () => {
    const clock = fakeClock();
    const p = pool({ now: clock.now });
    p.reportRateLimited(KEYS[0]!, clock.now() + 5_000);
    expect(p.status()[0]).toMatchObject({ state: 'rate_limited', until: clock.now() + 5_000 });
    clock.advance(5_000);
    expect(p.acquire()).toBe(KEYS[0]);
  });

  test('an auth failure takes the key out for the long cool-down and records the reason, masked', () => {
    const clock = fakeClock();
    const p = pool({ now: clock.now, authCooldownMs: 3_600_000 });
    p.reportAuthFailure(KEYS[0]!, 401, 'invalid x-api-key');
    expect(p.status()[0]).toEqual({
      masked: 'sk-...0001',
      state: 'auth_failed',
      until: clock.now() + 3_600_000,
      reason: 'refused (HTTP 401: invalid x-api-key)',
      uses: 0,
    });
    clock.advance(3_599_999);
    expect(p.acquire()).toBe(KEYS[1]);
  });

  test('reportSuccess puts a key back in good standing', () => {
    const p = pool();
    p.reportRateLimited(KEYS[0]!);
    p.reportSuccess(KEYS[0]!);
    expect(p.acquire()).toBe(KEYS[0]);
  });

  test('a success from a request that started before the failure does not bring the key back', () => {
    const clock = fakeClock();
    const p = pool({ now: clock.now });
    const startedBefore = clock.now();
    clock.advance(100);
    p.reportAuthFailure(KEYS[0]!, 401, 'revoked');
    p.reportSuccess(KEYS[0]!, startedBefore);
    expect(p.acquire()).toBe(KEYS[1]);
    expect(p.status()[0]).toMatchObject({ state: 'auth_failed' });
    clock.advance(100);
    p.reportSuccess(KEYS[0]!, clock.now());
    expect(p.acquire()).toBe(KEYS[0]);
  });

  test('unknown keys are ignored by the report methods', () => {
    const p = pool();
    p.reportRateLimited('sk-not-in-pool-999');
    p.reportAuthFailure('sk-not-in-pool-999', 401, 'x');
    expect(p.status().every((s) => s.state === 'available')).toBe(true);
  });
});

describe('all keys out', () => {
  test('acquire returns undefined and nextAvailableAt names the earliest return', () => {
    const clock = fakeClock();
    const p = pool({ now: clock.now });
    expect(p.nextAvailableAt()).toBeUndefined();
    p.reportRateLimited(KEYS[0]!, clock.now() + 9_000);
    p.reportRateLimited(KEYS[1]!, clock.now() + 3_000);
    p.reportAuthFailure(KEYS[2]!, 403, 'forbidden');
    expect(p.acquire()).toBeUndefined();
    expect(p.nextAvailableAt()).toBe(clock.now() + 3_000);
    clock.advance(3_000);
    expect(p.acquire()).toBe(KEYS[1]);
  });

  test('unavailableError names every masked key and why it is out, never a raw key', () => {
    const clock = fakeClock();
    const p = pool({ now: clock.now, endpoint: 'https://api.example.test/v1' });
    p.reportRateLimited(KEYS[0]!, clock.now() + 9_000);
    p.reportAuthFailure(KEYS[1]!, 401, 'bad key');
    p.reportAuthFailure(KEYS[2]!, 402, 'payment required');
    const error = p.unavailableError();
    expect(error.code).toBe('no_keys_available');
    expect(error.message).toBe(
      'no API key available for https://api.example.test/v1: ' +
        'sk-...0001 rate limited (HTTP 429) (back in 9s); ' +
        'sk-...0002 refused (HTTP 401: bad key); ' +
        'sk-...0003 refused (HTTP 402: payment required)',
    );
    for (const key of KEYS) expect(error.message).not.toContain(key);
  });

  test('a retry-after of 0 cools the key down for no time at all, not the default', () => {
    const clock = fakeClock();
    const p = pool({ now: clock.now, rateLimitCooldownMs: 60_000 });
    p.reportRateLimited(KEYS[0]!, clock.now());
    expect(p.acquire()).toBe(KEYS[0]);
  });

  test('acquire prefers keys not in avoid, falls back to them, and never picks excluded ones', () => {
    const p = pool();
    expect(p.acquire({ avoid: new Set([KEYS[0]!]) })).toBe(KEYS[1]);
    expect(p.acquire({ avoid: new Set(KEYS) })).toBe(KEYS[0]);
    expect(p.acquire({ avoid: new Set(KEYS), exclude: new Set([KEYS[0]!]) })).toBe(KEYS[1]);
    expect(p.acquire({ exclude: new Set(KEYS) })).toBeUndefined();
    expect(p.nextAvailableAt(new Set(KEYS))).toBeUndefined();
  });

  test('the wait bound is configurable (default 30 s)', () => {
    expect(pool().maxWaitMs).toBe(30_000);
    expect(pool({ maxWaitMs: 5 }).maxWaitMs).toBe(5);
  });
});
