import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { runCli, scriptedConfig, startCli, tempDir, tempHome, until } from '../helpers/cli.js';
import { runMain, startMain } from '../helpers/main.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { spanNamed } from './trace-tree.js';

/** Steers and approvals are events on the span of the task they reach. */

let server: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await server?.close();
  await receiver?.close();
});

const idIn = (text: string): string => /"task_id":"(t_[0-9a-f]+)"/.exec(text)![1]!;

describe('task events on the task span', () => {
  it('a steer: legate.task.steered when the parent steers, legate.steer.delivered when the child gets it', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'STEERED-GOAL' } }] } },
      {
        match: (request) => isParent(request) && request.text.includes('"task_id"') && !request.text.includes('"delivery"'),
        reply: (request) => ({ toolCalls: [{ name: 'steer_task', arguments: { task_id: idIn(request.text), message: 'STEER-TEXT' } }] }),
      },
      { match: (request) => isParent(request) && request.text.includes('"delivery"') && !request.text.includes('STEERED-SUMMARY'), reply: { text: 'waiting' } },
      { match: (request) => isParent(request) && request.text.includes('STEERED-SUMMARY'), reply: { text: 'DONE' } },
      { match: childWith('STEERED-GOAL'), reply: { delayMs: 1_500, toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { match: childWith('STEERED-GOAL'), reply: (request) => ({ text: request.text.includes('STEER-TEXT') ? 'STEERED-SUMMARY' : 'not steered' }) },
    );
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const result = await runCli(['run', 'go'], { home, cwd: work, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    expect(result.code, result.stderr).toBe(0);
    const child = spanNamed(receiver.spans, 'invoke_agent child');
    const names = child.events.map((event) => event.name);
    // Noted once: when the parent queued it, not again when the child took it from the store.
    expect(names.filter((name) => name === 'legate.task.steered')).toHaveLength(1);
    expect(names).toContain('legate.steer.delivered');
    expect(child.events.find((event) => event.name === 'legate.steer.delivered')!.attributes['legate.steer.count']).toBe(1);
    // No steer text without content capture.
    expect(receiver.bodies.map((body) => body.text).join('\n')).not.toContain('STEER-TEXT');
  }, 60_000);

  it('a steer from another process (legate tasks steer, untraced): legate.task.steered on the span, at the time it was made', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'OUTSIDE-GOAL' } }] } },
      { label: 'child', match: childWith('OUTSIDE-GOAL'), reply: { delayMs: 1_500, toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { match: childWith('OUTSIDE-GOAL'), reply: (request) => ({ text: request.text.includes('OUTSIDE-STEER') ? 'STEERED' : 'not steered' }) },
      { match: isParent, reply: { text: 'DONE' } },
    );
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const run = startMain(['run', 'go'], { home, cwd: work, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    await until(() => server!.requests.some((request) => request.stepLabel === 'child'), 30_000, 'the child to call the model');
    const store = SqliteTaskStore.open(join(home, 'state.db'));
    const taskId = (await store.list({ status: ['running'] }))[0]!.id;
    await store.close();
    const before = Date.now();
    const steered = await runMain(['tasks', 'steer', taskId, 'OUTSIDE-STEER'], { home, cwd: work });
    expect(steered.code, steered.stderr).toBe(0);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const child = spanNamed(receiver.spans, 'invoke_agent child');
    const notes = child.events.filter((event) => event.name === 'legate.task.steered');
    expect(notes).toHaveLength(1);
    expect(notes[0]!.attributes['legate.steer.id']).toEqual(expect.any(Number));
    // The event's time is the record's (made while the child's first model call ran), not the take's (after it).
    const firstChat = receiver.spans
      .filter((span) => span.parentSpanId === child.spanId && span.name.startsWith('chat '))
      .sort((a, b) => a.startMs - b.startMs)[0]!;
    expect(notes[0]!.timeMs).toBeGreaterThanOrEqual(before - 5);
    expect(notes[0]!.timeMs).toBeLessThan(firstChat.endMs);
    expect(child.events.map((event) => event.name)).toContain('legate.steer.delivered');
  }, 60_000);

  it("a collect from another process (legate tasks collect): its execute_tool span in the task's trace, under the spawning call, with legate.task.collected", async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      {
        match: (request) => isParent(request) && request.text.endsWith('go'),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'COLLECTED-GOAL' } }] },
      },
      { match: (request) => isParent(request) && !request.text.includes('COLLECTED-DONE'), reply: { text: 'spawned' } },
      { label: 'child', match: childWith('COLLECTED-GOAL'), reply: { delayMs: 1_500, text: 'COLLECTED-DONE' } },
      { match: (request) => isParent(request) && request.text.includes('COLLECTED-DONE'), reply: { text: 'ALL' } },
    );
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl));
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    const run = startMain(['run', 'go'], { home, cwd: work, env });
    await until(() => server!.requests.some((request) => request.stepLabel === 'child'), 30_000, 'the child to call the model');
    const store = SqliteTaskStore.open(join(home, 'state.db'));
    const taskId = (await store.list({ status: ['running'] }))[0]!.id;
    await store.close();
    const collected = await runMain(['tasks', 'collect', taskId, '--json'], { home, cwd: work, env });
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toContain('COLLECTED-DONE');
    expect((await run.done).code).toBe(0);
    const spawn = spanNamed(receiver.spans, 'execute_tool delegate_task_async');
    const collect = spanNamed(receiver.spans, 'execute_tool collect_task');
    expect(collect).toMatchObject({ traceId: spawn.traceId, parentSpanId: spawn.spanId, kind: 2 });
    expect(collect.events).toEqual([
      expect.objectContaining({ name: 'legate.task.collected', attributes: { 'legate.task.id': taskId, 'legate.by': 'operator' } }),
    ]);
    expect(spanNamed(receiver.spans, 'invoke_agent child').parentSpanId).toBe(spawn.spanId);
  }, 60_000);

  it('an approval: legate.approval.requested and legate.approval.answered, answered from another process', async () => {
    const outside = tempDir('legate-outside-');
    const command = `echo approved-run >> ${join(outside, 'approved.txt')}`;
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      {
        match: (request) => isParent(request) && request.text.endsWith('go'),
        reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'WRITER' } }] },
      },
      { match: (request) => isParent(request) && !request.text.includes('WRITER done'), reply: { text: 'spawned it' } },
      { match: (request) => isParent(request) && request.text.includes('WRITER done'), reply: { text: 'ALL-DONE' } },
      {
        match: (request) => childWith('WRITER')(request) && lastToolResults(request).length === 0,
        reply: { toolCalls: [{ name: 'terminal', arguments: { command, escalate: true } }] },
      },
      { match: childWith('WRITER'), reply: { text: 'WRITER done' } },
    );
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { agent: { approval: 'on-request' } }));
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    const run = startCli(['run', '--sandbox', 'workspace-write', 'go'], { home, cwd: work, env });
    let taskId: string | undefined;
    await until(
      async () => {
        if (!existsSync(join(home, 'state.db'))) return false;
        const store = SqliteTaskStore.open(join(home, 'state.db'));
        const parked = (await store.list({ status: ['input_required'] }))[0];
        await store.close();
        taskId = parked?.id;
        return taskId !== undefined;
      },
      30_000,
      'the child to park',
    );
    const approved = await runCli(['tasks', 'approve', taskId!], { home, cwd: work, env });
    expect(approved.code, approved.stderr).toBe(0);
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const child = spanNamed(receiver.spans, 'invoke_agent child');
    const requested = child.events.find((event) => event.name === 'legate.approval.requested');
    const answered = child.events.find((event) => event.name === 'legate.approval.answered');
    expect(requested?.attributes).toMatchObject({ 'legate.approval.id': '1.1', 'legate.approval.kind': 'exec', 'legate.sandbox.mode': 'workspace-write' });
    expect(answered?.attributes).toMatchObject({ 'legate.approval.id': '1.1', 'legate.approval.approved': true });
    expect(receiver.bodies.map((body) => body.text).join('\n')).not.toContain('approved-run');
  }, 60_000);
});
