import type { Message } from '../../provider/types.js';
import type { TaskRecord } from '../task-record.js';
import type { TaskStore } from './task-store.js';

/**
 * The conformance cases compaction relies on (part of `storeConformance`): a compaction is a
 * checkpoint step of its own in the append-only log. Loading gives the full transcript (nothing
 * dropped or rewritten) and every compaction with where it sits; its step is keyed, fenced and
 * ordered like any other step.
 */
export function compactionConformance(
  test: (title: string, body: (store: TaskStore) => Promise<void>) => void,
  // biome-ignore lint/suspicious/noExplicitAny: the framework's own assertion type
  expect: (actual: unknown) => any,
  fixture: (overrides: Partial<TaskRecord>) => TaskRecord,
): void {
  const turn = (n: number): Message[] => [
    { role: 'assistant', content: `reading ${n}`, toolCalls: [{ id: `c${n}`, name: 'read_file', arguments: `{"path":"f${n}"}` }] },
    { role: 'tool', toolCallId: `c${n}`, name: 'read_file', content: `content ${n} ✓` },
  ];

  test('compactions: a compaction step keeps the full transcript and says where the context was cut', async (store) => {
    await store.create(fixture({ id: 't_cmp' }));
    await store.appendCheckpoint('t_cmp', { step: 0, iteration: 1, messages: turn(1) });
    await store.appendCheckpoint('t_cmp', { step: 1, iteration: 2, messages: turn(2) });
    await store.appendCheckpoint('t_cmp', {
      step: 2,
      iteration: 3,
      messages: [],
      compaction: { firstKept: 3, handoff: 'Goal: read.\nProgress: 2 files ✓', tokensBefore: 900, tokensAfter: 300 },
    });
    await store.appendCheckpoint('t_cmp', { step: 3, iteration: 3, messages: turn(3) });
    await store.appendCheckpoint('t_cmp', { step: 4, iteration: 4, messages: [], compaction: { firstKept: 5, handoff: 'second hand-off' } });
    const checkpoint = await store.loadCheckpoint('t_cmp');
    expect(checkpoint).toEqual({
      iterations: 4,
      steps: 5,
      messages: [...turn(1), ...turn(2), ...turn(3)],
      compactions: [
        { step: 2, at: 4, firstKept: 3, handoff: 'Goal: read.\nProgress: 2 files ✓', tokensBefore: 900, tokensAfter: 300 },
        { step: 4, at: 6, firstKept: 5, handoff: 'second hand-off' },
      ],
    });
  });

  test('compactions: a compaction step is keyed by step number (written twice, stored once), and a log without one has none', async (store) => {
    await store.create(fixture({ id: 't_cmp2', status: 'running', owner: 'o', epoch: 1 }));
    const fence = { owner: 'o', epoch: 1 };
    await store.appendCheckpoint('t_cmp2', { step: 0, iteration: 1, messages: turn(1) }, fence);
    expect((await store.loadCheckpoint('t_cmp2')).compactions).toBeUndefined();
    const step = { step: 1, iteration: 2, messages: [], compaction: { firstKept: 2, handoff: 'once' } };
    await store.appendCheckpoint('t_cmp2', step, fence);
    await store.appendCheckpoint('t_cmp2', step, fence);
    await store.appendCheckpoint('t_cmp2', { step: 1, iteration: 2, messages: [], compaction: { firstKept: 2, handoff: 'a late copy' } }, fence);
    const loaded = await store.loadCheckpoint('t_cmp2');
    expect(loaded.steps).toBe(2);
    expect(loaded.compactions).toEqual([{ step: 1, at: 2, firstKept: 2, handoff: 'once' }]);
  });

  test('compactions: a compaction of a run that lost its claim is refused (lease_lost) and not stored', async (store) => {
    await store.create(fixture({ id: 't_cmp3', status: 'queued' }));
    const a = await store.claim('t_cmp3', 'queued', 'A', Date.now() + 60_000);
    const fenceA = { owner: 'A', epoch: a.epoch! };
    await store.appendCheckpoint('t_cmp3', { step: 0, iteration: 1, messages: turn(1) }, fenceA);
    await store.transition('t_cmp3', 'running', 'interrupted', { owner: undefined, leaseExpiresAt: undefined });
    const b = await store.claim('t_cmp3', 'interrupted', 'B', Date.now() + 60_000);
    await expect(
      store.appendCheckpoint('t_cmp3', { step: 1, iteration: 2, messages: [], compaction: { firstKept: 3, handoff: 'stale' } }, fenceA),
    ).rejects.toMatchObject({ code: 'lease_lost' });
    await store.appendCheckpoint(
      't_cmp3',
      { step: 1, iteration: 2, messages: [], compaction: { firstKept: 3, handoff: 'fresh' } },
      { owner: 'B', epoch: b.epoch! },
    );
    expect((await store.loadCheckpoint('t_cmp3')).compactions).toEqual([{ step: 1, at: 2, firstKept: 3, handoff: 'fresh' }]);
  });

  test("compactions: a compaction step is applied in order with the task's other writes, none awaited", async (store) => {
    await store.create(fixture({ id: 't_cmp4', status: 'running' }));
    const calls = [
      store.appendCheckpoint('t_cmp4', { step: 0, iteration: 1, messages: turn(1) }),
      store.appendOutput('t_cmp4', { lines: ['compacted'], progress: { apiCalls: 2 } }),
      store.appendCheckpoint('t_cmp4', { step: 1, iteration: 2, messages: [], compaction: { firstKept: 3, handoff: 'h' } }),
      store.appendCheckpoint('t_cmp4', { step: 2, iteration: 2, messages: turn(2) }),
    ];
    const ended = store.transition('t_cmp4', 'running', 'completed', { summary: 'S' });
    await Promise.all(calls);
    await ended;
    const loaded = await store.loadCheckpoint('t_cmp4');
    expect(loaded.messages).toEqual([...turn(1), ...turn(2)]);
    expect(loaded.compactions).toEqual([{ step: 1, at: 2, firstKept: 3, handoff: 'h' }]);
  });
}
