import { afterEach, describe, expect, test } from 'vitest';
import type { ProviderEvent } from '../../src/provider/types.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { collect, doneOf, errorOf, poolOf, providerFor, request, type Wire } from './provider-helpers.js';

const KEY_A = 'sk-aaaa-secret-key-1111';
const KEY_B = 'sk-bbbb-secret-key-2222';

let server: ScriptedServer;
afterEach(async () => {
  await server?.close();
});

const retries = (events: ProviderEvent[]) => events.filter((event) => event.type === 'retry');

describe.each(['openai', 'anthropic'] as const)('%s: one retry policy', (wire: Wire) => {
  test('500 then success: retried with backoff, retry event emitted', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 500 } }, { reply: { text: 'recovered' } }] });
    const events = await collect(providerFor(server, wire), request());
    expect(doneOf(events).message.content).toBe('recovered');
    const [retry] = retries(events);
    expect(retry).toMatchObject({ type: 'retry', attempt: 2 });
    expect(retry!.type === 'retry' && retry.reason).toMatch(/HTTP 500/);
    expect(server.requests).toHaveLength(2);
    server.assertDone();
  });

  test('429 without retry-after cools key A down and rotates to key B', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 429 } }, { reply: { text: 'from key B' } }] });
    const pool = poolOf([KEY_A, KEY_B]);
    const events = await collect(providerFor(server, wire, pool), request());
    expect(doneOf(events).message.content).toBe('from key B');
    expect(server.requests.map((req) => req.apiKey)).toEqual([KEY_A, KEY_B]);
    expect((retries(events)[0] as { reason: string }).reason).toMatch(/HTTP 429.*sk-\.\.\.1111.*next key/);
    expect(pool.status().map((status) => status.state)).toEqual(['rate_limited', 'available']);
  });

  test('429 with a long retry-after rotates instead of waiting', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 429, headers: { 'retry-after': '120' } } }, { reply: { text: 'B' } }] });
    const pool = poolOf([KEY_A, KEY_B]);
    const events = await collect(providerFor(server, wire, pool), request());
    expect(doneOf(events).message.content).toBe('B');
    expect(server.requests.map((req) => req.apiKey)).toEqual([KEY_A, KEY_B]);
    expect(pool.status()[0]!.until! - Date.now()).toBeGreaterThan(100_000);
  });

  test('401 on every key fails naming the masked keys, never the raw ones', async () => {
    server = await startScriptedServer({
      handler: () => ({
        status: 401,
        errorBody:
          wire === 'openai'
            ? { error: { message: 'Incorrect API key provided' } }
            : { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
      }),
    });
    const pool = poolOf([KEY_A, KEY_B]);
    const failure = errorOf(await collect(providerFor(server, wire, pool), request())).failure;
    expect(failure.kind).toBe('no_keys');
    expect(failure.status).toBe(401);
    expect(failure.message).toContain('sk-...1111');
    expect(failure.message).toContain('sk-...2222');
    expect(failure.message).toContain('HTTP 401');
    expect(failure.message).not.toContain(KEY_A);
    expect(failure.message).not.toContain(KEY_B);
    expect(server.requests.map((req) => req.apiKey)).toEqual([KEY_A, KEY_B]);
    expect(pool.status().map((status) => status.state)).toEqual(['auth_failed', 'auth_failed']);
  });

  test('403 rotates to the next key and succeeds', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 403 } }, { reply: { text: 'ok' } }] });
    const events = await collect(providerFor(server, wire, poolOf([KEY_A, KEY_B])), request());
    expect(doneOf(events).message.content).toBe('ok');
    expect(server.requests.map((req) => req.apiKey)).toEqual([KEY_A, KEY_B]);
  });

  test('a connection reset is retried', async () => {
    server = await startScriptedServer({ steps: [{ reply: { resetConnection: true } }, { reply: { text: 'reconnected' } }] });
    const events = await collect(providerFor(server, wire), request());
    expect(retries(events)[0]!.type === 'retry' && (retries(events)[0] as { reason: string }).reason).toMatch(/network error/);
    expect(doneOf(events).message.content).toBe('reconnected');
  });

  test('other 4xx fail at once with the server message', async () => {
    const body =
      wire === 'openai'
        ? { error: { message: 'model "nope" does not exist', type: 'invalid_request_error' } }
        : { type: 'error', error: { type: 'invalid_request_error', message: 'model "nope" does not exist' } };
    server = await startScriptedServer({ steps: [{ reply: { status: 400, errorBody: body } }] });
    const events = await collect(providerFor(server, wire), request());
    const failure = errorOf(events).failure;
    expect(failure).toMatchObject({ kind: 'http', status: 400, retryable: false });
    expect(failure.message).toContain('model "nope" does not exist');
    expect(failure.message).toContain('sk-...0001');
    expect(failure.message).not.toContain('sk-test-key-0001');
    expect(retries(events)).toHaveLength(0);
    expect(server.requests).toHaveLength(1);
  });

  test('gives up after maxAttempts of 5xx', async () => {
    server = await startScriptedServer({ handler: () => ({ status: 503 }) });
    const events = await collect(providerFor(server, wire, undefined, { maxAttempts: 3 }), request());
    const failure = errorOf(events).failure;
    expect(failure.message).toMatch(/gave up after 3 attempts: HTTP 503/);
    expect(retries(events)).toHaveLength(2);
    expect(server.requests).toHaveLength(3);
  });
});

describe('retry edge cases', () => {
  test('an abort during a backoff wait ends the stream promptly with aborted', async () => {
    server = await startScriptedServer({ handler: () => ({ status: 500 }) });
    const controller = new AbortController();
    const provider = providerFor(server, 'openai', undefined, { retryBaseDelayMs: 60_000, maxRetryDelayMs: 60_000 });
    const events: ProviderEvent[] = [];
    const started = Date.now();
    for await (const event of provider.stream(request(), controller.signal)) {
      events.push(event);
      if (event.type === 'retry') controller.abort();
    }
    expect(errorOf(events).failure.kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('when every key is cooling down briefly, waits for the first to come back', async () => {
    server = await startScriptedServer({
      steps: [{ reply: { status: 429, headers: { 'retry-after': '0.3' } } }, { reply: { text: 'back' } }],
    });
    // The only key cools down for its retry-after; with no other key the call waits for it.
    const pool = poolOf([KEY_A]);
    const events = await collect(providerFor(server, 'openai', pool), request());
    expect(retries(events)[0]).toMatchObject({ type: 'retry' });
    expect((retries(events)[0] as { reason: string }).reason).toMatch(/cooling down/);
    expect(doneOf(events).message.content).toBe('back');
    expect(server.requests.map((req) => req.apiKey)).toEqual([KEY_A, KEY_A]);
  });

  test('when every key is out for longer than the pool bound, fails naming each key and why', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 429 } }, { reply: { status: 429 } }] });
    const pool = poolOf([KEY_A, KEY_B], { maxWaitMs: 1000, rateLimitCooldownMs: 60_000, endpoint: 'test-endpoint' });
    const failure = errorOf(await collect(providerFor(server, 'anthropic', pool), request())).failure;
    expect(failure.kind).toBe('no_keys');
    expect(failure.message).toMatch(/sk-\.\.\.1111 rate limited/);
    expect(failure.message).toMatch(/sk-\.\.\.2222 rate limited/);
    expect(failure.message).not.toContain(KEY_A);
    server.assertDone();
  });

  test('a pool shared by two providers shares rotation state', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 429 } }, { reply: { text: 'parent' } }, { reply: { text: 'child' } }] });
    const pool = poolOf([KEY_A, KEY_B]);
    const parent = providerFor(server, 'openai', pool);
    const child = providerFor(server, 'anthropic', pool);
    expect(doneOf(await collect(parent, request())).message.content).toBe('parent');
    expect(doneOf(await collect(child, request())).message.content).toBe('child');
    expect(server.requests.map((req) => req.apiKey)).toEqual([KEY_A, KEY_B, KEY_B]);
  });

  test('a server error message that echoes the key is redacted', async () => {
    server = await startScriptedServer({ steps: [{ reply: { status: 400, errorBody: { error: { message: `bad key ${KEY_A} for this org` } } } }] });
    const failure = errorOf(await collect(providerFor(server, 'openai', poolOf([KEY_A])), request())).failure;
    expect(failure.message).toContain('bad key sk-...1111 for this org');
    expect(failure.message).not.toContain(KEY_A);
  });

  test('connection refused is a retryable network failure', async () => {
    server = await startScriptedServer();
    const url = server.url;
    await server.close();
    const events = await collect(providerFor({ ...server, openaiBaseUrl: `${url}/v1` } as ScriptedServer, 'openai', undefined, { maxAttempts: 2 }), request());
    const failure = errorOf(events).failure;
    expect(failure.kind).toBe('network');
    expect(failure.message).toMatch(/gave up after 2 attempts: network error/);
    expect(failure.message).toMatch(/ECONNREFUSED/);
  });
});
