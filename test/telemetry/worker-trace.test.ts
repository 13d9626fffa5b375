import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { type ScriptedServer, startScriptedServer } from '../../src/testing/scripted-server.js';
import { type RunningCli, runCli, scriptedConfig, startCli, tempHome, until } from '../helpers/cli.js';
import { useTestRedis } from '../helpers/redis.js';
import { afterRequest, childWith, isParent } from '../helpers/script.js';
import { type OtlpReceiver, startOtlpReceiver } from './otlp-receiver.js';
import { childrenOf, spanNamed } from './trace-tree.js';

/**
 * The trace follows a task into another process: a child run by `legate worker` (shared mode, the
 * test's private Redis), or resumed by a worker after a `run --no-wait` handed it back, continues
 * under the parent's `execute_tool` span, from the trace context stored with the task. A worker
 * stopped by SIGTERM exports its spans before it exits.
 */

const redis = await useTestRedis({ private: true });
let server: ScriptedServer | undefined;
let receiver: OtlpReceiver | undefined;
const workers: RunningCli[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.kill('SIGKILL');
    await worker.done;
  }
  await server?.close();
  await receiver?.close();
});

/** Spans are exported only by the flush at exit (the batch delay is longer than any test). */
const tracingEnv = (url: string): Record<string, string> => ({ OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_BSP_SCHEDULE_DELAY: '600000' });

describe.skipIf(!redis)('traces across processes, shared mode', () => {
  it('a sync child run by a worker is a child of the dispatch-only parent’s delegate_task span', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'WORKER-GOAL' } }] } },
      { match: childWith('WORKER-GOAL'), reply: { toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { match: childWith('WORKER-GOAL'), reply: { text: 'WORKER-SUMMARY' } },
      { match: (request) => isParent(request) && request.text.includes('WORKER-SUMMARY'), reply: { text: 'PARENT-DONE' } },
    );
    const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: { redis_url: redis!.url, redis_prefix: redis!.prefix, lease_seconds: 2 } }));
    const env = tracingEnv(receiver.url);
    const worker = startCli(['--config', dirs.configFile, 'worker'], { home: dirs.home, cwd: dirs.work, env });
    workers.push(worker);
    await until(() => /legate worker \S+: running tasks/.test(worker.stderr()), 30_000, 'the worker to start');

    const run = await runCli(['--config', dirs.configFile, 'run', '--dispatch-only', 'go'], { home: dirs.home, cwd: dirs.work, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('PARENT-DONE');
    // The run's spans are in; the worker's come with its flush on SIGTERM.
    expect(receiver.spans.some((span) => span.name === 'invoke_agent child')).toBe(false);
    worker.kill('SIGTERM');
    const stopped = await worker.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    server.assertDone();

    const spans = receiver.spans;
    expect(new Set(spans.map((span) => span.traceId)).size).toBe(1);
    const root = spanNamed(spans, 'invoke_agent legate');
    const call = spanNamed(spans, 'execute_tool delegate_task');
    expect(call.parentSpanId).toBe(root.spanId);
    const child = spanNamed(spans, 'invoke_agent child');
    expect(child.parentSpanId).toBe(call.spanId);
    expect(child.attributes).toMatchObject({
      'legate.task.status': 'completed',
      'legate.task.mode': 'sync',
      'gen_ai.conversation.id': root.attributes['gen_ai.agent.id'],
    });
    expect(
      childrenOf(spans, child)
        .map((span) => span.name)
        .sort(),
    ).toEqual(['chat parent-model', 'chat parent-model', 'execute_tool list_dir']);
    expect(receiver.bodies.map((body) => body.text).join('\n')).not.toContain('sk-test-parent-0001');
  }, 90_000);
});

describe('traces across processes, a worker of the same home', () => {
  it('a task handed back by run --no-wait and resumed by a worker: both runs under the spawning call; SIGTERM of the worker mid-task flushes its span, interrupted', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'RESUME-GOAL' } }] } },
      { match: isParent, reply: afterRequest(server, childWith('RESUME-GOAL'), { text: 'left it running' }) },
      { label: 'cut by --no-wait exit', match: childWith('RESUME-GOAL'), reply: { hang: true } },
      { label: 'running on the worker', match: childWith('RESUME-GOAL'), reply: { hang: true } },
    );
    const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: { lease_seconds: 2 } }));
    const env = tracingEnv(receiver.url);
    const run = await runCli(['--config', dirs.configFile, 'run', '--no-wait', 'go'], { home: dirs.home, cwd: dirs.work, env });
    expect(run.code, run.stderr).toBe(0);
    const handedBack = spanNamed(receiver.spans, 'invoke_agent child');
    expect(handedBack.attributes['legate.task.status']).toBe('interrupted');

    const worker = startCli(['--config', dirs.configFile, 'worker'], { home: dirs.home, cwd: dirs.work, env });
    workers.push(worker);
    await until(() => server!.requests.some((request) => request.stepLabel === 'running on the worker'), 30_000, 'the worker to run the task');
    worker.kill('SIGTERM');
    const stopped = await worker.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).toContain('stopping: handing running tasks back as interrupted');

    const spans = receiver.spans;
    const call = spanNamed(spans, 'execute_tool delegate_task_async');
    const runs = spans.filter((span) => span.name === 'invoke_agent child');
    expect(runs).toHaveLength(2);
    for (const span of runs) {
      expect(span.traceId).toBe(call.traceId);
      expect(span.parentSpanId).toBe(call.spanId);
      expect(span.attributes['gen_ai.agent.id']).toBe(handedBack.attributes['gen_ai.agent.id']);
    }
    const onWorker = runs.find((span) => span !== handedBack && span.spanId !== handedBack.spanId)!;
    expect(onWorker.attributes).toMatchObject({ 'legate.task.status': 'interrupted', 'legate.task.resumed': true });
    // Its model call, cut by the stop, is exported too, as an error.
    const cut = childrenOf(spans, onWorker).filter((span) => span.name === 'chat parent-model');
    expect(cut).toHaveLength(1);
    expect(cut[0]!.statusCode).toBe(2);
  }, 90_000);

  it('legate tasks resume: the resumed run continues under the spawning call, taken over after a crash too', async () => {
    server = await startScriptedServer();
    receiver = await startOtlpReceiver();
    server.enqueue(
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'CRASH-GOAL' } }] } },
      { match: isParent, reply: afterRequest(server, childWith('CRASH-GOAL'), { text: 'left it running' }) },
      { label: 'cut by the crash', match: childWith('CRASH-GOAL'), reply: { hang: true } },
      { label: 'resumed', match: childWith('CRASH-GOAL'), reply: { text: 'CRASH-SUMMARY' } },
    );
    const dirs = tempHome(scriptedConfig(server.openaiBaseUrl, { tasks: { lease_seconds: 1 } }));
    const env = tracingEnv(receiver.url);
    // The run dies (SIGKILL) with its child mid-call: nothing of it is flushed, but its task holds the trace context.
    const run = startCli(['--config', dirs.configFile, 'run', 'go'], { home: dirs.home, cwd: dirs.work, env });
    await until(() => server!.requests.some((request) => request.stepLabel === 'cut by the crash'), 30_000, 'the child to call the model');
    run.kill('SIGKILL');
    await run.done;
    const taskId = /"task_id":"(t_[0-9a-f]+)"/.exec(server.requests.find((request) => isParent(request) && request.text.includes('"task_id"'))!.text)![1]!;
    // Past the dead owner's lease, the task is interrupted and resumed here.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const resumed = await runCli(['--config', dirs.configFile, 'tasks', 'resume', taskId], { home: dirs.home, cwd: dirs.work, env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout.trim()).toBe('CRASH-SUMMARY');
    const child = spanNamed(receiver.spans, 'invoke_agent child');
    expect(child.attributes).toMatchObject({
      'gen_ai.agent.id': taskId,
      'legate.task.status': 'completed',
      'legate.task.resumed': true,
      'legate.task.resumes': 1,
    });
    // Its parent span was in the process that died (never exported): the task stored its trace context at spawn.
    const store = SqliteTaskStore.open(join(dirs.home, 'state.db'));
    const stored = await store.get(taskId);
    await store.close();
    expect(stored?.traceparent).toBe(`00-${child.traceId}-${child.parentSpanId}-01`);
  }, 90_000);
});
