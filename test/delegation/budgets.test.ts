import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type RunOptions, runCommand } from '../../src/cli/run.js';
import { type ConfigInput, configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { operator } from '../../src/tasks/task-service.js';
import { type ScriptedServer, type ScriptedStep, startScriptedServer } from '../../src/testing/scripted-server.js';
import { childWith, isParent, lastToolResults } from '../helpers/script.js';
import { closedAfterEach } from '../helpers/teardown.js';
import { until } from '../tasks/task-runtime-helpers.js';

/**
 * Issue 27: budgets for task trees. The usage a budget counts is what the scripted server reports
 * in the OpenAI wire's final `usage` chunk (stream_options.include_usage), read by the real SDK.
 */

const track = closedAfterEach();

async function runWith(
  steps: ScriptedStep[],
  config: Partial<ConfigInput> = {},
  options: RunOptions = { json: true },
): Promise<{ server: ScriptedServer; store: MemoryTaskStore; code: number; stdout: string }> {
  const server = track(await startScriptedServer({ steps }));
  const cwd = mkdtempSync(join(tmpdir(), 'legate-budget-'));
  track({ close: () => rmSync(cwd, { recursive: true, force: true }) });
  const store = new MemoryTaskStore();
  const loaded = configSchema.parse({
    model: { provider: 'openai', name: 'm', base_url: server.openaiBaseUrl, api_key: 'sk-test-budget-0001', max_retries: 0 },
    ...config,
  });
  const runtime = track(new Runtime({ loaded: { config: loaded, file: undefined, home: cwd, unset: new Map() }, cwd, store }));
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
  const chunks: Buffer[] = [];
  io.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const code = await runCommand('go', options, io, runtime);
  return { server, store, code, stdout: Buffer.concat(chunks).toString('utf8') };
}

const usage = (tokens: number) => ({ inputTokens: tokens - 10, outputTokens: 10 });
const task = async (store: MemoryTaskStore, goal: string): Promise<TaskRecord> => (await store.list({ limit: 1000 })).find((record) => record.goal === goal)!;

describe('a child with a tokens budget', () => {
  it('ends failed budget_exceeded once its spend reaches the budget, naming budget and spend, its last text kept', async () => {
    const { server, store } = await runWith([
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'SPEND-CHILD', budget: { tokens: 150 } } }], usage: usage(20) } },
      { match: childWith('SPEND-CHILD'), reply: { text: 'looking around', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) } },
      // The second call is allowed (100 < 150); it spends 200 in all, so its tool calls are not run and no third call is made.
      { match: childWith('SPEND-CHILD'), reply: { text: 'partial findings', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) } },
      { match: isParent, reply: { text: 'parent done', usage: usage(20) } },
    ]);
    server.assertDone();
    const [batch] = lastToolResults(server.requests.filter(isParent)[1]!);
    const result = batch.results[0];
    expect(result.status).toBe('failed');
    expect(result.exit_reason).toBe('budget_exceeded');
    expect(result.error).toContain('spent 200 tokens of its tokens budget of 150 tokens');
    expect(result.summary).toBe('partial findings');
    const record = await task(store, 'SPEND-CHILD');
    expect(record).toMatchObject({ status: 'failed', exitReason: 'budget_exceeded', budget: { tokens: 150 } });
    // The child's tool calls of the second reply never ran: two tool.started lines would show two list_dir runs.
    expect(server.requests.filter(childWith('SPEND-CHILD'))).toHaveLength(2);
  });

  it('refuses a negative, non-numeric or unknown budget field, naming it', async () => {
    const { server } = await runWith([
      {
        match: isParent,
        reply: {
          toolCalls: [
            { name: 'delegate_task', arguments: { goal: 'NEG', budget: { tokens: -5 } } },
            { name: 'delegate_task_async', arguments: { goal: 'NAN', budget: { cost_usd: 'lots' } } },
            { name: 'delegate_task_async', arguments: { goal: 'TYPO', budget: { tokenz: 5 } } },
          ],
        },
      },
      { match: isParent, reply: { text: 'parent done' } },
    ]);
    server.assertDone();
    const [negative, nonNumeric, typo] = lastToolResults(server.requests[1]!);
    expect(negative).toContain('budget.tokens: budget.tokens must be a positive number of tokens (got -5)');
    expect(nonNumeric).toContain('budget.cost_usd: budget.cost_usd must be a number of US dollars (got "lots")');
    expect(typo).toContain('unknown argument "budget.tokenz" (known: tokens, cost_usd, seconds)');
  });

  it('in USD on a model without a price is an error at spawn, not a silent pass', async () => {
    const { server, store } = await runWith([
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'USD-CHILD', budget: { cost_usd: 0.5 } } }] } },
      { match: isParent, reply: { text: 'parent done' } },
    ]);
    server.assertDone();
    const [refusal] = lastToolResults(server.requests[1]!);
    expect(refusal).toContain('budget_unpriced: a cost_usd budget of 0.5 needs a price for model "m"');
    expect(await store.list()).toHaveLength(0);
  });

  it('in USD with a price stops the child at that cost', async () => {
    const { server, store } = await runWith(
      [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'USD-PRICED', budget: { cost_usd: 0.001 } } }] } },
        // 1000 input tokens at $1/M = $0.001: the budget is spent after this call.
        {
          match: childWith('USD-PRICED'),
          reply: { text: 'pricey', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: { inputTokens: 1000, outputTokens: 0 } },
        },
        { match: isParent, reply: { text: 'parent done' } },
      ],
      { prices: { m: { input_per_million: 1, output_per_million: 1 } } },
    );
    server.assertDone();
    const record = await task(store, 'USD-PRICED');
    expect(record.exitReason).toBe('budget_exceeded');
    expect(record.error).toContain('spent $0.001 of its cost_usd budget of $0.001');
  });
});

describe('a tree budget', () => {
  it("caps each child at what is left of its parent's and counts the children's spend against it", async () => {
    const aGoal = 'TREE-PARENT';
    const grandchild = (name: string) => (request: Parameters<typeof isParent>[0]) => childWith(name)(request) && !request.text.includes(aGoal);
    const { server, store } = await runWith(
      [
        { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: aGoal, budget: { tokens: 300 } } }] } },
        {
          match: childWith(aGoal),
          reply: {
            toolCalls: [
              {
                name: 'delegate_task',
                arguments: { tasks: ['G-ONE', 'G-TWO', 'G-THREE'].map((goal) => ({ goal, budget: { tokens: 1000 } })) },
              },
            ],
            usage: usage(50),
          },
        },
        { match: grandchild('G-ONE'), reply: { text: 'one done', usage: usage(100) } },
        { match: grandchild('G-TWO'), reply: { text: 'two done', usage: usage(100) } },
        { match: grandchild('G-THREE'), reply: { text: 'three done', usage: usage(100) } },
        // No further call of TREE-PARENT: its tree spent 50 + 3 × 100 = 350 of 300.
        { match: isParent, reply: { text: 'parent done' } },
      ],
      { delegation: { max_spawn_depth: 2 } },
    );
    server.assertDone();
    for (const goal of ['G-ONE', 'G-TWO', 'G-THREE']) {
      const record = await task(store, goal);
      // Asked for 1000; its parent had 300 - 50 left.
      expect(record.budget).toEqual({ tokens: 250 });
      expect(record.status).toBe('completed');
    }
    const parent = await task(store, aGoal);
    expect(parent.exitReason).toBe('budget_exceeded');
    expect(parent.error).toContain(`task "${parent.id}" spent 350 tokens of its tokens budget of 300 tokens`);
    // The store's counters: the parent's own 50 and its three children's 100 each.
    expect(parent.spend).toMatchObject({ tokens: 350 });
  });
});

describe('a seconds budget', () => {
  it('aborts the call in flight when it runs out', async () => {
    const { server, store } = await runWith([
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'SLOW-CHILD', budget: { seconds: 1 } } }] } },
      { match: childWith('SLOW-CHILD'), reply: { hang: true } },
      { match: isParent, reply: { text: 'parent done' } },
    ]);
    server.assertDone();
    const record = await task(store, 'SLOW-CHILD');
    expect(record).toMatchObject({ status: 'failed', exitReason: 'budget_exceeded' });
    expect(record.error).toContain('of its seconds budget of 1 s');
    expect(server.requests.find(childWith('SLOW-CHILD'))!.aborted).toBe(true);
  });
});

describe('check_task and list_tasks', () => {
  it("show a task's budget, its tree's spend and what is left", async () => {
    let store: MemoryTaskStore | undefined;
    const ended = async (): Promise<void> =>
      until(async () => (await store!.list()).some((record) => record.goal === 'SEEN-CHILD' && record.status === 'completed'), 'the child to end');
    const steps: ScriptedStep[] = [
      { match: isParent, reply: { toolCalls: [{ name: 'delegate_task_async', arguments: { goal: 'SEEN-CHILD', budget: { tokens: 1000 } } }] } },
      { match: childWith('SEEN-CHILD'), reply: { text: 'seen', usage: usage(100) } },
      {
        match: isParent,
        reply: async (request) => {
          await ended();
          const [spawned] = lastToolResults(request);
          return {
            toolCalls: [
              { name: 'check_task', arguments: { task_id: spawned.task_id } },
              { name: 'list_tasks', arguments: {} },
            ],
          };
        },
      },
      { match: isParent, reply: { text: 'parent done' } },
      // run hands the parent the completion notice of the child it never collected.
      { match: isParent, reply: { text: 'noted' } },
    ];
    const server = track(await startScriptedServer({ steps }));
    const cwd = mkdtempSync(join(tmpdir(), 'legate-budget-'));
    track({ close: () => rmSync(cwd, { recursive: true, force: true }) });
    store = new MemoryTaskStore();
    const loaded = configSchema.parse({ model: { provider: 'openai', name: 'm', base_url: server.openaiBaseUrl, api_key: 'sk-test-budget-0002' } });
    const runtime = track(new Runtime({ loaded: { config: loaded, file: undefined, home: cwd, unset: new Map() }, cwd, store }));
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {} };
    await runCommand('go', { json: true }, io, runtime);
    server.assertDone();
    const [check, list] = lastToolResults(server.requests.filter(isParent)[2]!);
    const expected = { limit: { tokens: 1000 }, spent: { tokens: 100 }, remaining: { tokens: 900 } };
    expect(check.budget).toMatchObject(expected);
    expect(list.tasks[0].budget).toMatchObject(expected);
    // The tree's spend from the store's counters, on every row.
    expect(check.tree_tokens).toBe(100);
    expect(list.tasks[0].tree_tokens).toBe(100);
  });
});

describe('a run budget (run --budget-tokens, agent.budget)', () => {
  const ways = [
    { way: '--budget-tokens 300', config: {}, options: { json: true, budgetTokens: '300' } },
    { way: 'agent.budget.tokens: 300', config: { agent: { budget: { tokens: 300 } } }, options: { json: true } },
  ];
  it.each(ways)(
    '($way) covers the parent and every task below it: children are capped at what is left, and the run stops when it is spent',
    async ({ config, options }) => {
      const { server, store, code, stdout } = await runWith(
        [
          { match: isParent, reply: { toolCalls: [{ name: 'delegate_task', arguments: { goal: 'RUN-CHILD', budget: { tokens: 1000 } } }], usage: usage(100) } },
          { match: childWith('RUN-CHILD'), reply: { text: 'child done', usage: usage(150) } },
          // 250 of 300 spent: this call is allowed; after it 350, so its tool call is not run.
          { match: isParent, reply: { text: 'one more look', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) } },
        ],
        config,
        options,
      );
      server.assertDone();
      expect(code).toBe(1);
      expect((await task(store, 'RUN-CHILD')).budget).toEqual({ tokens: 200 });
      const output = JSON.parse(stdout);
      expect(output).toMatchObject({ status: 'failed', exit_reason: 'budget_exceeded', final: 'one more look' });
      expect(output.error).toBe(`budget_exceeded: session "${output.session_id}" spent 350 tokens of its tokens budget of 300 tokens`);
    },
  );

  it('refuses a bad flag value, and a USD budget on a parent model without a price, before any model call', async () => {
    await expect(runWith([], {}, { budgetTokens: '-3' })).rejects.toThrow('--budget-tokens must be a positive whole number, got "-3"');
    await expect(runWith([], {}, { budgetUsd: '2' })).rejects.toThrow('a cost_usd budget of 2 needs a price for model "m"');
  });
});

describe('a resumed task', () => {
  it('keeps its spend: the budget counts what it spent before it was handed back', async () => {
    const server = track(
      await startScriptedServer({
        steps: [
          { match: childWith('RESUMED-CHILD'), reply: { text: 'first look', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) } },
          { label: 'hangs until the hand-back', match: childWith('RESUMED-CHILD'), reply: { hang: true } },
          // After the resume: 100 before + 100 now = 200 of 150, so its tool call is not run and no more calls are made.
          {
            match: childWith('RESUMED-CHILD'),
            reply: { text: 'after resume', toolCalls: [{ name: 'list_dir', arguments: { path: '.' } }], usage: usage(100) },
          },
        ],
      }),
    );
    const cwd = mkdtempSync(join(tmpdir(), 'legate-budget-'));
    track({ close: () => rmSync(cwd, { recursive: true, force: true }) });
    const store = new MemoryTaskStore();
    const config = configSchema.parse({
      model: { provider: 'openai', name: 'm', base_url: server.openaiBaseUrl, api_key: 'sk-test-budget-0003', max_retries: 0 },
    });
    const runtimeOf = () => new Runtime({ loaded: { config, file: undefined, home: cwd, unset: new Map() }, cwd, store });
    const first = runtimeOf();
    const spawned = await first.tasks.spawn({
      goal: 'RESUMED-CHILD',
      model: 'm',
      depth: 1,
      sessionId: 's_budget_resume',
      mode: 'async',
      cwd,
      toolsets: ['file'],
      budget: { tokens: 150 },
    });
    await until(() => server.requests.filter(childWith('RESUMED-CHILD')).length === 2, 'the second call in flight');
    await first.close();
    const handedBack = (await store.get(spawned.id))!;
    expect(handedBack).toMatchObject({ status: 'interrupted', usage: usage(100) });

    const second = track(runtimeOf());
    await second.tasks.resume(operator, spawned.id);
    const { task: ended } = await second.tasks.waitForEnd(operator, spawned.id, 15_000);
    server.assertDone();
    expect(ended).toMatchObject({ status: 'failed', exitReason: 'budget_exceeded', summary: 'after resume' });
    expect(ended.error).toContain('spent 200 tokens of its tokens budget of 150 tokens');
  });
});
