import { describe, expect, it } from 'vitest';
import { BudgetLedger } from '../../src/budget/budget-ledger.js';
import { LegateError } from '../../src/errors.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';

/** Issue 27: budgets read from the store, a tree summed over its records. */

function record(id: string, sessionId: string, tokens: number, extra: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    sessionId,
    goal: id,
    model: 'm',
    depth: 1,
    mode: 'async',
    cwd: '/',
    status: 'running',
    createdAt: 1_000,
    apiCalls: 1,
    usage: { inputTokens: tokens - 10, outputTokens: 10 },
    outputLines: 0,
    reported: false,
    ...extra,
  };
}

async function storeWith(...records: TaskRecord[]): Promise<MemoryTaskStore> {
  const store = new MemoryTaskStore();
  for (const task of records) await store.create(task);
  return store;
}

const noPrices = () => undefined;

describe('BudgetLedger', () => {
  it("sums a tree's tokens over every descendant, cache reads included", async () => {
    const store = await storeWith(
      record('t_root', 's_1', 100, { budget: { tokens: 1000 } }),
      record('t_kid', 't_root', 50, { usage: { inputTokens: 10, outputTokens: 10, cacheReadTokens: 30 } }),
      record('t_grandkid', 't_kid', 20),
    );
    const ledger = new BudgetLedger(store, noPrices, () => 6_000);
    expect(await ledger.treeSpend((await store.get('t_root'))!)).toEqual({ tokens: 170, seconds: 5 });
  });

  it('refuses a spawn when an ancestor has nothing left, naming the budget and the spend', async () => {
    const store = await storeWith(record('t_root', 's_1', 100, { budget: { tokens: 300 } }), record('t_kid', 't_root', 250));
    const ledger = new BudgetLedger(store, noPrices);
    const refusal = await ledger.forChild('t_kid', 'm', { tokens: 10 }, undefined).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(LegateError);
    expect(String(refusal)).toBe('budget_exceeded: no tokens budget left for a new child: task "t_root" spent 350 tokens of its tokens budget of 300 tokens');
  });

  it("caps a grandchild at the nearest and every farther ancestor's remainder", async () => {
    const store = await storeWith(record('t_root', 's_1', 100, { budget: { tokens: 300 } }), record('t_kid', 't_root', 50, { budget: { tokens: 500 } }));
    const ledger = new BudgetLedger(store, noPrices);
    // The kid's own says 450 left, the root's tree 150.
    expect(await ledger.forChild('t_kid', 'm', { tokens: 1000 }, undefined)).toEqual({ tokens: 150 });
  });

  it('keeps the spend a task had before it was resumed: the guard reads the stored counters', async () => {
    const store = await storeWith(record('t_resumed', 's_1', 260, { budget: { tokens: 250 }, takeovers: 1, epoch: 2 }));
    const ledger = new BudgetLedger(store, noPrices);
    const stop = await ledger.guardFor((await store.get('t_resumed'))!).check();
    expect(stop).toEqual({ exitReason: 'budget_exceeded', message: 'budget_exceeded: task "t_resumed" spent 260 tokens of its tokens budget of 250 tokens' });
  });

  it("reads a tree's spend from the store's counters, not its records' usage, once charged", async () => {
    const store = await storeWith(record('t_root', 's_1', 0, { budget: { tokens: 300 } }), record('t_kid', 't_root', 0));
    await store.chargeSpend('t_kid', { tokens: 320, costUsd: 0 });
    const ledger = new BudgetLedger(store, noPrices, () => 6_000);
    expect(await ledger.treeSpend((await store.get('t_root'))!)).toEqual({ tokens: 320, costUsd: 0, seconds: 5 });
    expect(await ledger.breach((await store.get('t_kid'))!)).toMatchObject({ owner: 't_root', field: 'tokens', limit: 300, spent: 320 });
  });

  it("on-request: asks a human for the breached budget; approved, raises the holder's (by its amount at spawn, or by the answer's) and goes on", async () => {
    const store = await storeWith(record('t_root', 's_1', 0, { budget: { tokens: 300 } }), record('t_kid', 't_root', 0));
    await store.chargeSpend('t_kid', { tokens: 320, costUsd: 0 });
    const ledger = new BudgetLedger(store, noPrices);
    const asked: unknown[] = [];
    const answers = [{ approved: true as const, approvalId: '1.1' }];
    const guard = ledger.guardFor((await store.get('t_kid'))!, {
      ask: async (request, reason) => {
        asked.push({ request, reason });
        return answers.shift() ?? { approved: false, reason: 'no more' };
      },
    });
    expect(await guard.check()).toBeUndefined();
    expect(asked).toEqual([
      {
        request: { holder: 't_root', field: 'tokens', limit: 300, spent: 320, original: { tokens: 300 } },
        reason: 'task "t_kid": its ancestor "t_root"\'s tree spent 320 tokens of its tokens budget of 300 tokens',
      },
    ]);
    // Raised by the budget's own amount, on the holder (the ancestor), keyed by the asking task and request.
    expect((await store.get('t_root'))!.budgetRaises).toEqual({ 't_kid/1.1': { tokens: 300 } });
    // Spent past the raise too: asked again; denied, the run stops naming the budget and the denial.
    await store.chargeSpend('t_kid', { tokens: 700, costUsd: 0 });
    expect(await guard.check()).toEqual({
      exitReason: 'budget_exceeded',
      message: 'budget_exceeded: task "t_kid": its ancestor "t_root"\'s tree spent 700 tokens of its tokens budget of 600 tokens; no more',
    });
  });

  it('on-request: a session budget (agent.budget) is raised in the process that holds it', async () => {
    const store = await storeWith(record('t_kid', 's_top', 0));
    await store.chargeSpend('t_kid', { tokens: 120, costUsd: 0 });
    const ledger = new BudgetLedger(store, noPrices);
    ledger.openRoot('s_top', { tokens: 100 }, 'm', () => ({ inputTokens: 0, outputTokens: 0 }));
    const guard = ledger.guardFor((await store.get('t_kid'))!, { ask: async () => ({ approved: true, approvalId: '1.1', raise: { tokens: 50 } }) });
    expect(await guard.check()).toBeUndefined();
    expect(await ledger.sessionGuard('s_top').check()).toBeUndefined(); // 120 of 150
  });
});
