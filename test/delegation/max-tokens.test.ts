import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../../src/config/endpoints.js';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { Session } from '../../src/session.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { childWith, isChild } from '../helpers/script.js';
import { closedAfterEach } from '../helpers/teardown.js';

/** Issue 12: max_tokens per model, configurable per layer; a child cut off every time ends `failed`. */

let server: ScriptedServer | undefined;
let runtime: Runtime | undefined;
const track = closedAfterEach();

const loaded = (raw: unknown) => ({ config: configSchema.parse(raw), file: undefined, home: '/tmp', unset: new Map<string, string[]>() });

describe('max_tokens resolution', () => {
  it('defaults per model: none on OpenAI (the model limit), by family on Anthropic; configured values inherit down the layers', () => {
    const openai = resolveEndpoints(loaded({ model: { name: 'gpt-4.1', api_key: 'sk-x-00000001' } }));
    expect(openai.parent.maxTokens).toBeUndefined();

    const anthropic = resolveEndpoints(
      loaded({
        model: { provider: 'anthropic', name: 'claude-sonnet-4-20250514', api_key: 'sk-ant-00000001' },
        delegation: { model: 'claude-3-5-haiku-latest', routes: { old: { model: 'claude-3-haiku-20240307' } } },
      }),
    );
    expect(anthropic.parent.maxTokens).toBe(16_384);
    expect(anthropic.child.maxTokens).toBe(8192);
    expect(anthropic.routes.get('old')!.maxTokens).toBe(4096);

    const configured = resolveEndpoints(
      loaded({
        model: { provider: 'anthropic', name: 'claude-sonnet-4-20250514', api_key: 'sk-ant-00000001', max_tokens: 32_000 },
        delegation: { max_tokens: 2000, routes: { small: { max_tokens: 500 }, same: { model: 'claude-3-haiku-20240307' } } },
      }),
    );
    expect(configured.parent.maxTokens).toBe(32_000);
    expect(configured.child.maxTokens).toBe(2000);
    expect(configured.routes.get('small')!.maxTokens).toBe(500);
    expect(configured.routes.get('same')!.maxTokens).toBe(2000);
  });

  it('a max_tokens that is not a positive integer is a config error naming the key', () => {
    expect(() => configSchema.parse({ model: { name: 'm' }, delegation: { max_tokens: 0 } })).toThrow(/max_tokens/);
    expect(() => configSchema.parse({ model: { name: 'm' }, delegation: { routes: { r: { max_tokens: 1.5 } } } })).toThrow(/max_tokens/);
  });
});

describe.each(['openai', 'anthropic'] as const)('children and max_tokens (%s wire)', (wire) => {
  it('each child request carries its layer max_tokens; a child cut off three times ends failed with exit_reason max_tokens', async () => {
    server = track(
      await startScriptedServer({
        handler: (request) => {
          if (childWith('CUT-CHILD')(request)) return { text: 'a long answer that never ends', truncated: true };
          if (isChild(request)) return { text: `${request.body.max_tokens} tokens allowed` };
          return { text: 'parent' };
        },
      }),
    );
    const cwd = mkdtempSync(join(tmpdir(), 'legate-max-tokens-'));
    track({ close: () => rmSync(cwd, { recursive: true, force: true }) });
    const config = configSchema.parse({
      model: {
        provider: wire,
        name: 'm',
        base_url: wire === 'openai' ? server.openaiBaseUrl : server.anthropicBaseUrl,
        api_key: 'sk-test-mt-0001',
        max_tokens: 3000,
      },
      delegation: { max_tokens: 700, routes: { tight: { max_tokens: 90 } } },
    });
    runtime = track(new Runtime({ loaded: { config, file: undefined, home: cwd, unset: new Map() }, cwd, store: new MemoryTaskStore() }));
    const session = new Session(runtime);
    await session.turn('hello');
    const spawn = (goal: string, route?: string) =>
      runtime!.tasks.spawn({ goal, model: 'm', depth: 1, sessionId: session.id, mode: 'async', cwd, toolsets: [], ...(route ? { route } : {}) });
    const plain = await spawn('PLAIN-CHILD');
    const tight = await spawn('TIGHT-CHILD', 'tight');
    const cut = await spawn('CUT-CHILD');
    await runtime.tasks.waitForSession(session.id);

    expect(server.requests[0]!.body.max_tokens).toBe(3000);
    expect(await runtime.tasks.get(session.id, plain.id)).toMatchObject({ status: 'completed', summary: '700 tokens allowed' });
    expect(await runtime.tasks.get(session.id, tight.id)).toMatchObject({ status: 'completed', summary: '90 tokens allowed' });
    const failed = await runtime.tasks.get(session.id, cut.id);
    expect(failed).toMatchObject({ status: 'failed', exitReason: 'max_tokens', apiCalls: 3 });
    expect(failed.error).toMatch(/cut off at the output token limit \(max_tokens 700\) 3 times in a row/);
    expect(server.requests.filter(childWith('CUT-CHILD'))).toHaveLength(3);
  });
});
