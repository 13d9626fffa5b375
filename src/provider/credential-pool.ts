import { LegateError } from '../errors.js';
import { maskKey } from '../secrets.js';

/**
 * How `acquire()` picks among available keys: `fill_first` uses the first key until it is out,
 * `round_robin` cycles, `least_used` picks the key acquired the fewest times, `random` picks any.
 */
export const poolStrategies = ['fill_first', 'round_robin', 'least_used', 'random'] as const;

export type PoolStrategy = (typeof poolStrategies)[number];

export interface CredentialPoolOptions {
  /** One or more API keys for the same endpoint. Duplicates are dropped. */
  keys: string[];
  strategy?: PoolStrategy;
  /** Names the endpoint in error messages (never a key). */
  endpoint?: string;
  /** Cool-down after a 429 that named no `retry-after` or reset time. Default 60 s. */
  rateLimitCooldownMs?: number;
  /** How long a key that failed authentication stays out of rotation. Default 1 hour. */
  authCooldownMs?: number;
  /** When every key is cooling down, callers wait for the earliest if it is at most this far away. Default 30 s. */
  maxWaitMs?: number;
  /** Clock in epoch milliseconds (injected by tests). */
  now?: () => number;
  /** Random source in [0, 1) for the `random` strategy. */
  random?: () => number;
}

/** Why a key is out of rotation, as shown to users. `masked` is the only form of the key exposed. */
export interface KeyStatus {
  masked: string;
  state: 'available' | 'rate_limited' | 'auth_failed';
  /** Epoch ms when the key becomes available again (absent when available). */
  until?: number;
  reason?: string;
  uses: number;
}

/** What `acquire()` may pick: never a key in `exclude`; a key in `avoid` only when nothing else is available. */
export interface KeyChoice {
  avoid?: ReadonlySet<string>;
  exclude?: ReadonlySet<string>;
}

/** One key's state in words: `sk-...a1b2 rate limited (HTTP 429) (back in 9s)` or `sk-...a1b2 refused (HTTP 401: …)`. */
export function describeKey(status: KeyStatus, now: number): string {
  const why = status.reason ?? status.state.replace('_', ' ');
  if (status.state === 'auth_failed') return `${status.masked} ${why}`;
  const back = status.until !== undefined && status.until > now ? ` (back in ${Math.ceil((status.until - now) / 1000)}s)` : '';
  return `${status.masked} ${why}${back}`;
}

interface KeyState {
  key: string;
  uses: number;
  outUntil: number;
  state: KeyStatus['state'];
  reason?: string;
  /** When the key was last reported failing: older successes do not bring it back. */
  failedAt?: number;
}

/**
 * A pool of API keys for ONE endpoint, shared by a parent agent and its children so rotation state
 * is one. Never throws from the `report*` methods; `acquire()` returns `undefined` when every key
 * is cooling down (see `nextAvailableAt()` and `unavailableError()`).
 */
export class CredentialPool {
  readonly strategy: PoolStrategy;
  readonly endpoint: string;
  readonly maxWaitMs: number;
  readonly now: () => number;
  private readonly states: KeyState[];
  private readonly rateLimitCooldownMs: number;
  private readonly authCooldownMs: number;
  private readonly random: () => number;
  private cursor = 0;

  constructor(options: CredentialPoolOptions) {
    const keys = [...new Set(options.keys.filter((key) => key.length > 0))];
    if (keys.length === 0) {
      throw new LegateError('config_missing_key', `credential pool for ${options.endpoint ?? 'endpoint'} needs at least one non-empty API key`);
    }
    const strategy = options.strategy ?? 'fill_first';
    if (!poolStrategies.includes(strategy)) {
      throw new LegateError('config_invalid', `unknown key strategy "${strategy}"; expected one of ${poolStrategies.join(', ')}`);
    }
    this.strategy = strategy;
    this.endpoint = options.endpoint ?? 'endpoint';
    this.maxWaitMs = options.maxWaitMs ?? 30_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.rateLimitCooldownMs = options.rateLimitCooldownMs ?? 60_000;
    this.authCooldownMs = options.authCooldownMs ?? 3_600_000;
    this.states = keys.map((key) => ({ key, uses: 0, outUntil: 0, state: 'available' }));
  }

  get size(): number {
    return this.states.length;
  }

  /** The raw keys, for redacting them from text. Never log this. */
  secrets(): string[] {
    return this.states.map((state) => state.key);
  }

  /**
   * Picks an available key by the pool's strategy and counts a use, or `undefined` when none is.
   * Keys in `exclude` are never picked; keys in `avoid` only when no other key is available (a call
   * passes the keys that already failed it, so it moves on to a key it has not tried).
   */
  acquire(choice: KeyChoice = {}): string | undefined {
    const usable = this.available().filter((state) => !choice.exclude?.has(state.key));
    if (usable.length === 0) return undefined;
    const fresh = usable.filter((state) => !choice.avoid?.has(state.key));
    const chosen = this.pick(fresh.length > 0 ? fresh : usable);
    chosen.uses += 1;
    return chosen.key;
  }

  /** Epoch ms when the earliest cooling key (not in `exclude`) comes back; `undefined` if one is available now or none is left. */
  nextAvailableAt(exclude?: ReadonlySet<string>): number | undefined {
    const candidates = this.states.filter((state) => !exclude?.has(state.key));
    const now = this.now();
    if (candidates.length === 0 || candidates.some((state) => state.outUntil <= now)) return undefined;
    return Math.min(...candidates.map((state) => state.outUntil));
  }

  /** A 429: cool the key down until `untilMs` (from `retry-after` or a reset header, even if that is now), else for the default cool-down. */
  reportRateLimited(key: string, untilMs?: number): void {
    const state = this.find(key);
    if (!state) return;
    const now = this.now();
    const until = untilMs ?? now + this.rateLimitCooldownMs;
    state.state = 'rate_limited';
    state.failedAt = now;
    state.outUntil = Math.max(state.outUntil, until);
    state.reason = 'rate limited (HTTP 429)';
  }

  /** A 401/402/403: take the key out of rotation for the long cool-down, remembering why. */
  reportAuthFailure(key: string, status: number, reason: string): void {
    const state = this.find(key);
    if (!state) return;
    state.state = 'auth_failed';
    state.failedAt = this.now();
    state.outUntil = this.now() + this.authCooldownMs;
    state.reason = `refused (HTTP ${status}${reason ? `: ${reason}` : ''})`;
  }

  /**
   * A request with this key, started at `startedAt`, succeeded: the key is in good standing again,
   * unless it was reported failing after that request started (the failure is the newer news).
   */
  reportSuccess(key: string, startedAt: number = this.now()): void {
    const state = this.find(key);
    if (!state) return;
    if (state.failedAt !== undefined && startedAt < state.failedAt) return;
    state.state = 'available';
    state.outUntil = 0;
    delete state.reason;
  }

  /** Every key's state, masked. */
  status(): KeyStatus[] {
    const now = this.now();
    return this.states.map((state) => {
      const out = state.outUntil > now;
      const status: KeyStatus = { masked: maskKey(state.key), state: out ? state.state : 'available', uses: state.uses };
      if (out) {
        status.until = state.outUntil;
        if (state.reason) status.reason = state.reason;
      }
      return status;
    });
  }

  /**
   * Each key that is out, masked, with why: `sk-...a1b2 rate limited (HTTP 429) (back in 9s)`,
   * `sk-...c3d4 refused (HTTP 401: bad key)` (a refused key is out until it is fixed, so no "back in").
   */
  describeUnavailable(): string {
    return this.status()
      .filter((status) => status.state !== 'available')
      .map((status) => describeKey(status, this.now()))
      .join('; ');
  }

  /** The error for "no key can be used": names each masked key and why it is out. */
  unavailableError(): LegateError {
    return new LegateError('no_keys_available', `no API key available for ${this.endpoint}: ${this.describeUnavailable()}`, {
      endpoint: this.endpoint,
    });
  }

  private available(): KeyState[] {
    const now = this.now();
    return this.states.filter((state) => state.outUntil <= now);
  }

  private pick(available: KeyState[]): KeyState {
    switch (this.strategy) {
      case 'fill_first':
        return available[0]!;
      case 'round_robin': {
        // The first available key at or after the cursor, in pool order.
        const n = this.states.length;
        for (let step = 0; step < n; step += 1) {
          const state = this.states[(this.cursor + step) % n]!;
          if (available.includes(state)) {
            this.cursor = (this.states.indexOf(state) + 1) % n;
            return state;
          }
        }
        return available[0]!;
      }
      case 'least_used':
        return available.reduce((best, state) => (state.uses < best.uses ? state : best));
      case 'random':
        return available[Math.min(available.length - 1, Math.floor(this.random() * available.length))]!;
    }
  }

  private find(key: string): KeyState | undefined {
    return this.states.find((state) => state.key === key);
  }
}
