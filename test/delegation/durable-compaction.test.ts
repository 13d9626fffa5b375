import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { handoffPrompt } from '../../src/agent/context/prepare-context.js';
import { configSchema } from '../../src/config/schema.js';
import type { Message } from '../../src/provider/types.js';
import { Runtime } from '../../src/runtime.js';
import { operator } from '../../src/tasks/caller.js';
import type { LeaseKeeper } from '../../src/tasks/lease-keeper.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import type { CheckpointStep, TaskStore } from '../../src/tasks/store/task-store.js';
import type { RecordedRequest, ScriptedReply } from '../../src/testing/scripted-script.js';
import { useScriptedServer } from '../helpers/scripted.js';
import { childSpec, gate, intercept, until } from '../tasks/task-runtime-helpers.js';

/**
 * Issue 26, durable compaction: a compaction is a checkpoint step of its own. A process that stops
 * during the hand-off call resumes and compacts again; one that stops after it resumes from the
 * compacted context without re-sending the dropped turns; a steer arriving during the hand-off call
 * is delivered once. Two runtimes on one store are the two processes.
 */
const reads = 12;
const goal = 'DURABLE-GOAL: read the numbered files one by one and report';
const isHandoff = (request: RecordedRequest): boolean => request.text.includes(handoffPrompt);
const isTurn = (request: RecordedRequest): boolean => request.text.includes('DURABLE-GOAL') && !isHandoff(request);

/** A child that reads f1..f12 (each reply with some unprunable text), then answers; `hook` may take over a request. */
function childHandler(hook: (request: RecordedRequest) => Promise<ScriptedReply | undefined>) {
  return async (request: RecordedRequest): Promise<ScriptedReply> => {
    const took = await hook(request);
    if (took) return took;
    if (isHandoff(request)) return { text: `Goal: read the files.\nProgress: read up to f${lastRead(request)}.txt.\nNext steps: read the rest.` };
    const next = lastRead(request) + 1;
    if (next <= reads) {
      return {
        text: `Now reading f${next}.txt. ${'t'.repeat(600)}`,
        toolCalls: [{ id: `read_${next}`, name: 'read_file', arguments: { path: `f${next}.txt` } }],
      };
    }
    return { text: `Done after ${reads} reads.` };
  };
}

/** The highest file number the request's conversation already called read_file on (0: none). */
function lastRead(request: RecordedRequest): number {
  return [...request.text.matchAll(/f(\d+)\.txt/g)].reduce((max, match) => Math.max(max, Number(match[1])), 0);
}

/** One "process": a runtime on `store` (closing it leaves the store open for the next one). */
function processOn(baseUrl: string, store: TaskStore, cwd: string, parts: { overrides?: Partial<TaskStore>; leaseKeeper?: LeaseKeeper } = {}): Runtime {
  const config = configSchema.parse({
    model: { provider: 'openai', name: 'm', base_url: baseUrl, api_key: 'sk-test-durable-0001', max_retries: 0 },
    delegation: { context_window: 3000 },
    compaction: { reserve_tokens: 500, keep_tool_tokens: 1100, keep_recent_tokens: 600 },
  });
  const home = mkdtempSync(join(tmpdir(), 'legate-durable-home-'));
  const runtime = new Runtime({
    loaded: { config, file: undefined, home, unset: new Map() },
    cwd,
    store: intercept(store, { close: async () => {}, ...parts.overrides }),
    ...(parts.leaseKeeper ? { taskParts: { leaseKeeper: parts.leaseKeeper } } : {}),
  });
  onTestFinished(async () => {
    await runtime.close();
    rmSync(home, { recursive: true, force: true });
  });
  return runtime;
}

function workDir(): string {
  const cwd = mkdtempSync(join(tmpdir(), 'legate-durable-'));
  for (let i = 1; i <= reads; i++) writeFileSync(join(cwd, `f${i}.txt`), `READ-RESULT-${i} ${'y'.repeat(2000)}`);
  onTestFinished(() => rmSync(cwd, { recursive: true, force: true }));
  return cwd;
}

/** Each file was read once: the log (the full transcript) holds each read's whole result once. */
function expectEachReadOnce(messages: Message[]): void {
  const results = messages.filter((message) => message.role === 'tool');
  expect(results.map((message) => message.role === 'tool' && message.toolCallId)).toEqual(Array.from({ length: reads }, (_, i) => `read_${i + 1}`));
  for (const [i, result] of results.entries()) expect(result.content).toContain(`READ-RESULT-${i + 1} yyyy`);
}

/** Tool call ids of the messages a compaction dropped (transcript indexes 1 .. firstKept-1; checkpointed index i is transcript i+1). */
function droppedIds(messages: Message[], firstKept: number): string[] {
  return messages.slice(0, firstKept - 1).flatMap((message) => (message.role === 'assistant' ? (message.toolCalls ?? []).map((call) => call.id) : []));
}

describe('durable compaction (a checkpoint step of its own)', () => {
  it('a process stopping during the hand-off call: the resumed task compacts again and completes, each step once, the full transcript kept', async () => {
    const handoffInFlight = gate();
    let phase: 'first' | 'second' = 'first';
    const server = await useScriptedServer({
      handler: childHandler(async (request) => {
        if (phase === 'first' && isHandoff(request)) {
          handoffInFlight.open();
          return { hang: true };
        }
        return undefined;
      }),
    });
    const store = new MemoryTaskStore();
    const cwd = workDir();
    const first = processOn(server.openaiBaseUrl, store, cwd);
    const task = await first.tasks.spawn(childSpec(goal, cwd));
    await handoffInFlight.opened;
    await first.close(); // the process stops mid-compaction: the task is handed back
    expect(await store.get(task.id)).toMatchObject({ status: 'interrupted' });
    const before = await store.loadCheckpoint(task.id);
    expect(before.compactions).toBeUndefined();
    const requestsBefore = server.requests.length;

    phase = 'second';
    const second = processOn(server.openaiBaseUrl, store, cwd);
    await second.tasks.resume(operator, task.id);
    const { task: ended } = await second.tasks.waitForEnd(operator, task.id, 30_000);
    expect(ended).toMatchObject({ status: 'completed', summary: `Done after ${reads} reads.` });

    const after = server.requests.slice(requestsBefore);
    // The compaction that was cut short is done again, first thing: the context is still over its budget.
    expect(isHandoff(after[0]!)).toBe(true);
    const log = await store.loadCheckpoint(task.id);
    expectEachReadOnce(log.messages);
    expect(log.messages.slice(0, before.messages.length)).toEqual(before.messages);
    expect(log.compactions?.length).toBeGreaterThanOrEqual(1);
    // No model turn was repeated: one turn request per read, plus the final one.
    expect(server.requests.filter(isTurn)).toHaveLength(reads + 1);
    // After the compaction the turns it dropped are never sent again.
    const dropped = droppedIds(log.messages, log.compactions![0]!.firstKept);
    expect(dropped.length).toBeGreaterThan(0);
    for (const request of after.filter(isTurn)) for (const id of dropped) expect(sent(request)).not.toContain(`"${id}"`);
    expect(server.unexpected).toEqual([]);
  });

  it("a process that dies during the hand-off call (its lease lapses): another takes the task over and compacts; the dead one's late compaction is refused", async () => {
    const handoffInFlight = gate();
    const zombieMayAnswer = gate();
    let phase: 'first' | 'second' = 'first';
    const server = await useScriptedServer({
      handler: childHandler(async (request) => {
        if (phase === 'first' && isHandoff(request)) {
          handoffInFlight.open();
          await zombieMayAnswer.opened; // the dead process's call answers only after the takeover
          return { text: 'ZOMBIE-HANDOFF: written by the process that lost the task' };
        }
        return phase === 'first' && isTurn(request) && server.requests.some(isHandoff) ? { hang: true } : undefined;
      }),
    });
    const store = new MemoryTaskStore();
    const cwd = workDir();
    // The first process's lease is never renewed (as if it died): its run goes on, unaware.
    const dead: LeaseKeeper = { owner: 'host:1:dead', leaseMs: -1, hold() {}, release() {}, stop() {} };
    let zombieCompaction: Promise<string> | undefined;
    const first = processOn(server.openaiBaseUrl, store, cwd, {
      leaseKeeper: dead,
      overrides: {
        appendCheckpoint: (id: string, step: CheckpointStep, fence) => {
          const written = store.appendCheckpoint(id, step, fence);
          if (step.compaction)
            zombieCompaction = written.then(
              () => 'stored',
              (error: { code?: string }) => String(error.code),
            );
          return written;
        },
      },
    });
    const task = await first.tasks.spawn(childSpec(goal, cwd));
    await handoffInFlight.opened;

    phase = 'second';
    const second = processOn(server.openaiBaseUrl, store, cwd);
    await second.tasks.resume(operator, task.id); // its owner is gone: interrupted, then claimed here
    const { task: ended } = await second.tasks.waitForEnd(operator, task.id, 30_000);
    expect(ended).toMatchObject({ status: 'completed', summary: `Done after ${reads} reads.`, takeovers: 1 });

    zombieMayAnswer.open();
    await until(() => zombieCompaction !== undefined, 'the dead process to write its compaction');
    expect(await zombieCompaction).toBe('lease_lost');
    const log = await store.loadCheckpoint(task.id);
    expect(log.compactions?.length).toBeGreaterThanOrEqual(1);
    for (const compaction of log.compactions!) expect(compaction.handoff).not.toContain('ZOMBIE-HANDOFF');
    expectEachReadOnce(log.messages);
    expect(await store.get(task.id)).toMatchObject({ status: 'completed' });
  });

  it('a process stopping after a compaction: the resumed task continues from the compacted context, never re-sending the dropped turns', async () => {
    const stuck = gate();
    let phase: 'first' | 'second' = 'first';
    let handoffs = 0;
    const server = await useScriptedServer({
      handler: childHandler(async (request) => {
        if (isHandoff(request)) handoffs++;
        else if (phase === 'first' && handoffs > 0) {
          stuck.open();
          return { hang: true };
        }
        return undefined;
      }),
    });
    const store = new MemoryTaskStore();
    const cwd = workDir();
    const first = processOn(server.openaiBaseUrl, store, cwd);
    const task = await first.tasks.spawn(childSpec(goal, cwd));
    await stuck.opened;
    const compactedRequest = server.requests.at(-1)!;
    await first.close();
    const stored = await store.loadCheckpoint(task.id);
    expect(stored.compactions).toHaveLength(1);
    const [compaction] = stored.compactions!;
    expect(compaction).toMatchObject({ handoff: expect.stringContaining('Progress: read up to'), at: stored.messages.length });
    expect(compaction!.tokensAfter).toBeLessThan(compaction!.tokensBefore!);
    const dropped = droppedIds(stored.messages, compaction!.firstKept);
    expect(dropped.length).toBeGreaterThan(0);

    phase = 'second';
    const requestsBefore = server.requests.length;
    const second = processOn(server.openaiBaseUrl, store, cwd);
    await second.tasks.resume(operator, task.id);
    const { task: ended } = await second.tasks.waitForEnd(operator, task.id, 30_000);
    expect(ended).toMatchObject({ status: 'completed', summary: `Done after ${reads} reads.` });

    const resumed = server.requests[requestsBefore]!;
    // The resumed call is the one that was cut off, from the compacted context: no new hand-off call.
    expect(isTurn(resumed)).toBe(true);
    expect(resumed.body.messages).toEqual(compactedRequest.body.messages);
    expect(resumed.text).toContain('[Context compacted: earlier turns were replaced by this hand-off.]');
    expect(resumed.text).toContain(compaction!.handoff);
    expect(resumed.text).toContain('DURABLE-GOAL'); // the brief, verbatim
    for (const request of server.requests.slice(requestsBefore)) for (const id of dropped) expect(sent(request)).not.toContain(`"${id}"`);
    expectEachReadOnce((await store.loadCheckpoint(task.id)).messages);
    expect(server.unexpected).toEqual([]);
  });

  it('a steer arriving during compaction is delivered once', async () => {
    const steer = 'STEER-DURING-COMPACTION: also note the file sizes';
    let runtime: Runtime | undefined;
    let taskId = '';
    let steered = false;
    const server = await useScriptedServer({
      handler: childHandler(async (request) => {
        if (isHandoff(request) && !steered) {
          steered = true;
          await runtime!.tasks.steer(operator, taskId, steer);
        }
        return undefined;
      }),
    });
    const store = new MemoryTaskStore();
    const cwd = workDir();
    runtime = processOn(server.openaiBaseUrl, store, cwd);
    const task = await runtime.tasks.spawn(childSpec(goal, cwd));
    taskId = task.id;
    const { task: ended } = await runtime.tasks.waitForEnd(operator, task.id, 30_000);
    expect(ended).toMatchObject({ status: 'completed' });
    expect(steered).toBe(true);

    const log = await store.loadCheckpoint(task.id);
    expect(log.messages.filter((message) => message.role === 'user' && message.content.includes(steer))).toHaveLength(1);
    expect(await store.listSteers(task.id)).toMatchObject([{ message: steer, state: 'delivered' }]);
    // The model saw it, and never twice in one request.
    const carrying = server.requests.filter((request) => isTurn(request) && request.text.includes(steer));
    expect(carrying.length).toBeGreaterThan(0);
    for (const request of carrying) expect(request.text.split(steer)).toHaveLength(2);
    // It came after the hand-off it arrived during: the first request carrying it follows a compaction.
    const firstCarrying = carrying[0]!.index;
    expect(server.requests.slice(0, firstCarrying).some(isHandoff)).toBe(true);
    expect(server.unexpected).toEqual([]);
  });

  it('a steer arriving during a compaction the process does not finish is delivered once, by the resumed task', async () => {
    const steer = 'STEER-ACROSS-THE-CRASH: mention the sizes';
    const handoffInFlight = gate();
    let phase: 'first' | 'second' = 'first';
    let taskId = '';
    const store = new MemoryTaskStore();
    const server = await useScriptedServer({
      handler: childHandler(async (request) => {
        if (phase === 'first' && isHandoff(request)) {
          await store.addSteer(taskId, steer);
          handoffInFlight.open();
          return { hang: true };
        }
        return undefined;
      }),
    });
    const cwd = workDir();
    const first = processOn(server.openaiBaseUrl, store, cwd);
    taskId = (await first.tasks.spawn(childSpec(goal, cwd))).id;
    await handoffInFlight.opened;
    await first.close();
    expect(await store.listSteers(taskId)).toMatchObject([{ message: steer, state: 'queued' }]);

    phase = 'second';
    const second = processOn(server.openaiBaseUrl, store, cwd);
    await second.tasks.resume(operator, taskId);
    expect((await second.tasks.waitForEnd(operator, taskId, 30_000)).task).toMatchObject({ status: 'completed' });
    const log = await store.loadCheckpoint(taskId);
    expect(log.messages.filter((message) => message.role === 'user' && message.content.includes(steer))).toHaveLength(1);
    expect(await store.listSteers(taskId)).toMatchObject([{ message: steer, state: 'delivered' }]);
    const carrying = server.requests.filter((request) => isTurn(request) && request.text.includes(steer));
    expect(carrying.length).toBeGreaterThan(0);
    for (const request of carrying) expect(request.text.split(steer)).toHaveLength(2);
    expectEachReadOnce(log.messages);
    expect(server.unexpected).toEqual([]);
  });
});

/** The conversation a request sent, as JSON (tool call ids included). */
function sent(request: RecordedRequest): string {
  return JSON.stringify(request.body.messages);
}
