import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/runtime.js';
import { operator } from '../../src/tasks/caller.js';
import type { ScriptedServer } from '../../src/testing/scripted-server.js';
import { executeToolCall } from '../../src/tools/execute.js';
import type { Tool } from '../../src/tools/tool.js';
import { childWith } from '../helpers/script.js';
import { runtimeOnScripted, useScriptedServer } from '../helpers/scripted.js';

const SESSION = 's_collect_many';
let server: ScriptedServer;
let runtime: Runtime | undefined;

/** The top-level agent's tools over a scripted server; `call` runs one tool call as the loop would. */
async function setup(): Promise<{
  call(name: string, args: unknown): Promise<{ isError: boolean; content: string; json: any }>;
  spawn(goal: string): Promise<string>;
}> {
  server = await useScriptedServer();
  runtime = runtimeOnScripted(server);
  const cwd = runtime.cwd;
  const tools = new Map<string, Tool>(runtime.toolsFor({ sessionId: SESSION, depth: 0, toolsets: runtime.agentToolsets }).map((tool) => [tool.name, tool]));
  let calls = 0;
  const call = async (name: string, args: unknown): Promise<{ isError: boolean; content: string; json: any }> => {
    const result = await executeToolCall(
      tools,
      { id: `call_${++calls}`, name, arguments: JSON.stringify(args) },
      { cwd, io: runtime!.io, signal: new AbortController().signal },
    );
    let json: any;
    try {
      json = JSON.parse(result.content);
    } catch {
      json = undefined;
    }
    return { ...result, json };
  };
  const spawn = async (goal: string): Promise<string> => (await call('delegate_task_async', { goal })).json.task_id;
  return { call, spawn };
}

const reported = async (id: string): Promise<boolean> => (await runtime!.tasks.get(operator, id)).reported;

describe('collect_task with task_ids', () => {
  it('wait "all" (the default) returns one single-collect object per task, in the order given, and marks each reported', async () => {
    const { call, spawn } = await setup();
    server.enqueue(
      { match: childWith('GOAL-1'), reply: { delayMs: 300, text: 'SUMMARY-1' } },
      { match: childWith('GOAL-2'), reply: { text: 'SUMMARY-2' } },
      { match: childWith('GOAL-3'), reply: { delayMs: 600, text: 'SUMMARY-3' } },
    );
    const ids = [await spawn('GOAL-1'), await spawn('GOAL-2'), await spawn('GOAL-3')];
    const order = [ids[2]!, ids[0]!, ids[1]!];

    const { isError, json } = await call('collect_task', { task_ids: order, timeout: 30 });

    expect(isError).toBe(false);
    expect(json).toMatchObject({ wait: 'all', timed_out: false, ended: 3, running: 0 });
    expect(json.results.map((entry: { task_id: string }) => entry.task_id)).toEqual(order);
    expect(json.results.map((entry: { summary: string }) => entry.summary)).toEqual(['SUMMARY-3', 'SUMMARY-1', 'SUMMARY-2']);
    for (const id of ids) expect(await reported(id)).toBe(true);
    // Each entry is the object a single collect returns.
    const single = (await call('collect_task', { task_id: ids[0] })).json;
    expect(Object.keys(json.results[1]).sort()).toEqual(Object.keys(single).sort());
    expect(json.results[1]).toMatchObject({ ...single, duration_seconds: expect.any(Number) });
    server.assertDone();
  });

  it('wait "any" returns once one task ended; the others are listed running and are not marked reported', async () => {
    const { call, spawn } = await setup();
    server.enqueue(
      { label: 'slow child', match: childWith('GOAL-SLOW'), reply: { hang: true } },
      { match: childWith('GOAL-FAST'), reply: { delayMs: 200, text: 'SUMMARY-FAST' } },
    );
    const slow = await spawn('GOAL-SLOW');
    const fast = await spawn('GOAL-FAST');

    const { json } = await call('collect_task', { task_ids: [slow, fast], wait: 'any', timeout: 60 });

    expect(json).toMatchObject({ wait: 'any', timed_out: false, ended: 1, running: 1 });
    expect(json.results[0]).toMatchObject({ task_id: slow, status: 'running', timed_out: false, summary: '' });
    expect(json.results[0].note).toContain('still running');
    expect(json.results[1]).toMatchObject({ task_id: fast, status: 'completed', timed_out: false, summary: 'SUMMARY-FAST' });
    expect(await reported(fast)).toBe(true);
    expect(await reported(slow)).toBe(false);
    expect((await runtime!.tasks.get(SESSION, slow)).status).toBe('running');
    await call('cancel_task', { task_id: slow });
  });

  it('on timeout each unfinished entry has its partial output and timed_out: true, and the tasks keep running', async () => {
    const { call, spawn } = await setup();
    server.enqueue(
      { match: childWith('GOAL-PART'), reply: { text: 'PARTIAL-WORK so far', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }] } },
      { label: 'part hangs', match: childWith('GOAL-PART'), reply: { hang: true } },
      { label: 'other hangs', match: childWith('GOAL-OTHER'), reply: { hang: true } },
    );
    const part = await spawn('GOAL-PART');
    const other = await spawn('GOAL-OTHER');
    await server.waitForRequests(3);

    for (const wait of ['all', 'any']) {
      const { json } = await call('collect_task', { task_ids: [part, other], wait, timeout: 0.5 });
      expect(json).toMatchObject({ wait, timed_out: true, ended: 0, running: 2 });
      expect(json.note).toContain('keep running');
      expect(json.results).toEqual([
        expect.objectContaining({ task_id: part, status: 'running', timed_out: true }),
        expect.objectContaining({ task_id: other, status: 'running', timed_out: true }),
      ]);
      expect(json.results[0].output).toContain('PARTIAL-WORK so far');
    }
    for (const id of [part, other]) {
      expect((await runtime!.tasks.get(SESSION, id)).status).toBe('running');
      expect(await reported(id)).toBe(false);
    }
    for (const id of [part, other]) await call('cancel_task', { task_id: id });
  });

  it('refuses both or neither of task_id/task_ids, an empty list, a repeated id and unknown ids (named), collecting nothing', async () => {
    const { call, spawn } = await setup();
    server.enqueue({ match: childWith('GOAL-DONE'), reply: { text: 'SUMMARY-DONE' } });
    const done = await spawn('GOAL-DONE');
    await runtime!.tasks.waitForEnd(SESSION, done, 10_000);

    const refusals = {
      both: await call('collect_task', { task_id: done, task_ids: [done] }),
      neither: await call('collect_task', { timeout: 1 }),
      empty: await call('collect_task', { task_ids: [] }),
      repeated: await call('collect_task', { task_ids: [done, done] }),
      unknown: await call('collect_task', { task_ids: [done, 't_nope0001', 't_nope0002'] }),
      badWait: await call('collect_task', { task_ids: [done], wait: 'first' }),
    };
    for (const refusal of Object.values(refusals)) expect(refusal.isError).toBe(true);
    expect(refusals.both.content).toMatch(
      /^invalid_arguments: collect_task: .*give either task_id \(one task\) or task_ids \(several\), not both and not neither/,
    );
    expect(refusals.neither.content).toMatch(/^invalid_arguments: collect_task: .*give either task_id/);
    expect(refusals.empty.content).toMatch(/^invalid_arguments: collect_task: task_ids: task_ids must hold at least one task_id/);
    expect(refusals.repeated.content).toContain(`invalid_arguments: collect_task: task_ids.1: task "${done}" is listed more than once`);
    expect(refusals.unknown.content).toBe('task_not_found: no task "t_nope0001", "t_nope0002" in this session; nothing was collected');
    expect(refusals.badWait.content).toMatch(/^invalid_arguments: collect_task: wait: .*"first"/);
    // Nothing was collected: the finished task's result has still not reached the parent.
    expect(await reported(done)).toBe(false);
  });
});
