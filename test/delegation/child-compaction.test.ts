import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handoffPrompt } from '../../src/agent/context/prepare-context.js';
import type { RecordedRequest } from '../../src/testing/scripted-script.js';
import type { ContextLengthStyle, ScriptedServer } from '../../src/testing/scripted-server.js';
import { runtimeOnScripted, toolCaller, useScriptedServer, type Wire } from '../helpers/scripted.js';

/** Issue 26: a background child that reads more than its window completes (proactive and reactive). */
const window = 3000;
const reads = 40;

async function longChild(wire: Wire, delegation: Record<string, unknown>, style?: ContextLengthStyle): Promise<{ server: ScriptedServer; collected: any }> {
  let done = 0;
  const server = await useScriptedServer({
    contextWindow: window,
    ...(style ? { contextLengthStyle: style } : {}),
    handler: (request: RecordedRequest) => {
      if (request.text.includes(handoffPrompt)) return { text: `Goal: survey.\nProgress: ${done} reads.\nNext steps: continue.` };
      if (done < reads) {
        done++;
        return { toolCalls: [{ name: 'read_file', arguments: { path: 'source.txt' } }] };
      }
      return { text: `Done after ${done} reads.` };
    },
  });
  const runtime = runtimeOnScripted(server, wire, {
    // A network error (a pooled connection to a closed server's reused port) is retried; a 400 never is.
    model: { max_retries: 2 },
    delegation,
    compaction: { reserve_tokens: 500, keep_tool_tokens: 1100, keep_recent_tokens: 600 },
  });
  await writeFile(join(runtime.cwd, 'source.txt'), 'y'.repeat(4000));
  const call = toolCaller(runtime, 's_compact');
  const spawned = await call('delegate_task_async', { goal: 'read source.txt forty times' });
  const collected = await call('collect_task', { task_id: spawned.task_id, timeout: 60 });
  return { server, collected };
}

describe.each<Wire>(['openai', 'anthropic'])('a child past its window (%s wire)', (wire) => {
  it('with delegation.context_window: completes and no request is over the window', async () => {
    const { server, collected } = await longChild(wire, { context_window: window });
    expect(collected).toMatchObject({ status: 'completed', summary: `Done after ${reads} reads.` });
    for (const request of server.requests) expect(Math.ceil(request.text.length / 4)).toBeLessThanOrEqual(window);
    expect(server.requests.some((request) => request.text.includes(handoffPrompt))).toBe(true);
    expect(server.unexpected).toEqual([]);
  });

  it('without a window: the context-length 400 teaches it, the child completes', async () => {
    const { server, collected } = await longChild(wire, {});
    expect(collected).toMatchObject({ status: 'completed', summary: `Done after ${reads} reads.` });
    expect(server.requests.filter((request) => Math.ceil(request.text.length / 4) > window)).toHaveLength(1);
    expect(server.unexpected).toEqual([]);
  });
});

describe.each<ContextLengthStyle>(['openrouter', 'vllm', 'llamacpp', 'ollama'])(
  'no window configured, %s answers the over-long request with its own context-length 400',
  (style) => {
    it('the child learns from that body, compacts, retries once and completes', async () => {
      const { server, collected } = await longChild('openai', {}, style);
      expect(collected, `${collected.error}\n${JSON.stringify(server.unexpected)}`).toMatchObject({
        status: 'completed',
        summary: `Done after ${reads} reads.`,
      });
      // Ollama's text names no limit: it learns "below what was sent" and may be told once more; the others exactly once.
      const over = server.requests.filter((request) => Math.ceil(request.text.length / 4) > window);
      if (style === 'ollama') expect(over.length).toBeGreaterThanOrEqual(1);
      else expect(over).toHaveLength(1);
      expect(server.unexpected).toEqual([]);
    });
  },
);

describe('the window as a child knows it', () => {
  /** A runtime whose children each read source.txt `perChild` times, then answer. */
  async function readingRuntime(contextWindow: number, perChild: number, delegation: Record<string, unknown>) {
    const counts = new Map<string, number>();
    const server = await useScriptedServer({
      contextWindow,
      handler: (request: RecordedRequest) => {
        if (request.text.includes(handoffPrompt)) return { text: 'Goal: survey.\nProgress: reading.\nNext steps: continue.' };
        const name = /child (\w+)/.exec(request.text)?.[1] ?? '?';
        const done = counts.get(name) ?? 0;
        if (done < perChild) {
          counts.set(name, done + 1);
          return { toolCalls: [{ name: 'read_file', arguments: { path: 'source.txt' } }] };
        }
        return { text: `child ${name} done after ${done} reads.` };
      },
    });
    const runtime = runtimeOnScripted(server, 'openai', {
      delegation,
      compaction: { reserve_tokens: 500, keep_tool_tokens: 1100, keep_recent_tokens: 600 },
    });
    await writeFile(join(runtime.cwd, 'source.txt'), 'y'.repeat(4000));
    const call = toolCaller(runtime, 's_window');
    return { server, runtime, call };
  }

  it('a limit one child learned from the 400 spares its later siblings the failed call (remembered for the process)', async () => {
    const { server, call } = await readingRuntime(window, 12, {});
    const first = await call('delegate_task_async', { goal: 'child alpha: read source.txt' });
    expect(await call('collect_task', { task_id: first.task_id, timeout: 60 })).toMatchObject({ status: 'completed' });
    const overAfterFirst = server.requests.filter((request) => Math.ceil(request.text.length / 4) > window).length;
    expect(overAfterFirst).toBe(1);
    const second = await call('delegate_task_async', { goal: 'child beta: read source.txt' });
    expect(await call('collect_task', { task_id: second.task_id, timeout: 60 })).toMatchObject({ status: 'completed' });
    expect(server.requests.filter((request) => Math.ceil(request.text.length / 4) > window)).toHaveLength(overAfterFirst);
    const checked = await call('check_task', { task_id: second.task_id });
    expect(checked.context_use).toMatch(new RegExp(`^context \\d+% of ${window / 1000}k, compacted \\d+×$`));
  });

  it('a 200-turn child with a window completes; no request is ever over it; check_task says how full its context is and how often it was compacted', async () => {
    const { server, call } = await readingRuntime(window, 200, { context_window: window, max_iterations: 210 });
    const spawned = await call('delegate_task_async', { goal: 'child long: read source.txt two hundred times' });
    const collected = await call('collect_task', { task_id: spawned.task_id, timeout: 120 });
    expect(collected).toMatchObject({ status: 'completed', summary: 'child long done after 200 reads.' });
    for (const request of server.requests) expect(Math.ceil(request.text.length / 4)).toBeLessThanOrEqual(window);
    const checked = await call('check_task', { task_id: spawned.task_id });
    const [, percent, times] = /^context (\d+)% of 3k, compacted (\d+)×$/.exec(checked.context_use) ?? [];
    expect(Number(percent)).toBeLessThanOrEqual(100);
    expect(Number(times)).toBeGreaterThan(10);
    expect(server.unexpected).toEqual([]);
  }, 60_000);
});
