import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/agent/events.js';
import type { LegateError } from '../../src/errors.js';
import type { Runtime } from '../../src/runtime.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { operator, type TaskRunner, TaskService } from '../../src/tasks/task-service.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { childSpec, gate, intercept, removeDirs, runtimeOn, tempDir, until } from './task-runtime-helpers.js';

let server: ScriptedServer | undefined;
const runtimes: Runtime[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const runtime of runtimes.splice(0)) await runtime.close().catch(() => {});
  await server?.close();
  server = undefined;
  removeDirs(dirs);
});

describe('owner fencing', () => {
  it("a process whose lease lapsed and whose task was taken over cannot finish it: the new owner's run stands", async () => {
    const toA = gate();
    const toB = gate();
    let childCalls = 0;
    server = await startScriptedServer({
      handler: async () => {
        const call = ++childCalls;
        if (call === 1) {
          await toA.opened;
          return { text: 'A SUMMARY from the stale owner' };
        }
        await toB.opened;
        return { text: 'B SUMMARY from the new owner' };
      },
    });
    const work = tempDir('legate-fence-', dirs);
    const file = join(work, 'state.db');
    // Process A's heartbeat cannot reach the store (as when it is frozen), so its lease lapses.
    const storeA = intercept(SqliteTaskStore.open(file), { heartbeat: () => Promise.reject(new Error('store unreachable')) });
    const a = runtimeOn(storeA, server.openaiBaseUrl, work);
    runtimes.push(a);
    const task = await a.tasks.spawn(childSpec('RACE', work));
    await until(() => childCalls === 1, "A's model call");
    const raw = new Database(file);
    raw.prepare('UPDATE tasks SET lease_expires_at = ? WHERE id = ?').run(Date.now() - 1, task.id);
    raw.close();

    // Process B takes it over and resumes it.
    const b = runtimeOn(SqliteTaskStore.open(file), server.openaiBaseUrl, work);
    runtimes.push(b);
    expect(await b.tasks.claimWaiting(1)).toEqual([task.id]);
    await until(() => childCalls === 2, "B's model call");
    expect(await b.tasks.get(operator, task.id)).toMatchObject({ status: 'running', owner: b.tasks.owner, epoch: 2, takeovers: 1 });

    // A's model call returns: A must write nothing.
    toA.open();
    await until(() => server!.requests[0]!.finishedAt !== undefined, "A's reply");
    await a.tasks.shutdown();
    expect(await b.tasks.get(operator, task.id)).toMatchObject({ status: 'running', owner: b.tasks.owner, epoch: 2 });

    toB.open();
    const { task: ended } = await b.tasks.waitForEnd(operator, task.id, 15_000);
    expect(ended).toMatchObject({ status: 'completed', owner: b.tasks.owner, summary: 'B SUMMARY from the new owner' });
    const { messages } = await b.tasks.checkpoint(operator, task.id);
    expect(messages).toEqual([{ role: 'assistant', content: 'B SUMMARY from the new owner' }]);
    const { output } = await b.tasks.trail(operator, task.id);
    expect(output.join('\n')).not.toContain('A SUMMARY');
  });

  it('a process that cannot renew its lease aborts the child before the lease runs out, and writes nothing more for it', async () => {
    const store = new MemoryTaskStore();
    let reason: unknown;
    const aborted = gate();
    const runner: TaskRunner = {
      run: (_task, control) =>
        new Promise<RunResult>((resolve) => {
          control.signal.addEventListener('abort', () => {
            reason = control.signal.reason;
            aborted.open();
            // What a child does after an abort: report it, and try to record one more line.
            control.emit({ type: 'tool.finished', callId: 'c', name: 'late_tool', content: 'late', isError: false, durationMs: 1 });
            resolve({ status: 'cancelled', exitReason: 'cancelled', final: '', messages: [], usage: { inputTokens: 0, outputTokens: 0 }, apiCalls: 0 });
          });
        }),
    };
    const failing = intercept(store, { heartbeat: () => Promise.reject(new Error('connection reset')) });
    const service = new TaskService({ store: failing, runner, maxConcurrent: 1, leaseMs: 300, heartbeatMs: 20 });
    const task = await service.spawn(childSpec('NO-RENEWAL', '/tmp'));
    await aborted.opened;
    expect((reason as LegateError).code).toBe('lease_lost');
    expect((reason as LegateError).message).toContain('could not be renewed');
    await service.shutdown();
    const after = await store.get(task.id);
    // Nothing written after the loss: no final status, no late output (another process reaps it).
    expect(after).toMatchObject({ status: 'running', outputLines: 0 });
    expect(after!.error).toBeUndefined();
  });
});

describe('store write failures', () => {
  it("a checkpoint that cannot be written stops the child before it runs the reply's tools, with a clear error", async () => {
    server = await startScriptedServer();
    server.enqueue({ reply: { toolCalls: [{ name: 'list_dir', arguments: {} }] } });
    const work = tempDir('legate-lost-cp-', dirs);
    const inner = SqliteTaskStore.open(join(work, 'state.db'));
    const store = intercept(inner, { appendCheckpoint: () => Promise.reject(new Error('disk I/O error')) });
    const runtime = runtimeOn(store, server.openaiBaseUrl, work);
    runtimes.push(runtime);
    const task = await runtime.tasks.spawn(childSpec('LOST-CHECKPOINT', work));
    const { task: ended } = await runtime.tasks.waitForEnd(operator, task.id, 15_000);
    expect(ended.status).toBe('failed');
    expect(ended.error).toContain(`store_write_failed: task "${task.id}": checkpoint step 0 was not written: disk I/O error`);
    // The tool never ran and no second model call was made.
    expect((await runtime.tasks.trail(operator, task.id)).output.join('\n')).not.toContain('← list_dir');
    expect(server.requests).toHaveLength(1);
  });
});

describe('steering and hand-back', () => {
  it('a steer delivered before a model call survives a hand-back during that call: the resumed child sees it', async () => {
    const firstCall = gate();
    server = await startScriptedServer();
    server.enqueue(
      { label: 'first', reply: async () => (await firstCall.opened, { toolCalls: [{ name: 'list_dir', arguments: {} }] }) },
      { label: 'carries-steer', reply: { hang: true } },
      { label: 'after-resume', match: (request) => request.text.includes('KEEP-THIS-STEER'), reply: { text: 'resumed with the steer' } },
    );
    const work = tempDir('legate-steer-handback-', dirs);
    const file = join(work, 'state.db');
    const first = runtimeOn(SqliteTaskStore.open(file), server.openaiBaseUrl, work);
    runtimes.push(first);
    const task = await first.tasks.spawn(childSpec('STEERED', work));
    await until(() => server!.requests.length === 1, 'the first model call');
    await first.tasks.steer(operator, task.id, 'KEEP-THIS-STEER: count only .ts files');
    firstCall.open();
    await until(() => server!.requests.length === 2, 'the call carrying the steer');
    expect(server.requests[1]!.text).toContain('KEEP-THIS-STEER');
    // Hand the task back (as on SIGTERM / Ctrl-C) while that call is in flight.
    await first.close();
    const second = runtimeOn(SqliteTaskStore.open(file), server.openaiBaseUrl, work);
    runtimes.push(second);
    expect((await second.tasks.get(operator, task.id)).status).toBe('interrupted');
    expect((await second.tasks.trail(operator, task.id)).steers.map((steer) => steer.state)).toEqual(['delivered']);
    await second.tasks.resume(operator, task.id);
    const { task: ended } = await second.tasks.waitForEnd(operator, task.id, 15_000);
    expect(ended).toMatchObject({ status: 'completed', summary: 'resumed with the steer' });
    expect(server.requests.at(-1)!.stepLabel).toBe('after-resume');
    server.assertDone();
  });
});
