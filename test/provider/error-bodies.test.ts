import { serve } from '@hono/node-server';
import { describe, expect, it } from 'vitest';
import type { ContextLengthStyle } from '../../src/testing/scripted-server.js';
import { providerFor } from '../agent/loop-harness.js';
import { useScriptedServer } from '../helpers/scripted.js';

/**
 * The openai SDK keeps an error body's text only when it has an `error` key; vLLM's top-level
 * `{object: "error", message}` would read "400 status code (no body)". activityFetch keeps the body.
 * Also once @hono/node-server (the dashboard's server) has replaced the global `Response`, which it
 * does at `serve()`: keying the body by the headers object's identity lost it then (CI found it).
 */
describe('error bodies the SDK does not keep', () => {
  it.each<[string, ContextLengthStyle]>([
    ['vLLM', 'vllm'],
    ['llama.cpp', 'llamacpp'],
  ])('%s: the context-length text reaches the failure, also after hono replaced the global Response', async (_name, style) => {
    const server = await useScriptedServer({ contextWindow: 1, contextLengthStyle: style });
    const failureText = async (): Promise<string> => {
      for await (const event of providerFor(server).stream(
        { model: 'm', system: 's', messages: [{ role: 'user', content: 'hello there' }], tools: [] },
        new AbortController().signal,
      ))
        if (event.type === 'error') return event.failure.message;
      return 'no error';
    };
    expect(await failureText()).toMatch(/context (length|size)/);
    const hono = serve({ fetch: () => new Response('ok'), port: 0, hostname: '127.0.0.1' });
    try {
      expect(await failureText()).toMatch(/context (length|size)/);
    } finally {
      hono.close();
    }
  });
});
