import { CredentialPool, type CredentialPoolOptions } from '../../src/provider/credential-pool.js';
import { createProvider, type ProviderSettings } from '../../src/provider/registry.js';
import type { ModelRequest, Provider, ProviderEvent } from '../../src/provider/types.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';

export type Wire = 'openai' | 'anthropic';

/** A provider for `wire` pointed at the scripted server, with test-sized retry delays. */
export function providerFor(
  server: ScriptedServer,
  wire: Wire,
  keys: string[] | CredentialPool = ['sk-test-key-0001'],
  settings: Partial<ProviderSettings> = {},
): Provider {
  const pool = keys instanceof CredentialPool ? keys : new CredentialPool({ keys });
  return createProvider({
    provider: wire,
    baseUrl: wire === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl,
    pool,
    retryBaseDelayMs: 5,
    maxRetryDelayMs: 50,
    ...settings,
  });
}

export function poolOf(keys: string[], options: Partial<CredentialPoolOptions> = {}): CredentialPool {
  return new CredentialPool({ keys, ...options });
}

export function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: 'scripted-model',
    system: 'You are a test.',
    messages: [{ role: 'user', content: 'hello there' }],
    tools: [],
    ...overrides,
  };
}

export async function collect(provider: Provider, req: ModelRequest, signal: AbortSignal = new AbortController().signal): Promise<ProviderEvent[]> {
  const events: ProviderEvent[] = [];
  for await (const event of provider.stream(req, signal)) events.push(event);
  return events;
}

export function finalOf(events: ProviderEvent[]): Extract<ProviderEvent, { type: 'done' | 'error' }> {
  const last = events.at(-1);
  if (!last || (last.type !== 'done' && last.type !== 'error')) throw new Error(`no final event in ${JSON.stringify(events)}`);
  return last;
}

export function doneOf(events: ProviderEvent[]): Extract<ProviderEvent, { type: 'done' }> {
  const last = finalOf(events);
  if (last.type !== 'done') throw new Error(`expected done, got ${JSON.stringify(last)}`);
  return last;
}

export function errorOf(events: ProviderEvent[]): Extract<ProviderEvent, { type: 'error' }> {
  const last = finalOf(events);
  if (last.type !== 'error') throw new Error(`expected error, got ${JSON.stringify(last)}`);
  return last;
}
