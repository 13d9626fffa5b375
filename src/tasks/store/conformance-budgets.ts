import type { TaskRecord } from '../task-record.js';
import type { TaskStore } from './task-store.js';

/**
 * The conformance cases budgets rely on (part of `storeConformance`): a task's budget is stored
 * with it, the usage counters a running task writes are what every reader sums, a tree is found
 * through `list({ sessionId })` (a child's session is its parent's id), a task taken over and
 * resumed keeps the spend of its earlier runs, a charge reaches every ancestor atomically (siblings
 * charging at once both count), and a raise is kept once per approval.
 */
export function budgetConformance(
  test: (title: string, body: (store: TaskStore) => Promise<void>) => void,
  // biome-ignore lint/suspicious/noExplicitAny: the framework's own assertion type
  expect: (actual: unknown) => any,
  fixture: (overrides: Partial<TaskRecord>) => TaskRecord,
): void {
  test('budgets: a budget is stored with its task, and its tree is listed by session', async (store) => {
    await store.create(fixture({ id: 't_broot', sessionId: 's_b', budget: { tokens: 1000, costUsd: 0.25, seconds: 30 } }));
    await store.create(fixture({ id: 't_bkid1', sessionId: 't_broot', depth: 2, budget: { tokens: 400 } }));
    await store.create(fixture({ id: 't_bkid2', sessionId: 't_broot', depth: 2 }));
    expect((await store.get('t_broot'))!.budget).toEqual({ tokens: 1000, costUsd: 0.25, seconds: 30 });
    expect((await store.get('t_bkid1'))!.budget).toEqual({ tokens: 400 });
    expect((await store.get('t_bkid2'))!.budget).toBeUndefined();
    const kids = await store.list({ sessionId: 't_broot', limit: 100_000 });
    expect(kids.map((task) => task.id).sort()).toEqual(['t_bkid1', 't_bkid2']);
  });

  test('budgets: the usage a running task writes is what readers see, and a resumed task keeps it', async (store) => {
    await store.create(fixture({ id: 't_bspend', budget: { tokens: 500 } }));
    const first = await store.claim('t_bspend', 'queued', 'A', Date.now() + 60_000);
    const fenceA = { owner: 'A', epoch: first.epoch! };
    await store.appendOutput('t_bspend', { lines: [], progress: { apiCalls: 1, usage: { inputTokens: 90, outputTokens: 10, cacheReadTokens: 50 } } }, fenceA);
    expect((await store.get('t_bspend'))!.usage).toEqual({ inputTokens: 90, outputTokens: 10, cacheReadTokens: 50 });
    // The owner is gone: interrupted, then claimed by another process, which resumes from the counters.
    await store.transition('t_bspend', 'running', 'interrupted', { owner: undefined, leaseExpiresAt: undefined }, fenceA);
    const second = await store.claim('t_bspend', 'interrupted', 'B', Date.now() + 60_000);
    expect(second).toMatchObject({ apiCalls: 1, usage: { inputTokens: 90, outputTokens: 10, cacheReadTokens: 50 }, budget: { tokens: 500 } });
    await store.appendOutput(
      't_bspend',
      { lines: [], progress: { apiCalls: 2, usage: { inputTokens: 180, outputTokens: 20, cacheReadTokens: 50 } } },
      { owner: 'B', epoch: second.epoch! },
    );
    expect((await store.get('t_bspend'))!).toMatchObject({ apiCalls: 2, usage: { inputTokens: 180, outputTokens: 20 }, budget: { tokens: 500 } });
  });

  test('budgets: a charge is added to the task and every ancestor at once; a replay or a lower charge adds nothing', async (store) => {
    await store.create(fixture({ id: 't_cr', sessionId: 's_c' }));
    await store.create(fixture({ id: 't_cm', sessionId: 't_cr', depth: 2 }));
    await store.create(fixture({ id: 't_cl', sessionId: 't_cm', depth: 3 }));
    await store.create(fixture({ id: 't_cs', sessionId: 't_cr', depth: 2 }));
    await store.chargeSpend('t_cl', { tokens: 100, costUsd: 0.5 });
    await store.chargeSpend('t_cl', { tokens: 100, costUsd: 0.5 }); // the same charge again
    await store.chargeSpend('t_cl', { tokens: 60, costUsd: 0.25 }); // an older one, arriving late
    await store.chargeSpend('t_cs', { tokens: 7, costUsd: 0, unpriced: true });
    const spend = async (id: string) => (await store.get(id))!.spend;
    expect(await spend('t_cl')).toEqual({ tokens: 100, costUsd: 0.5 });
    expect(await spend('t_cm')).toEqual({ tokens: 100, costUsd: 0.5 });
    expect(await spend('t_cr')).toEqual({ tokens: 107, costUsd: 0.5, unpriced: true });
    expect(await spend('t_cs')).toEqual({ tokens: 7, costUsd: 0, unpriced: true });
    expect((await store.get('t_cl'))!.ownSpend).toEqual({ tokens: 100, costUsd: 0.5 });
    await store.chargeSpend('t_cl', { tokens: 150, costUsd: 0.75 });
    expect(await spend('t_cr')).toEqual({ tokens: 157, costUsd: 0.75, unpriced: true });
    await expect(store.chargeSpend('t_nobody', { tokens: 1, costUsd: 0 })).rejects.toMatchObject({ code: 'task_not_found' });
  });

  test('budgets: siblings charging at once both count, and a charge under a lost fence is refused and adds nothing', async (store) => {
    await store.create(fixture({ id: 't_pr', sessionId: 's_p', budget: { tokens: 1000 } }));
    await store.create(fixture({ id: 't_pa', sessionId: 't_pr', depth: 2 }));
    await store.create(fixture({ id: 't_pb', sessionId: 't_pr', depth: 2 }));
    const a = await store.claim('t_pa', 'queued', 'A', Date.now() + 60_000);
    const b = await store.claim('t_pb', 'queued', 'B', Date.now() + 60_000);
    const fenceA = { owner: 'A', epoch: a.epoch! };
    const fenceB = { owner: 'B', epoch: b.epoch! };
    // Calls not awaited one by one: a networked store has them all in flight together.
    await Promise.all(
      Array.from({ length: 20 }, (_, index) => [
        store.chargeSpend('t_pa', { tokens: 10 * (index + 1), costUsd: 0 }, fenceA),
        store.chargeSpend('t_pb', { tokens: 5 * (index + 1), costUsd: 0 }, fenceB),
      ]).flat(),
    );
    expect((await store.get('t_pr'))!.spend).toEqual({ tokens: 300, costUsd: 0 });
    await expect(store.chargeSpend('t_pa', { tokens: 999, costUsd: 0 }, { owner: 'A', epoch: fenceA.epoch + 1 })).rejects.toMatchObject({ code: 'lease_lost' });
    await store.transition('t_pb', 'running', 'completed', { summary: 'done' }, fenceB);
    await expect(store.chargeSpend('t_pb', { tokens: 999, costUsd: 0 }, fenceB)).rejects.toMatchObject({ code: 'lease_lost' });
    expect((await store.get('t_pr'))!.spend).toEqual({ tokens: 300, costUsd: 0 });
    expect((await store.get('t_pa'))!.ownSpend).toEqual({ tokens: 200, costUsd: 0 });
  });

  test('budgets: a raise is kept once per approval, beside the budget set at spawn', async (store) => {
    await store.create(fixture({ id: 't_raise', budget: { tokens: 1000, seconds: 30 } }));
    const raised = await store.raiseBudget('t_raise', 't_kid/1.1', { tokens: 1000 });
    expect(raised.budgetRaises).toEqual({ 't_kid/1.1': { tokens: 1000 } });
    await store.raiseBudget('t_raise', 't_kid/1.1', { tokens: 5 }); // a replay: the first raise stands
    await store.raiseBudget('t_raise', 't_kid/1.2', { costUsd: 0.5, seconds: 12.5 });
    const now = (await store.get('t_raise'))!;
    expect(now.budget).toEqual({ tokens: 1000, seconds: 30 });
    expect(now.budgetRaises).toEqual({ 't_kid/1.1': { tokens: 1000 }, 't_kid/1.2': { costUsd: 0.5, seconds: 12.5 } });
    await expect(store.raiseBudget('t_nobody', 'k', { tokens: 1 })).rejects.toMatchObject({ code: 'task_not_found' });
  });

  test('usage: the bytes the web tools fetched are kept with the tokens, through a write and a finished run', async (store) => {
    await store.create(fixture({ id: 't_bweb' }));
    const claimed = await store.claim('t_bweb', 'queued', 'A', Date.now() + 60_000);
    const fence = { owner: 'A', epoch: claimed.epoch! };
    await store.appendOutput('t_bweb', { lines: [], progress: { usage: { inputTokens: 5, outputTokens: 1, fetchedBytes: 12_345 } } }, fence);
    expect((await store.get('t_bweb'))!.usage).toEqual({ inputTokens: 5, outputTokens: 1, fetchedBytes: 12_345 });
    await store.transition('t_bweb', 'running', 'completed', { usage: { inputTokens: 9, outputTokens: 2, fetchedBytes: 20_000 }, summary: 'done' }, fence);
    expect((await store.get('t_bweb'))!.usage).toEqual({ inputTokens: 9, outputTokens: 2, fetchedBytes: 20_000 });
  });
}
