import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { home, scriptedServer } from '../cli/cli-harness.js';
import { scriptedConfig, until } from '../helpers/cli.js';
import { connectLegate, type LegateMcp } from '../mcp/mcp-harness.js';

const echoAgent = resolve(import.meta.dirname, 'fixtures/echo-agent.mjs');

const open: LegateMcp[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((legate) => legate.close().catch(() => {})));
});

/** `legate mcp` with ACP routes to the echo agent; its delegation tools drive the children. */
async function setup(routes: Record<string, unknown> = {}, args: string[] = []) {
  const model = await scriptedServer();
  const echo = { provider: 'acp', command: process.execPath, args: [echoAgent] };
  const dirs = home(scriptedConfig(model.openaiBaseUrl, { delegation: { routes: { echo, ...routes } } }));
  const legate = await connectLegate({ configFile: dirs.configFile, home: dirs.home, cwd: dirs.work, args });
  open.push(legate);
  const spawn = async (args: Record<string, unknown>): Promise<string> => {
    const spawned = await legate.call('delegate_task_async', args);
    expect(spawned.isError, spawned.text).toBe(false);
    return spawned.json.task_id as string;
  };
  const collect = async (taskId: string) => (await legate.call('collect_task', { task_id: taskId, timeout: 30 })).json;
  const check = async (taskId: string) => (await legate.call('check_task', { task_id: taskId })).json;
  return { model, ...dirs, legate, spawn, collect, check };
}

describe('ACP children (provider: acp routes)', () => {
  it('runs the agent in the task cwd with goal and context; its updates are the output trail and its message the summary; usage is unknown', async () => {
    const { model, spawn, collect, check } = await setup();
    const taskId = await spawn({ route: 'echo', goal: 'GOAL-ACP-1: summarise notes', context: 'CTX-ACP-1' });
    const collected = await collect(taskId);
    expect(collected).toMatchObject({ status: 'completed', summary: 'ECHO: GOAL-ACP-1: summarise notes' });
    expect(collected.usage).toEqual({ unknown: true });
    const checked = await check(taskId);
    const trail = JSON.stringify(checked);
    expect(trail).toContain('read notes');
    expect(trail).toContain('NOTES-CONTENT');
    expect(trail).toContain('ECHO: GOAL-ACP-1');
    // No model was called: the child is the ACP agent.
    expect(model.requests).toHaveLength(0);
  });

  it('steer_task is delivered as the next prompt turn after the current one ends', async () => {
    const { spawn, collect, check, legate, work } = await setup();
    const taskId = await spawn({ route: 'echo', goal: 'HOLD until released' });
    await until(async () => JSON.stringify(await check(taskId)).includes('holding'), 20_000, 'the hold tool call in the trail');
    const steered = await legate.call('steer_task', { task_id: taskId, message: 'STEER-ACP-2 please' });
    expect(steered.isError, steered.text).toBe(false);
    writeFileSync(join(work, 'release'), '');
    const collected = await collect(taskId);
    expect(collected).toMatchObject({ status: 'completed' });
    // The steer was the agent's second prompt: it echoed it.
    expect(collected.summary).toContain('STEER-ACP-2 please');
    const trail = JSON.stringify(await check(taskId));
    expect(trail).toContain('first turn done');
    expect(trail).toContain('steered: STEER-ACP-2');
  });

  it('cancel_task sends session/cancel: the turn stops and the task ends cancelled', async () => {
    const { spawn, collect, check, legate, work } = await setup();
    const taskId = await spawn({ route: 'echo', goal: 'HOLD forever' });
    await until(async () => JSON.stringify(await check(taskId)).includes('holding'), 20_000, 'the hold tool call in the trail');
    const cancelled = await legate.call('cancel_task', { task_id: taskId });
    expect(cancelled.isError, cancelled.text).toBe(false);
    const collected = await collect(taskId);
    expect(collected.status).toBe('cancelled');
    // The agent saw session/cancel and stopped its turn (it says so in a file: a cancelled task's
    // output trail takes no more writes, so the agent's last update does not reach it).
    await until(async () => existsSync(join(work, 'saw-cancel')), 10_000, 'the agent to see session/cancel');
  });

  it('a seconds budget ends an ACP child budget_exceeded when it runs out', async () => {
    const { spawn, collect } = await setup();
    const taskId = await spawn({ route: 'echo', goal: 'HOLD past the budget', budget: { seconds: 1 } });
    const collected = await collect(taskId);
    expect(collected).toMatchObject({ status: 'failed', exit_reason: 'budget_exceeded' });
    expect(String(collected.error)).toContain(`task "${taskId}" spent 1 s of its seconds budget of 1 s`);
  });

  it('an agent that ignores session/cancel is ended after the grace period', async () => {
    const { spawn, collect, check, legate } = await setup();
    const taskId = await spawn({ route: 'echo', goal: 'HOLD IGNORE-CANCEL' });
    await until(async () => JSON.stringify(await check(taskId)).includes('holding'), 20_000, 'the hold tool call in the trail');
    await legate.call('cancel_task', { task_id: taskId });
    expect((await collect(taskId)).status).toBe('cancelled');
  });

  it('a crash mid-turn, a crash at start, a missing command and a protocol error fail the task naming the route and command; the session goes on', async () => {
    const missing = { provider: 'acp', command: 'no-such-acp-agent-xyz' };
    const early = { provider: 'acp', command: process.execPath, args: [echoAgent], env: { ECHO_AGENT_CRASH_AT_START: '1' } };
    const { spawn, collect } = await setup({ missing, early });

    const crash = await collect(await spawn({ route: 'echo', goal: 'CRASH now' }));
    expect(crash.status).toBe('failed');
    expect(crash.error).toContain('route "echo"');
    expect(crash.error).toContain(process.execPath);
    expect(crash.error).toContain('code 3');
    expect(crash.error).toContain('crashing on purpose');

    const atStart = await collect(await spawn({ route: 'early', goal: 'anything' }));
    expect(atStart.status).toBe('failed');
    expect(atStart.error).toContain('route "early"');
    expect(atStart.error).toContain('refusing to start');

    const notFound = await collect(await spawn({ route: 'missing', goal: 'anything' }));
    expect(notFound.status).toBe('failed');
    expect(notFound.error).toContain('route "missing"');
    expect(notFound.error).toContain('"no-such-acp-agent-xyz"');
    expect(notFound.error).toContain('ENOENT');

    const protocol = await collect(await spawn({ route: 'echo', goal: 'PROTOCOL-ERROR' }));
    expect(protocol.status).toBe('failed');
    expect(protocol.error).toContain('route "echo"');
    expect(protocol.error).toContain('protocol error');
    expect(protocol.error).toContain('echo-agent cannot do that');

    // The session goes on: the next child runs.
    expect((await collect(await spawn({ route: 'echo', goal: 'GOAL-AFTER' }))).summary).toBe('ECHO: GOAL-AFTER');
  });

  it("permission requests follow the task's sandbox mode: an edit of a named file in the task's directory is allowed in workspace-write", async () => {
    const { spawn, collect, check } = await setup();
    const inside = await spawn({ route: 'echo', goal: 'PERMISSION-INSIDE please' });
    expect((await collect(inside)).summary).toBe('PERMISSION-OUTCOME: yes');
    expect(JSON.stringify(await check(inside))).toContain("allowed: write notes.txt (an edit in the task's directory)");
  });

  it('in read-only mode the same edit is rejected (approvals are off), naming the route and the mode', async () => {
    const { spawn, collect, check } = await setup({}, ['--sandbox', 'read-only']);
    const inside = await spawn({ route: 'echo', goal: 'PERMISSION-INSIDE please' });
    expect((await collect(inside)).summary).toBe('PERMISSION-OUTCOME: no');
    const trail = JSON.stringify(await check(inside));
    expect(trail).toContain('rejected: write notes.txt');
    expect(trail).toContain('route \\"echo\\"');
    expect(trail).toContain('read-only mode');
  });

  it('permission requests are rejected unless the route sets allow_permissions', async () => {
    const trusted = { provider: 'acp', command: process.execPath, args: [echoAgent], allow_permissions: true };
    const { spawn, collect, check } = await setup({ trusted });
    const rejected = await spawn({ route: 'echo', goal: 'PERMISSION please' });
    expect((await collect(rejected)).summary).toBe('PERMISSION-OUTCOME: no');
    expect(JSON.stringify(await check(rejected))).toContain('rejected: write notes.txt');
    const allowed = await spawn({ route: 'trusted', goal: 'PERMISSION please' });
    expect((await collect(allowed)).summary).toBe('PERMISSION-OUTCOME: yes');
  });
});

describe('ACP children across a restart (durability)', () => {
  /** Start `legate mcp`, spawn a HOLD child on `route`, wait until it holds, then stop legate: the task is handed back interrupted. */
  async function interruptedTask(route: Record<string, unknown>) {
    const model = await scriptedServer();
    const dirs = home(
      scriptedConfig(model.openaiBaseUrl, { delegation: { routes: { agent: { provider: 'acp', command: process.execPath, args: [echoAgent], ...route } } } }),
    );
    const first = await connectLegate({ configFile: dirs.configFile, home: dirs.home, cwd: dirs.work });
    open.push(first);
    const spawned = await first.call('delegate_task_async', { route: 'agent', goal: 'HOLD then report', context: 'CTX-DUR' });
    const taskId: string = spawned.json.task_id;
    await until(async () => JSON.stringify((await first.call('check_task', { task_id: taskId })).json).includes('holding'), 20_000, 'the child to hold');
    await first.close();
    // The next server resumes the session's interrupted tasks on start.
    const second = await connectLegate({ configFile: dirs.configFile, home: dirs.home, cwd: dirs.work });
    open.push(second);
    return { ...dirs, taskId, legate: second };
  }

  it('an agent without session/load starts afresh with goal, context and output so far, and says so', async () => {
    const { taskId, legate, work } = await interruptedTask({});
    await until(async () => JSON.stringify((await legate.call('check_task', { task_id: taskId })).json).includes('resumed afresh'), 20_000, 'the afresh note');
    writeFileSync(join(work, 'release'), '');
    const collected = (await legate.call('collect_task', { task_id: taskId, timeout: 30 })).json;
    expect(collected).toMatchObject({ status: 'completed', summary: 'first turn done' });
    expect(JSON.stringify((await legate.call('check_task', { task_id: taskId })).json)).toContain('does not support session/load');
  });

  it('an agent with session/load continues its own session', async () => {
    const { taskId, legate } = await interruptedTask({ env: { ECHO_AGENT_LOADABLE: '1' } });
    const collected = (await legate.call('collect_task', { task_id: taskId, timeout: 30 })).json;
    expect(collected.status).toBe('completed');
    expect(collected.summary).toContain('ECHO: You were interrupted');
    const trail = JSON.stringify((await legate.call('check_task', { task_id: taskId })).json);
    expect(trail).toMatch(/resumed ACP session echo-\d+-1 with session\/load/);
    // The replayed history is not repeated in the trail.
    expect(trail).not.toContain('REPLAYED-HISTORY');
  });
});
