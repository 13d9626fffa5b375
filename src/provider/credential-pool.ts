import { LegateError } from '../errors.js';
import { maskKey } from '../secrets.js';

/**
 * How `acquire()` picks among available keys: `fill_first` uses the first key until it is out,
 * `round_robin` cycles, `least_used` picks the key acquired the fewest times, `random` picks any.
 */
export type PoolStrategy = 'fill_first' | 'round_robin' | 'least_used' | 'random';

export const poolStrategies: readonly PoolStrategy[] = ['fill_first', 'round_robin', 'least_used', 'random'];

export interface CredentialPoolOptions {
  /** One or more API keys for the same endpoint. Duplicates are dropped. */
  keys: string[];
  strategy?: PoolStrategy;
  /** Names the endpoint in error messages (never a key). */
  endpoint?: string;
  /** Cool-down after a 429 without a reset time. Default 60 s. */
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

  /** Picks an available key by the pool's strategy and counts a use, or `undefined` when all are out. */
  acquire(): string | undefined {
    const available = this.available();
    if (available.length === 0) return undefined;
    const chosen = this.pick(available);
    chosen.uses += 1;
    return chosen.key;
  }

  /** Epoch ms when the earliest cooling key comes back; `undefined` if one is available now. */
  nextAvailableAt(): number | undefined {
    if (this.available().length > 0) return undefined;
    return Math.min(...this.states.map((state) => state.outUntil));
  }

  /** A 429: cool the key down until `resetAtMs`, or for the default cool-down. */
  reportRateLimited(key: string, resetAtMs?: number): void {
    const state = this.find(key);
    if (!state) return;
    const now = this.now();
    const until = resetAtMs !== undefined && resetAtMs > now ? resetAtMs : now + this.rateLimitCooldownMs;
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
    state.reason = `auth failed (HTTP ${status}${reason ? `: ${reason}` : ''})`;
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

  /** Each key that is out, masked, with why and for how long: `sk-...a1b2 HTTP 401: bad key (back in 3600s)`. */
  describeUnavailable(): string {
    const now = this.now();
    return this.status()
      .filter((status) => status.state !== 'available')
      .map((status) => `${status.masked} ${status.reason ?? status.state} (back in ${Math.ceil(((status.until ?? now) - now) / 1000)}s)`)
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
