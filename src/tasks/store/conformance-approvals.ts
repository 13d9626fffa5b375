import type { PendingApproval, TaskRecord } from '../task-record.js';
import type { TaskStore } from './task-store.js';

/**
 * The conformance cases of the `input_required` state (part of `storeConformance`): parking is
 * fenced and conditional, an answer is stored and read back (the first stands), a cancel works
 * from it, a task interrupted while waiting can be claimed again and park again, and the approval
 * is cleared when it leaves the state.
 */
export function approvalConformance(
  test: (title: string, body: (store: TaskStore) => Promise<void>) => void,
  // biome-ignore lint/suspicious/noExplicitAny: the framework's own assertion type
  expect: (actual: unknown) => any,
  fixture: (overrides: Partial<TaskRecord>) => TaskRecord,
): void {
  const request = (id: string, subject = '/outside/file'): PendingApproval => ({
    id,
    kind: 'write',
    subject,
    mode: 'workspace-write',
    reason: `write to ${subject} refused in workspace-write mode: it is outside the writable roots (/work)`,
    requestedAt: 1_000,
  });
  /** A task claimed by `owner`, and the fence of that claim. */
  const claimed = async (store: TaskStore, id: string, owner = 'A'): Promise<{ owner: string; epoch: number }> => {
    await store.create(fixture({ id }));
    return { owner, epoch: (await store.claim(id, 'queued', owner, 100)).epoch! };
  };

  test('approvals: parking is fenced and conditional, and keeps the lease held', async (store) => {
    const a = await claimed(store, 't_park');
    await expect(store.transition('t_park', 'running', 'input_required', { approval: request('1.1') }, { owner: 'B', epoch: a.epoch })).rejects.toMatchObject({
      code: 'lease_lost',
    });
    await expect(store.transition('t_park', 'queued', 'input_required', { approval: request('1.1') }, a)).rejects.toMatchObject({ code: 'illegal_transition' });
    await expect(store.transition('t_park', 'running', 'input_required', {}, a)).rejects.toMatchObject({ code: 'invalid_arguments' });
    expect((await store.get('t_park'))!.status).toBe('running');
    const parked = await store.transition('t_park', 'running', 'input_required', { approval: request('1.1') }, a);
    expect(parked).toMatchObject({ status: 'input_required', owner: 'A', epoch: a.epoch, approval: request('1.1') });
    expect(await store.get('t_park')).toMatchObject({ status: 'input_required', approval: request('1.1') });
    expect((await store.list({ status: ['input_required'] })).map((task) => task.id)).toEqual(['t_park']);
    // Its owner still holds it: the lease is renewed and its writes land.
    expect(await store.heartbeat('A', 777)).toEqual([{ id: 't_park', owner: 'A', epoch: a.epoch }]);
    expect((await store.get('t_park'))!.leaseExpiresAt).toBe(777);
    await store.appendOutput('t_park', { lines: ['⏸ waiting'], at: 0 }, a);
    expect(await store.readOutput('t_park')).toEqual(['⏸ waiting']);
    // Parked twice: refused (it is no longer running).
    await expect(store.transition('t_park', 'running', 'input_required', { approval: request('1.2') }, a)).rejects.toMatchObject({
      code: 'illegal_transition',
    });
    // Only its owner resumes it, and only by a fenced transition.
    await expect(store.transition('t_park', 'input_required', 'running')).rejects.toMatchObject({ code: 'illegal_transition' });
    await expect(store.transition('t_park', 'input_required', 'running', {}, { owner: 'B', epoch: a.epoch })).rejects.toMatchObject({ code: 'lease_lost' });
    expect((await store.get('t_park'))!.status).toBe('input_required');
  });

  test('approvals: an answer is stored and read back; the first one stands', async (store) => {
    const a = await claimed(store, 't_ans');
    await expect(store.answerApproval('t_ans', '1.1', { approved: true, answeredAt: 5 })).rejects.toMatchObject({ code: 'not_waiting' });
    await store.transition('t_ans', 'running', 'input_required', { approval: request('1.1', '/tmp/ü ✓') }, a);
    await expect(store.answerApproval('t_ans', '9.9', { approved: true, answeredAt: 5 })).rejects.toMatchObject({ code: 'not_waiting' });
    await expect(store.answerApproval('t_none', '1.1', { approved: true, answeredAt: 5 })).rejects.toMatchObject({ code: 'task_not_found' });
    const denial = { approved: false as const, reason: 'not there, use ./out', by: 'alice', answeredAt: 6 };
    const answered = await store.answerApproval('t_ans', '1.1', denial);
    expect(answered).toMatchObject({ status: 'input_required', approval: { ...request('1.1', '/tmp/ü ✓'), answer: denial } });
    expect((await store.answerApproval('t_ans', '1.1', { approved: true, by: 'bob', answeredAt: 7 })).approval!.answer).toEqual(denial);
    expect((await store.get('t_ans'))!.approval).toEqual({ ...request('1.1', '/tmp/ü ✓'), answer: denial });
  });

  test('approvals: the owner resumes the task and the approval is cleared when it leaves', async (store) => {
    const a = await claimed(store, 't_back');
    await store.transition('t_back', 'running', 'input_required', { approval: request('1.1') }, a);
    await store.answerApproval('t_back', '1.1', { approved: true, answeredAt: 5 });
    const resumed = await store.transition('t_back', 'input_required', 'running', {}, a);
    expect(resumed).toMatchObject({ status: 'running', owner: 'A', epoch: a.epoch });
    expect(resumed.approval).toBeUndefined();
    expect((await store.get('t_back'))!.approval).toBeUndefined();
    await store.transition('t_back', 'running', 'input_required', { approval: request('1.2') }, a);
    const done = await store.transition('t_back', 'input_required', 'running', {}, a);
    expect(done.approval).toBeUndefined();
    await store.transition('t_back', 'running', 'completed', { summary: 'S' }, a);
    expect(await store.get('t_back')).toMatchObject({ status: 'completed', summary: 'S' });
    expect((await store.get('t_back'))!.approval).toBeUndefined();
  });

  test('approvals: a cancel works from input_required, and the owner can no longer resume it', async (store) => {
    const a = await claimed(store, 't_cx');
    await store.transition('t_cx', 'running', 'input_required', { approval: request('1.1') }, a);
    const cancelled = await store.transition('t_cx', ['queued', 'running', 'input_required', 'interrupted'], 'cancelled', { cancelledBy: 'user', endedAt: 9 });
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: 'user' });
    expect(cancelled.approval).toBeUndefined();
    await expect(store.transition('t_cx', 'input_required', 'running', {}, a)).rejects.toHaveProperty('code');
    await expect(store.answerApproval('t_cx', '1.1', { approved: true, answeredAt: 5 })).rejects.toMatchObject({ code: 'not_waiting' });
    await expect(store.appendOutput('t_cx', { lines: ['late'] }, a)).rejects.toMatchObject({ code: 'lease_lost' });
    expect(await store.heartbeat('A', 999)).toEqual([]);
    expect((await store.get('t_cx'))!.status).toBe('cancelled');
  });

  test('approvals: interrupted while waiting, it is claimed again and comes back waiting', async (store) => {
    const a = await claimed(store, 't_int');
    await store.transition('t_int', 'running', 'input_required', { approval: request('1.1') }, a);
    // Its owner is gone: interrupted, fenced on that owner, from input_required.
    const interrupted = await store.transition('t_int', 'input_required', 'interrupted', { owner: undefined, leaseExpiresAt: undefined, takeovers: 1 }, a);
    expect(interrupted).toMatchObject({ status: 'interrupted', takeovers: 1 });
    expect(interrupted.approval).toBeUndefined();
    const b = { owner: 'B', epoch: (await store.claim('t_int', 'interrupted', 'B', 200)).epoch! };
    expect(b.epoch).toBe(a.epoch + 1);
    // The old owner's resume is refused; the new run asks again.
    await expect(store.transition('t_int', 'input_required', 'running', {}, a)).rejects.toHaveProperty('code');
    const again = await store.transition('t_int', 'running', 'input_required', { approval: request('2.1') }, b);
    expect(again).toMatchObject({ status: 'input_required', owner: 'B', epoch: b.epoch, approval: request('2.1') });
    expect(await store.heartbeat('B', 300)).toEqual([{ id: 't_int', owner: 'B', epoch: b.epoch }]);
  });
}
