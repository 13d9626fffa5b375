import { errorMessage } from '../errors.js';
import { maskKey, redactSecrets } from '../secrets.js';
import { createAttemptSignal } from './attempt-signal.js';
import { CallAttempts } from './call-attempts.js';
import type { CredentialPool } from './credential-pool.js';
import { backoffDelay, decideRetry, defaultRetryOptions, type RetryOptions } from './retry-policy.js';
import { sleep } from './sleep.js';
import type { ModelRequest, Provider, ProviderEvent, ProviderFailure } from './types.js';
import { AttemptError, type WireAdapter } from './wire-adapter.js';

/**
 * A `Provider` over one wire adapter and a credential pool: picks a key, makes an attempt, and on a
 * failure before streaming retries, rotates keys or gives up (retry-policy.ts). After a 429 or a
 * refused key the next attempt goes at once to a key this call has not seen fail; it waits for a
 * cooling key only when no other is available. A stream that fails before its final `done` (cut,
 * ended without its finish marker, an `error` event such as `overloaded_error`, an idle stall) is
 * retried like a 5xx, with the same request: no tool call of that reply has run, and the reply is
 * discarded (the `retry` event says `discarded: true`: consumers drop the deltas they have shown).
 * Never throws; failure messages name the status, endpoint and masked key and never contain a raw key.
 */
export function createResilientProvider(adapter: WireAdapter, pool: CredentialPool, options: Partial<RetryOptions> = {}): Provider {
  const policy: RetryOptions = { ...defaultRetryOptions, ...stripUndefined(options) };
  const where = `${adapter.wire} ${adapter.endpoint}`;
  const redact = (text: string): string => redactSecrets(text, pool.secrets());
  const fail = (failure: ProviderFailure): ProviderEvent => ({ type: 'error', failure: { ...failure, message: redact(failure.message) } });
  const abortedFailure: ProviderFailure = { kind: 'aborted', message: `request to ${where} aborted`, retryable: false };
  const aborted: ProviderEvent = { type: 'error', failure: abortedFailure };

  async function* stream(request: ModelRequest, signal: AbortSignal): AsyncGenerator<ProviderEvent> {
    const attempts = new CallAttempts();
    let waits = 0;
    let last: ProviderFailure | undefined;
    const gaveUp = (): ProviderEvent => {
      const count = attempts.total;
      return fail({ ...last!, message: `gave up after ${count} attempt${count === 1 ? '' : 's'}: ${last!.message}`, retryable: last!.retryable });
    };

    while (true) {
      if (signal.aborted) {
        yield aborted;
        return;
      }
      // A key this call has not seen fail first; a key tried maxAttempts times never again.
      const exhausted = attempts.exhausted(policy.maxAttempts);
      const key = pool.acquire({ avoid: attempts.avoid(pool.secrets()), exclude: exhausted });
      if (key === undefined) {
        const nextAt = pool.nextAvailableAt(exhausted);
        const waitMs = nextAt === undefined ? undefined : Math.max(0, nextAt - pool.now());
        // Waits are bounded too: a shared pool can be cooled down again by others while we sleep.
        if (waitMs === undefined || waitMs > pool.maxWaitMs || waits >= policy.maxAttempts * pool.size) {
          yield fail(attempts.noKeysFailure(pool, where, last?.status));
          return;
        }
        yield { type: 'retry', attempt: attempts.total + 1, delayMs: waitMs, reason: redact(`every key for ${where} is cooling down; waiting for the first`) };
        waits += 1;
        if (!(await pause(waitMs, signal))) {
          yield aborted;
          return;
        }
        continue;
      }
      attempts.started(key);

      const watch = createAttemptSignal(signal, policy.timeoutMs);
      const startedAt = pool.now();
      let events: AsyncIterable<ProviderEvent>;
      try {
        events = await adapter.attempt(request, { apiKey: key, signal: watch.signal, onActivity: watch.touch });
      } catch (thrown) {
        watch.dispose();
        const error = thrown instanceof AttemptError ? thrown : new AttemptError({ kind: 'network', message: errorMessage(thrown), retryable: false });
        if (error.failure.kind === 'aborted' || signal.aborted) {
          yield aborted;
          return;
        }
        last = { ...error.failure, message: `${error.failure.message} [${where}, key ${maskKey(key)}]` };
        const decision = decideRetry(error, key, attempts.serverFailures + 1, pool, policy);
        if (decision.action === 'fail') {
          yield attempts.total > 1 ? gaveUp() : fail(last);
          return;
        }
        if (decision.action === 'rotate') {
          attempts.keyFailed(key, error.failure);
          const spent = attempts.exhausted(policy.maxAttempts);
          if (spent.size < pool.size && pool.nextAvailableAt(spent) === undefined) {
            yield { type: 'retry', attempt: attempts.total + 1, delayMs: 0, reason: redact(`${last.message}; switching to the next key`) };
          }
          continue;
        }
        attempts.serverFailures += 1;
        if (attempts.serverFailures >= policy.maxAttempts) {
          yield gaveUp();
          return;
        }
        yield { type: 'retry', attempt: attempts.total + 1, delayMs: decision.delayMs, reason: redact(last.message) };
        if (!(await pause(decision.delayMs, signal))) {
          yield aborted;
          return;
        }
        continue;
      }

      pool.reportSuccess(key, startedAt);
      let failure: ProviderFailure | undefined;
      let streamed = false;
      try {
        for await (const event of events) {
          if (event.type === 'error') {
            failure = event.failure;
            break;
          }
          if (event.type === 'text.delta') streamed = true;
          yield event;
          if (event.type === 'done') return;
        }
      } finally {
        watch.dispose();
      }
      failure ??= { kind: 'stream', message: `stream from ${where} ended without a final event`, retryable: true };
      if (failure.kind === 'aborted' || signal.aborted) {
        yield aborted;
        return;
      }
      last = { ...failure, message: `${failure.message} [${where}, key ${maskKey(key)}]` };
      attempts.serverFailures += 1;
      if (!failure.retryable) {
        yield attempts.total > 1 ? gaveUp() : fail(last);
        return;
      }
      if (attempts.serverFailures >= policy.maxAttempts) {
        yield attempts.total > 1 ? gaveUp() : fail(last);
        return;
      }
      const delayMs = backoffDelay(attempts.serverFailures, policy);
      yield { type: 'retry', attempt: attempts.total + 1, delayMs, reason: redact(last.message), ...(streamed ? { discarded: true } : {}) };
      if (!(await pause(delayMs, signal))) {
        yield aborted;
        return;
      }
    }
  }

  return { wire: adapter.wire, endpoint: adapter.endpoint, stream };
}

/** Sleeps; false when the signal aborted first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
    return true;
  } catch {
    // no body to read: not that error
    return false;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
