import { afterEach, describe, expect, test } from 'vitest';
import type { ProviderEvent } from '../../src/provider/types.js';
import type { ScriptedReply } from '../../src/testing/scripted-script.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { collect, doneOf, errorOf, poolOf, providerFor, request, type Wire } from './provider-helpers.js';

const KEY_A = 'sk-aaaa-secret-key-1111';
const KEY_B = 'sk-bbbb-secret-key-2222';
const KEY_C = 'sk-cccc-secret-key-3333';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

const retries = (events: ProviderEvent[]) => events.filter((event): event is Extract<ProviderEvent, { type: 'retry' }> => event.type === 'retry');
const keysUsed = () => server.requests.map((req) => req.apiKey);

/** A server where the keys in `limited` always get `limit` and the others an answer naming their key. */
function limitKeys(limited: string[], limit: ScriptedReply): Promise<ScriptedServer> {
  return startScriptedServer({
    handler: (req) => (limited.includes(req.apiKey ?? '') ? limit : { text: `answered on ${req.apiKey}` }),
  });
}

const rateLimitHeaders: [string, Record<string, string>, number | undefined][] = [
  ['retry-after: 0', { 'retry-after': '0' }, 0],
  ['retry-after: 1', { 'retry-after': '1' }, 1000],
  ['retry-after: 30', { 'retry-after': '30' }, 30_000],
  ['retry-after-ms: 1500', { 'retry-after-ms': '1500' }, 1500],
  ['no retry-after', {}, undefined],
];

describe.each(['openai', 'anthropic'] as const)('%s: a 429 moves the call to another key', (wire: Wire) => {
  test.each(rateLimitHeaders)('%s: the next attempt goes to key B at once, A cools down for what the server asked', async (_name, headers, cooldownMs) => {
    server = await limitKeys([KEY_A], { status: 429, headers });
    const pool = poolOf([KEY_A, KEY_B], { rateLimitCooldownMs: 45_000 });
    const before = Date.now();
    // max_retries 0 (one attempt per key): still never fails while an untried key is available.
    const events = await collect(providerFor(server, wire, pool, { maxAttempts: 1 }), request());
    expect(doneOf(events).message.content).toBe(`answered on ${KEY_B}`);
    expect(keysUsed()).toEqual([KEY_A, KEY_B]);
    expect(retries(events)).toHaveLength(1);
    expect(retries(events)[0]!.delayMs).toBe(0);
    expect(retries(events)[0]!.reason).toMatch(/HTTP 429.*sk-\.\.\.1111.*next key/);
    // The limited key is out for the server's retry-after (or the pool default), then back in rotation.
    const status = pool.status()[0]!;
    const expected = cooldownMs ?? 45_000;
    if (expected === 0) expect(status.state).toBe('available');
    else {
      expect(status.state).toBe('rate_limited');
      expect(status.until! - before).toBeGreaterThanOrEqual(expected - 50);
      expect(status.until! - before).toBeLessThan(expected + 5_000);
    }
  });

  test('three keys: A and B limited, the call reaches C in three attempts without waiting', async () => {
    server = await limitKeys([KEY_A, KEY_B], { status: 429, headers: { 'retry-after': '1' } });
    const events = await collect(providerFor(server, wire, poolOf([KEY_A, KEY_B, KEY_C]), { maxAttempts: 1 }), request());
    expect(doneOf(events).message.content).toBe(`answered on ${KEY_C}`);
    expect(keysUsed()).toEqual([KEY_A, KEY_B, KEY_C]);
    expect(retries(events).map((retry) => retry.delayMs)).toEqual([0, 0]);
  });

  test('a key limited with retry-after 0 by one call is tried after the untried key by the next attempt, then used again', async () => {
    // A answers 429 once, then works: after B answered, fill_first goes back to A (it has cooled down).
    let limitedOnce = false;
    server = await startScriptedServer({
      handler: (req) => {
        if (req.apiKey === KEY_A && !limitedOnce) {
          limitedOnce = true;
          return { status: 429, headers: { 'retry-after': '0' } };
        }
        return { text: `answered on ${req.apiKey}` };
      },
    });
    const pool = poolOf([KEY_A, KEY_B]);
    const provider = providerFor(server, wire, pool);
    expect(doneOf(await collect(provider, request())).message.content).toBe(`answered on ${KEY_B}`);
    expect(doneOf(await collect(provider, request())).message.content).toBe(`answered on ${KEY_A}`);
    expect(keysUsed()).toEqual([KEY_A, KEY_B, KEY_A]);
  });

  test('fill_first prefers the first key again once its retry-after has passed', async () => {
    let limitedOnce = false;
    server = await startScriptedServer({
      handler: (req) => {
        if (req.apiKey === KEY_A && !limitedOnce) {
          limitedOnce = true;
          return { status: 429, headers: { 'retry-after-ms': '300' } };
        }
        return { text: `answered on ${req.apiKey}` };
      },
    });
    const pool = poolOf([KEY_A, KEY_B]);
    const provider = providerFor(server, wire, pool);
    expect(doneOf(await collect(provider, request())).message.content).toBe(`answered on ${KEY_B}`);
    // While A cools down, calls go to B.
    expect(doneOf(await collect(provider, request())).message.content).toBe(`answered on ${KEY_B}`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(doneOf(await collect(provider, request())).message.content).toBe(`answered on ${KEY_A}`);
    expect(keysUsed()).toEqual([KEY_A, KEY_B, KEY_B, KEY_A]);
  });

  test('every key limited with a short retry-after: the wait is honoured, each key tried maxAttempts times, the error names every key masked', async () => {
    server = await limitKeys([KEY_A, KEY_B], { status: 429, headers: { 'retry-after-ms': '150' } });
    const pool = poolOf([KEY_A, KEY_B], { endpoint: 'scripted' });
    const events = await collect(providerFor(server, wire, pool, { maxAttempts: 2 }), request());
    const failure = errorOf(events).failure;
    expect(keysUsed()).toEqual([KEY_A, KEY_B, KEY_A, KEY_B]);
    // After both keys were limited the call waited for the first to come back (not a busy retry).
    const waits = retries(events).filter((retry) => /cooling down/.test(retry.reason));
    expect(waits.length).toBeGreaterThanOrEqual(1);
    expect(waits[0]!.delayMs).toBeGreaterThan(0);
    expect(server.requests[2]!.startedAt - server.requests[1]!.startedAt).toBeGreaterThanOrEqual(100);
    expect(failure).toMatchObject({ kind: 'no_keys', status: 429, retryable: false });
    expect(failure.message).toMatch(/no API key available for .* after 4 attempts/);
    expect(failure.message).toMatch(/sk-\.\.\.1111 rate limited \(HTTP 429: .*\) \(2 attempts\)/);
    expect(failure.message).toMatch(/sk-\.\.\.2222 rate limited \(HTTP 429: .*\) \(2 attempts\)/);
    expect(failure.message).not.toContain(KEY_A);
    expect(failure.message).not.toContain(KEY_B);
  });

  test('every key limited with retry-after 0: retried at once on each key in turn, then the error names both', async () => {
    server = await limitKeys([KEY_A, KEY_B], { status: 429, headers: { 'retry-after': '0' } });
    const events = await collect(providerFor(server, wire, poolOf([KEY_A, KEY_B]), { maxAttempts: 3 }), request());
    expect(keysUsed()).toEqual([KEY_A, KEY_B, KEY_A, KEY_B, KEY_A, KEY_B]);
    const failure = errorOf(events).failure;
    expect(failure.message).toContain('sk-...1111');
    expect(failure.message).toContain('sk-...2222');
    expect(failure.message).toContain('(3 attempts)');
  });

  test('one key limited for longer than the pool waits: fails at once naming the key and when it is back', async () => {
    server = await limitKeys([KEY_A], { status: 429, headers: { 'retry-after': '120' } });
    const failure = errorOf(await collect(providerFor(server, wire, poolOf([KEY_A])), request())).failure;
    expect(keysUsed()).toEqual([KEY_A]);
    expect(failure.kind).toBe('no_keys');
    expect(failure.message).toMatch(/sk-\.\.\.1111 rate limited \(HTTP 429: .*\), back in 1[12]\ds/);
  });
});

describe.each(['openai', 'anthropic'] as const)('%s: a refused key', (wire: Wire) => {
  test('a single key answered 401: says once that it was refused, which key (masked) and what to check', async () => {
    const key = 'sk-test-refused-0000';
    const errorBody =
      wire === 'openai'
        ? { error: { message: 'Incorrect API key provided' } }
        : { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } };
    server = await startScriptedServer({ handler: () => ({ status: 401, errorBody }) });
    const failure = errorOf(await collect(providerFor(server, wire, poolOf([key])), request())).failure;
    const serverMessage = wire === 'openai' ? 'Incorrect API key provided' : 'invalid x-api-key';
    expect(failure).toMatchObject({ kind: 'no_keys', status: 401 });
    expect(failure.message).toMatch(/^API key refused by /);
    expect(failure.message).toContain(`sk-...0000 refused (HTTP 401: ${serverMessage})`);
    expect(failure.message).toMatch(/Check that this key is valid and active for this endpoint/);
    expect(failure.message.split(serverMessage)).toHaveLength(2);
    expect(failure.message.split('HTTP 401')).toHaveLength(2);
    expect(failure.message).not.toMatch(/back in|last error/);
    expect(failure.message).not.toContain(key);
    expect(server.requests).toHaveLength(1);
  });
});
