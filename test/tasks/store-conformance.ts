import { beforeEach, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import { outputBufferLines, outputLineChars } from '../../src/tasks/store/task-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';

/** A task record with sensible defaults. */
export function taskFixture(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: `t_${Math.random().toString(16).slice(2, 10)}`,
    goal: 'a goal',
    model: 'm',
    depth: 1,
    sessionId: 's_1',
    mode: 'async',
    cwd: '/work',
    status: 'queued',
    createdAt: Date.now(),
    apiCalls: 0,
    usage: { inputTokens: 0, outputTokens: 0 },
    outputLines: 0,
    reported: false,
    ...overrides,
  };
}

/**
 * The one conformance suite every TaskStore backend must pass (memory, SQLite, later Redis).
 * `open` returns a fresh, empty store.
 */
export function storeConformance(name: string, open: () => Promise<TaskStore>): void {
  describe(`TaskStore conformance: ${name}`, () => {
    let store: TaskStore;
    beforeEach(async () => {
      store = await open();
      return () => store.close();
    });

    it('creates and reads back a task, with every field', async () => {
      const task = taskFixture({ context: 'ctx', toolsets: ['file'], route: 'cheap', parentTaskId: undefined } as Partial<TaskRecord>);
      await store.create(task);
      expect(await store.get(task.id)).toEqual(task);
      expect(await store.get('t_missing')).toBeUndefined();
    });

    it('refuses a duplicate id', async () => {
      const task = taskFixture();
      await store.create(task);
      await expect(store.create(task)).rejects.toThrow(task.id);
    });

    it('lists by session and status, newest first, with a limit', async () => {
      await store.create(taskFixture({ id: 't_a', sessionId: 's_1', createdAt: 1 }));
      await store.create(taskFixture({ id: 't_b', sessionId: 's_1', createdAt: 2, status: 'running' }));
      await store.create(taskFixture({ id: 't_c', sessionId: 's_2', createdAt: 3 }));
      expect((await store.list({ sessionId: 's_1' })).map((task) => task.id)).toEqual(['t_b', 't_a']);
      expect((await store.list({ status: ['running'] })).map((task) => task.id)).toEqual(['t_b']);
      expect((await store.list({ limit: 2 })).map((task) => task.id)).toEqual(['t_c', 't_b']);
      expect((await store.list({ cwd: '/elsewhere' })).length).toBe(0);
    });

    it('counts tasks by session, status and cwd', async () => {
      await store.create(taskFixture({ id: 't_n1', sessionId: 's_1', status: 'running' }));
      await store.create(taskFixture({ id: 't_n2', sessionId: 's_1', status: 'completed' }));
      await store.create(taskFixture({ id: 't_n3', sessionId: 's_2', status: 'running', cwd: '/other' }));
      expect(await store.count()).toBe(3);
      expect(await store.count({ sessionId: 's_1' })).toBe(2);
      expect(await store.count({ status: ['running'] })).toBe(2);
      expect(await store.count({ sessionId: 's_1', status: ['running', 'failed'] })).toBe(1);
      expect(await store.count({ cwd: '/other' })).toBe(1);
      expect(await store.count({ status: [] })).toBe(0);
    });

    it('transitions conditionally and refuses illegal or stale moves', async () => {
      const task = taskFixture({ id: 't_tr' });
      await store.create(task);
      const running = await store.transition('t_tr', 'queued', 'running', { startedAt: 5 });
      expect(running).toMatchObject({ status: 'running', startedAt: 5 });
      // Stale expectation: it is no longer queued.
      await expect(store.transition('t_tr', 'queued', 'running')).rejects.toMatchObject({ code: 'illegal_transition' });
      // Illegal move even from the right state.
      await expect(store.transition('t_tr', 'running', 'queued')).rejects.toMatchObject({ code: 'illegal_transition' });
      const done = await store.transition('t_tr', ['running', 'interrupted'], 'completed', { summary: 'S', exitReason: 'completed', endedAt: 9 });
      expect(done).toMatchObject({ status: 'completed', summary: 'S', endedAt: 9 });
      await expect(store.transition('t_tr', 'completed', 'failed')).rejects.toMatchObject({ code: 'illegal_transition' });
      await expect(store.transition('t_none', 'queued', 'running')).rejects.toMatchObject({ code: 'task_not_found' });
      expect((await store.get('t_tr'))!.status).toBe('completed');
    });

    it('only one of two racing transitions wins', async () => {
      await store.create(taskFixture({ id: 't_race', status: 'running' }));
      const outcomes = await Promise.allSettled([
        store.transition('t_race', 'running', 'completed'),
        store.transition('t_race', 'running', 'cancelled'),
      ]);
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    });

    it('updates progress without touching the status', async () => {
      await store.create(taskFixture({ id: 't_up', status: 'running' }));
      await store.update('t_up', { apiCalls: 3, usage: { inputTokens: 10, outputTokens: 4 }, currentTool: 'read_file', reported: true });
      expect(await store.get('t_up')).toMatchObject({ status: 'running', apiCalls: 3, usage: { inputTokens: 10, outputTokens: 4 }, currentTool: 'read_file', reported: true });
      await expect(store.update('t_none', { apiCalls: 1 })).rejects.toMatchObject({ code: 'task_not_found' });
    });

    it('keeps the last output lines, each capped, and counts all of them', async () => {
      await store.create(taskFixture({ id: 't_out' }));
      const lines = Array.from({ length: outputBufferLines + 50 }, (_, index) => `line ${index}`);
      await store.appendOutput('t_out', lines.slice(0, 100));
      await store.appendOutput('t_out', [...lines.slice(100), 'x'.repeat(outputLineChars + 100)]);
      const output = await store.readOutput('t_out');
      expect(output).toHaveLength(outputBufferLines);
      expect(output[0]).toBe('line 51');
      expect(output.at(-1)).toHaveLength(outputLineChars);
      expect((await store.get('t_out'))!.outputLines).toBe(outputBufferLines + 51);
    });

    it('checkpoints steps in order and loads the conversation', async () => {
      await store.create(taskFixture({ id: 't_cp' }));
      expect(await store.loadCheckpoint('t_cp')).toEqual({ iterations: 0, messages: [] });
      await store.appendCheckpoint('t_cp', { iteration: 1, messages: [{ role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{}' }] }, { role: 'tool', toolCallId: 'c1', name: 'list_dir', content: 'a\nb' }] });
      await store.appendCheckpoint('t_cp', { iteration: 2, messages: [{ role: 'assistant', content: 'done ✓ ünïcode' }] });
      const checkpoint = await store.loadCheckpoint('t_cp');
      expect(checkpoint.iterations).toBe(2);
      expect(checkpoint.messages).toEqual([
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'list_dir', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', name: 'list_dir', content: 'a\nb' },
        { role: 'assistant', content: 'done ✓ ünïcode' },
      ]);
    });

    it('applies progress in the same write as output lines', async () => {
      await store.create(taskFixture({ id: 't_op', status: 'running' }));
      await store.appendOutput('t_op', ['→ list_dir {}'], { currentTool: 'list_dir', lastActivity: '→ list_dir', apiCalls: 2, usage: { inputTokens: 5, outputTokens: 1 } });
      expect(await store.get('t_op')).toMatchObject({ status: 'running', currentTool: 'list_dir', lastActivity: '→ list_dir', apiCalls: 2, usage: { inputTokens: 5, outputTokens: 1 }, outputLines: 1 });
      await store.appendOutput('t_op', [], { currentTool: '' });
      expect(await store.get('t_op')).toMatchObject({ currentTool: '', outputLines: 1 });
      expect(await store.readOutput('t_op')).toEqual(['→ list_dir {}']);
      await expect(store.appendOutput('t_none', ['x'], { apiCalls: 1 })).rejects.toMatchObject({ code: 'task_not_found' });
    });

    it('applies one task\'s calls in the order they are made, even when none is awaited', async () => {
      await store.create(taskFixture({ id: 't_order', status: 'running' }));
      const calls = [
        store.appendOutput('t_order', ['one'], { currentTool: 'read_file', apiCalls: 1 }),
        store.appendCheckpoint('t_order', { iteration: 1, messages: [{ role: 'assistant', content: 'first' }] }),
        store.update('t_order', { currentTool: 'list_dir' }),
        store.appendOutput('t_order', ['two', 'three'], { apiCalls: 2 }),
        store.appendCheckpoint('t_order', { iteration: 2, messages: [{ role: 'assistant', content: 'second' }] }),
        store.appendOutput('t_order', [], { currentTool: '' }),
      ];
      const ended = store.transition('t_order', 'running', 'completed', { summary: 'S' });
      await Promise.all(calls);
      expect(await ended).toMatchObject({ status: 'completed', currentTool: '', apiCalls: 2, outputLines: 3 });
      expect(await store.readOutput('t_order')).toEqual(['one', 'two', 'three']);
      expect(await store.loadCheckpoint('t_order')).toEqual({ iterations: 2, messages: [{ role: 'assistant', content: 'first' }, { role: 'assistant', content: 'second' }] });
    });

    it('reads only the last lines when asked', async () => {
      await store.create(taskFixture({ id: 't_last' }));
      await store.appendOutput('t_last', ['a', 'b', 'c', 'd']);
      expect(await store.readOutput('t_last', 2)).toEqual(['c', 'd']);
      expect(await store.readOutput('t_last', 10)).toEqual(['a', 'b', 'c', 'd']);
    });

    it('heartbeat renews the leases of running tasks of one owner and reports which it still owns', async () => {
      await store.create(taskFixture({ id: 't_h1', status: 'running', owner: 'o1', leaseExpiresAt: 1 }));
      await store.create(taskFixture({ id: 't_h2', status: 'running', owner: 'o1', leaseExpiresAt: 1 }));
      await store.create(taskFixture({ id: 't_h3', status: 'running', owner: 'o2', leaseExpiresAt: 1 }));
      await store.transition('t_h2', 'running', 'cancelled');
      expect((await store.heartbeat('o1', 500)).sort()).toEqual(['t_h1']);
      expect((await store.get('t_h1'))!.leaseExpiresAt).toBe(500);
      expect((await store.get('t_h3'))!.leaseExpiresAt).toBe(1);
      expect(await store.heartbeat('nobody', 500)).toEqual([]);
    });

    it('prunes ended tasks older than the cutoff, with their output, and nothing else', async () => {
      await store.create(taskFixture({ id: 't_old', status: 'completed', endedAt: 100 }));
      await store.appendOutput('t_old', ['x']);
      await store.appendCheckpoint('t_old', { iteration: 1, messages: [{ role: 'assistant', content: 'x' }] });
      await store.addSteer('t_old', 'x');
      await store.create(taskFixture({ id: 't_new', status: 'failed', endedAt: 300 }));
      await store.create(taskFixture({ id: 't_live', status: 'running' }));
      await store.create(taskFixture({ id: 't_int', status: 'interrupted' }));
      expect(await store.prune(200)).toBe(1);
      expect(await store.get('t_old')).toBeUndefined();
      expect((await store.list()).map((task) => task.id).sort()).toEqual(['t_int', 't_live', 't_new']);
    });

    it('saves, replaces, loads and lists sessions', async () => {
      const messages = [{ role: 'user' as const, content: 'hi' }, { role: 'assistant' as const, content: 'hello' }];
      await store.saveSession({ id: 's_a', cwd: '/w', createdAt: 1, updatedAt: 1, messages });
      await store.saveSession({ id: 's_b', cwd: '/other', createdAt: 2, updatedAt: 2, messages: [] });
      await store.saveSession({ id: 's_a', cwd: '/w', createdAt: 1, updatedAt: 3, messages: [...messages, { role: 'user', content: 'again' }] });
      expect(await store.loadSession('s_a')).toEqual({ id: 's_a', cwd: '/w', createdAt: 1, updatedAt: 3, messages: [...messages, { role: 'user', content: 'again' }] });
      expect(await store.loadSession('s_none')).toBeUndefined();
      expect((await store.listSessions()).map((session) => session.id)).toEqual(['s_a', 's_b']);
      expect((await store.listSessions({ cwd: '/other' })).map((session) => session.id)).toEqual(['s_b']);
      expect((await store.listSessions({ limit: 1 })).map((session) => session.id)).toEqual(['s_a']);
    });

    it('steering: queued, taken once in order, the rest missed', async () => {
      await store.create(taskFixture({ id: 't_st', status: 'running' }));
      const first = await store.addSteer('t_st', 'one');
      await store.addSteer('t_st', 'two');
      expect(first).toMatchObject({ taskId: 't_st', message: 'one', state: 'queued' });
      expect((await store.takeSteers('t_st')).map((steer) => steer.message)).toEqual(['one', 'two']);
      expect(await store.takeSteers('t_st')).toEqual([]);
      await store.addSteer('t_st', 'three');
      expect(await store.missSteers('t_st')).toBe(1);
      expect((await store.listSteers('t_st')).map((steer) => [steer.message, steer.state])).toEqual([
        ['one', 'delivered'],
        ['two', 'delivered'],
        ['three', 'missed'],
      ]);
      await expect(store.addSteer('t_none', 'x')).rejects.toMatchObject({ code: 'task_not_found' });
    });
  });
}
