import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { type ScriptedServer, type ScriptedStep, startScriptedServer } from '../../src/testing/scripted-server.js';
import { scriptedConfig, tempHome, until } from '../helpers/cli.js';
import { runMain, startMain } from '../helpers/main.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';

/**
 * Issue 27, pause and raise: under `agent.approval: on-request` a child whose budget ran out waits
 * `input_required` with a `budget` approval; `legate tasks approve` (another store connection,
 * as another process would) raises it and the child goes on with its context intact; `deny` ends
 * it `budget_exceeded`. All in process: `run` started with `startMain`, the answers with `runMain`.
 */
let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const usage = (tokens: number) => ({ inputTokens: tokens - 10, outputTokens: 10 });

/** The parent's request that carries the child's end (its notice). */
const ended = (text: string): boolean => text.includes('RAISE done') || text.includes('budget_exceeded');

async function readChild(home: string): Promise<TaskRecord | undefined> {
  if (!existsSync(join(home, 'state.db'))) return undefined;
  const store = SqliteTaskStore.open(join(home, 'state.db'));
  try {
    return (await store.list({ limit: 10 })).find((task) => task.depth === 1);
  } finally {
    await store.close();
  }
}

/** A parent that spawns RAISE (tokens budget 150) in the background and waits for its notice; the child spends 100 a call. */
function steps(childEnd: ScriptedStep['reply'] | undefined): ScriptedStep[] {
  return [
    {
      label: 'parent spawns',
      match: (request) => isParent(request) && request.text.endsWith('go'),
      reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'RAISE: look around', budget: { tokens: 150 } } }], usage: usage(20) },
    },
    { label: 'parent waits', match: (request) => isParent(request) && !ended(request.text), reply: { text: 'spawned it', usage: usage(20) } },
    { label: 'parent notice', match: isParent, reply: { text: 'ALL-DONE', usage: usage(20) } },
    {
      label: 'child 1',
      match: (request) => childWith('RAISE')(request) && lastToolResults(request).length === 0,
      reply: { text: 'first look', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) },
    },
    {
      label: 'child 2',
      match: childWith('RAISE'),
      reply: { text: 'second look', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) },
    },
    ...(childEnd ? [{ label: 'child 3', match: childWith('RAISE'), reply: childEnd }] : []),
  ];
}

async function parked(home: string, run: ReturnType<typeof startMain>): Promise<TaskRecord> {
  await until(async () => (await readChild(home))?.status === 'input_required', 30_000, 'the child to park').catch((error) => {
    throw new Error(`${String(error)}\nrun stderr: ${run.stderr()}\nunexpected: ${server!.unexpected.join('; ')}`);
  });
  return (await readChild(home))!;
}

describe('a budget that runs out under agent.approval: on-request', () => {
  it('parks the child with a budget approval; tasks approve --tokens raises it and the child goes on with its context', async () => {
    server = await startScriptedServer({ steps: steps({ text: 'RAISE done', usage: usage(100) }) });
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { agent: { approval: 'on-request' } }));
    const run = startMain(['run', 'go'], { home, cwd: work });
    const child = await parked(home, run);
    expect(child.approval).toMatchObject({
      id: '1.1',
      kind: 'budget',
      budget: { holder: child.id, field: 'tokens', limit: 150, spent: 200, original: { tokens: 150 } },
    });
    expect(child.approval!.reason).toBe(`task "${child.id}" spent 200 tokens of its tokens budget of 150 tokens`);
    expect(child.spend).toEqual({ tokens: 200, costUsd: 0, unpriced: true });
    // Its second reply's tools have not run: the guard before them parked it.
    expect(server.requests.filter(childWith('RAISE'))).toHaveLength(2);

    const list = await runMain(['tasks', 'list'], { home, cwd: work });
    expect(list.stdout).toContain(`${child.id} waits for approval 1.1 (budget): its tokens budget: spent 200 of 150`);
    expect(list.stdout).toContain(`legate tasks approve ${child.id} [--tokens N | --usd X | --seconds S]`);
    // Its tree's spend and what is left of its budget.
    expect(list.stdout).toMatch(/ID +STATUS +ELAPSED +TOKENS +BUDGET LEFT +GOAL/);
    expect(list.stdout).toMatch(new RegExp(`${child.id} +input_required +[\\d.]+s +200 +0/150 tokens +RAISE: look around`));
    const bad = await runMain(['tasks', 'approve', child.id, '--tokens', '-5'], { home, cwd: work });
    expect(bad.code, bad.stderr).not.toBe(0);
    expect(bad.stderr).toContain('--tokens must be a positive whole number (got "-5")');
    const approve = await runMain(['tasks', 'approve', child.id, '--tokens', '500'], { home, cwd: work });
    expect(approve.stderr).toBe('');
    expect(approve.stdout).toContain(`${child.id}: approved request 1.1 (a raise of its tokens budget: spent 200 of 150 by 500 tokens)`);

    const result = await run.done;
    expect(result.stdout).toContain('ALL-DONE');
    const done = (await readChild(home))!;
    expect(done).toMatchObject({ status: 'completed', summary: 'RAISE done', budget: { tokens: 150 }, budgetRaises: { [`${child.id}/1.1`]: { tokens: 500 } } });
    expect(done.spend!.tokens).toBe(300);
    const show = await runMain(['tasks', 'show', child.id], { home, cwd: work });
    expect(show.stdout).toContain('budget tokens: 350 left of 650 (spent 300, its tree included; raised by 500 on approval)');
    // No model tool answers approvals or touches budgets: a model can never raise one.
    const toolNames = server.requests.flatMap((request) => (request.body.tools ?? []).map((tool: { function: { name: string } }) => tool.function.name));
    expect(toolNames).toContain('delegate_task_async');
    expect(toolNames.filter((name: string) => /approv|raise|budget|deny/i.test(name))).toEqual([]);
    // The context is intact: the third call carries the second reply and its tool's result.
    const calls = server.requests.filter(childWith('RAISE'));
    expect(calls).toHaveLength(3);
    expect(calls[2]!.text).toContain('second look');
    expect(lastToolResults(calls[2]!)).toHaveLength(1);
    server.assertDone();
  });

  it('deny ends the child budget_exceeded, naming the budget, the spend and the denial, its last text kept', async () => {
    server = await startScriptedServer({ steps: steps(undefined) });
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { agent: { approval: 'on-request' } }));
    const run = startMain(['run', 'go'], { home, cwd: work });
    const child = await parked(home, run);
    const deny = await runMain(['tasks', 'deny', child.id, '--reason', 'enough for today'], { home, cwd: work });
    expect(deny.code).toBe(0);
    const result = await run.done;
    expect(result.stdout, `${result.stderr}\n${server.unexpected.join('; ')}`).toContain('ALL-DONE');
    const done = (await readChild(home))!;
    expect(done).toMatchObject({ status: 'failed', exitReason: 'budget_exceeded', summary: 'second look' });
    expect(done.error).toContain(`task "${child.id}" spent 200 tokens of its tokens budget of 150`);
    expect(done.error).toContain('enough for today');
    expect(done.budgetRaises).toBeUndefined();
    server.assertDone();
  });

  it('a seconds budget does not abort the slow call in flight: the child parks after it, and --seconds lets it finish', async () => {
    server = await startScriptedServer({
      steps: [
        {
          label: 'parent spawns',
          match: (request) => isParent(request) && request.text.endsWith('go'),
          reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'SLOW: take your time', budget: { seconds: 1 } } }] },
        },
        { label: 'parent waits', match: (request) => isParent(request) && !request.text.includes('SLOW done'), reply: { text: 'spawned it' } },
        { label: 'parent notice', match: isParent, reply: { text: 'ALL-DONE' } },
        // Longer than the budget: under on-request the call is not aborted (that would lose it).
        {
          label: 'slow call',
          match: childWith('SLOW'),
          reply: { text: 'slow look', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], delayMs: 1500 },
        },
        { label: 'child ends', match: childWith('SLOW'), reply: { text: 'SLOW done' } },
      ],
    });
    const { home, work } = tempHome(scriptedConfig(server.openaiBaseUrl, { agent: { approval: 'on-request' } }));
    const run = startMain(['run', 'go'], { home, cwd: work });
    const child = await parked(home, run);
    expect(child.approval).toMatchObject({ kind: 'budget', budget: { field: 'seconds', limit: 1 } });
    expect(server.requests.filter(childWith('SLOW'))[0]!.aborted).toBe(false);
    const approve = await runMain(['tasks', 'approve', child.id, '--seconds', '600'], { home, cwd: work });
    expect(approve.code, approve.stderr).toBe(0);
    const result = await run.done;
    expect(result.stdout).toContain('ALL-DONE');
    expect(await readChild(home)).toMatchObject({ status: 'completed', summary: 'SLOW done', budgetRaises: { [`${child.id}/1.1`]: { seconds: 600 } } });
    server.assertDone();
  });
});
