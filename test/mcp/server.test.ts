import { afterEach, describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { runCli, scriptedConfig, until } from '../helpers/cli.js';
import { childWith, isChild } from '../helpers/script.js';
import { connectLegate, type LegateMcp } from './mcp-harness.js';

const open: LegateMcp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((legate) => legate.close().catch(() => {})));
});

/** A scripted model server, a temp LEGATE_HOME with a config for it, and `legate mcp` connected over stdio. */
async function setup(extra: Record<string, unknown> = {}) {
  const model = await scriptedServer();
  const dirs = home(scriptedConfig(model.openaiBaseUrl, extra));
  const start = async (args: string[] = []): Promise<LegateMcp> => {
    const legate = await connectLegate({ configFile: dirs.configFile, home: dirs.home, cwd: dirs.work, args });
    open.push(legate);
    return legate;
  };
  return { model, ...dirs, start, legate: await start() };
}

describe('legate mcp (stdio server)', () => {
  it('lists the seven delegation tools with their input schemas', async () => {
    const { legate } = await setup();
    const { tools } = await legate.client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      'cancel_task',
      'check_task',
      'collect_task',
      'delegate_task',
      'delegate_task_async',
      'list_tasks',
      'steer_task',
    ]);
    const spawn = tools.find((tool) => tool.name === 'delegate_task_async')!;
    expect(spawn.description).toContain('BACKGROUND');
    expect(spawn.inputSchema).toMatchObject({
      type: 'object',
      required: ['goal'],
      properties: { goal: { type: 'string' }, context: { type: 'string' }, toolsets: { type: 'array' } },
    });
    const collect = tools.find((tool) => tool.name === 'collect_task')!;
    expect(collect.inputSchema).toMatchObject({
      type: 'object',
      properties: { task_id: { type: 'string' }, task_ids: { type: 'array' }, wait: { enum: ['all', 'any'] }, timeout: { type: 'number', default: 300 } },
    });
    expect(collect.description).toContain('task_ids');
    const batch = tools.find((tool) => tool.name === 'delegate_task')!;
    expect(Object.keys(batch.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(['goal', 'tasks']));
  });

  it('spawns, lists and collects a child answered by the model (with progress while it waits); legate tasks list shows the task', async () => {
    const { model, legate, home: legateHome, configFile, work } = await setup();
    model.enqueue({ label: 'child', match: childWith('GOAL-M1'), reply: { delayMs: 2500, text: 'SUMMARY-M1: 7 widgets' } });

    const spawned = await legate.call('delegate_task_async', { goal: 'GOAL-M1: count widgets', context: 'CTX-M1: in ./w' });
    expect(spawned.isError).toBe(false);
    const taskId: string = spawned.json.task_id;
    expect(taskId).toMatch(/^t_[0-9a-f]+$/);

    const listed = await legate.call('list_tasks', {});
    expect(JSON.stringify(listed.json)).toContain(taskId);

    const progress: { progress: number; total?: number; message?: string }[] = [];
    const collected = await legate.call('collect_task', { task_id: taskId, timeout: 20 }, { onprogress: (update) => progress.push(update) });
    expect(collected.isError).toBe(false);
    expect(collected.json).toMatchObject({ task_id: taskId, status: 'completed', timed_out: false, summary: 'SUMMARY-M1: 7 widgets' });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatchObject({ total: 20 });
    expect(progress[0]!.message).toContain(taskId);

    // The child saw its goal and context and ran on the configured model server.
    const [child] = model.requests.filter(isChild);
    expect(child!.text).toContain('CTX-M1');
    model.assertDone();

    // The task is in the durable store of this LEGATE_HOME, like any other.
    const tasks = await runCli(['--config', configFile, 'tasks', 'list'], { home: legateHome, cwd: work });
    expect(tasks.stdout).toContain(taskId);
  });

  it('delegate_task waits for its children and reports each end as progress when asked', async () => {
    const { model, legate } = await setup();
    model.enqueue(
      { match: childWith('GOAL-FAST'), reply: { text: 'SUMMARY-FAST' } },
      { match: childWith('GOAL-SLOW'), reply: { delayMs: 1000, text: 'SUMMARY-SLOW' } },
    );
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const tasks = [{ goal: 'GOAL-FAST: quick' }, { goal: 'GOAL-SLOW: slow' }];
    const result = await legate.call('delegate_task', { tasks }, { onprogress: (update) => progress.push(update) });
    expect(result.isError).toBe(false);
    expect(result.json.results.map((entry: { summary: string }) => entry.summary)).toEqual(['SUMMARY-FAST', 'SUMMARY-SLOW']);
    // The last notification races the result on the client side (the SDK handles notifications a
    // microtask later than responses); the first one comes well before it.
    expect(progress[0]).toMatchObject({ progress: 1, total: 2 });
    expect(progress[0]!.message).toContain('completed');
  });

  it('cancels a hanging child: its model request is aborted and the task is cancelled', async () => {
    const { model, legate } = await setup();
    model.enqueue({ match: childWith('GOAL-HANG'), reply: { hang: true } });
    const { json: spawned } = await legate.call('delegate_task_async', { goal: 'GOAL-HANG: never ends' });
    await model.waitForRequests(1);
    const checked = await legate.call('check_task', { task_id: spawned.task_id });
    expect(checked.json).toMatchObject({ status: 'running' });

    const cancelled = await legate.call('cancel_task', { task_id: spawned.task_id });
    expect(cancelled.isError).toBe(false);
    expect(cancelled.json).toMatchObject({ ok: true, task_id: spawned.task_id, status: 'cancelled' });
    await until(() => model.requests[0]!.aborted, 5000, 'the child request to be aborted');
    const after = await legate.call('check_task', { task_id: spawned.task_id });
    expect(after.json).toMatchObject({ status: 'cancelled' });
  });

  it('an unknown id, bad arguments and an unknown tool are MCP tool errors naming the value', async () => {
    const { legate } = await setup();
    const unknown = await legate.call('check_task', { task_id: 't_deadbeef' });
    expect(unknown.isError).toBe(true);
    // The same shape as bad arguments below: `code: message` text.
    expect(unknown.text).toBe('task_not_found: no task "t_deadbeef" in this session');

    const bad = await legate.call('collect_task', { task_id: 't_1', timeout: 'soon' });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/^invalid_arguments: collect_task: /);
    expect(bad.text).toContain('timeout');
    expect(bad.text).toContain('"soon"');

    const neither = await legate.call('delegate_task', { context: 'no goal' });
    expect(neither.isError).toBe(true);
    expect(neither.text).toContain('give either goal');

    const noTool = await legate.call('delegate_everything', {});
    expect(noTool.isError).toBe(true);
    expect(noTool.text).toMatch(/^unknown_tool: /);
    expect(noTool.text).toContain('delegate_everything');
  });

  it('collect_task takes task_ids (all / any) over MCP, and legate tasks collect takes several ids (--any)', async () => {
    const { model, legate, home: legateHome, configFile, work } = await setup();
    model.enqueue(
      { match: childWith('GOAL-MA'), reply: { delayMs: 300, text: 'SUMMARY-MA' } },
      { match: childWith('GOAL-MB'), reply: { text: 'SUMMARY-MB' } },
      { label: 'hung child', match: childWith('GOAL-MC'), reply: { hang: true } },
    );
    const a = (await legate.call('delegate_task_async', { goal: 'GOAL-MA: first' })).json.task_id;
    const b = (await legate.call('delegate_task_async', { goal: 'GOAL-MB: second' })).json.task_id;
    const c = (await legate.call('delegate_task_async', { goal: 'GOAL-MC: never ends' })).json.task_id;

    const all = await legate.call('collect_task', { task_ids: [b, a], timeout: 30 });
    expect(all.isError).toBe(false);
    expect(all.json.results).toEqual([
      expect.objectContaining({ task_id: b, status: 'completed', summary: 'SUMMARY-MB' }),
      expect.objectContaining({ task_id: a, status: 'completed', summary: 'SUMMARY-MA' }),
    ]);
    const any = await legate.call('collect_task', { task_ids: [c, a], wait: 'any', timeout: 30 });
    expect(any.json).toMatchObject({
      wait: 'any',
      timed_out: false,
      results: [
        { task_id: c, status: 'running' },
        { task_id: a, status: 'completed' },
      ],
    });
    const repeated = await legate.call('collect_task', { task_ids: [a, a] });
    expect(repeated.isError).toBe(true);
    expect(repeated.text).toContain(`task_ids.1: task "${a}" is listed more than once`);

    const cli = (args: string[]) => runCli(['--config', configFile, 'tasks', 'collect', ...args], { home: legateHome, cwd: work });
    const text = await cli([a, b]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`${a}: SUMMARY-MA\n${b}: SUMMARY-MB\n`);
    const json = await cli([c, b, '--any', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      wait: 'any',
      results: [
        { task_id: c, status: 'running' },
        { task_id: b, status: 'completed', summary: 'SUMMARY-MB' },
      ],
    });
    const timedOut = await cli([c, a, '--timeout', '0.2']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stdout).toBe(`${c} is still running after 0.2s\n${a}: SUMMARY-MA\n`);
    const unknown = await cli([a, 't_nope0001']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('task_not_found: no task "t_nope0001" in this LEGATE_HOME; nothing was collected');
    await legate.call('cancel_task', { task_id: c });
  });

  it("a restarted server's client collects the tasks of the previous one (same session for the same directory)", async () => {
    const setupResult = await setup();
    const { model, start } = setupResult;
    let legate = setupResult.legate;
    model.enqueue(
      { label: 'done child', match: childWith('GOAL-DONE'), reply: { text: 'SUMMARY-DONE: finished before the restart' } },
      { label: 'child cut by the restart', match: childWith('GOAL-CUT'), reply: { hang: true } },
      { label: 'child resumed after it', match: childWith('GOAL-CUT'), reply: { text: 'SUMMARY-CUT: finished after the restart' } },
    );
    const { json: done } = await legate.call('delegate_task_async', { goal: 'GOAL-DONE: quick' });
    const { json: cut } = await legate.call('delegate_task_async', { goal: 'GOAL-CUT: slow' });
    await until(async () => (await legate.call('check_task', { task_id: done.task_id })).json.status === 'completed', 10_000, 'the quick task to complete');
    await model.waitForRequests(2);

    await legate.close();
    legate = await start();

    const first = await legate.call('collect_task', { task_id: done.task_id, timeout: 10 });
    expect(first.json).toMatchObject({ status: 'completed', summary: 'SUMMARY-DONE: finished before the restart' });
    // The task cut short by the restart continues in the new server from its checkpoint.
    const second = await legate.call('collect_task', { task_id: cut.task_id, timeout: 20 });
    expect(second.json).toMatchObject({ status: 'completed', summary: 'SUMMARY-CUT: finished after the restart' });
    expect(legate.stderr()).toContain(`resumed interrupted task ${cut.task_id}`);
    model.assertDone();
  });

  it('--session names the session: another session does not see the tasks', async () => {
    const { model, legate, start } = await setup();
    model.enqueue({ match: childWith('GOAL-S'), reply: { text: 'SUMMARY-S' } });
    const { json: spawned } = await legate.call('delegate_task_async', { goal: 'GOAL-S: mine' });
    const other = await start(['--session', 'other-client']);
    const seen = await other.call('check_task', { task_id: spawned.task_id });
    expect(seen.isError).toBe(true);
    expect(seen.text).toMatch(/^task_not_found: /);
    expect(other.stderr()).toContain('serving session other-client');
    expect((await legate.call('collect_task', { task_id: spawned.task_id, timeout: 10 })).json.summary).toBe('SUMMARY-S');
  });
});
