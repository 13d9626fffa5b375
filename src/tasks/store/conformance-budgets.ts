import type { TaskRecord } from '../task-record.js';
import type { TaskStore } from './task-store.js';

/**
 * The conformance cases budgets rely on (part of `storeConformance`): a task's budget is stored
 * with it, the usage counters a running task writes are what every reader sums, a tree is found
 * through `list({ sessionId })` (a child's session is its parent's id), and a task taken over and
 * resumed keeps the spend of its earlier runs.
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
