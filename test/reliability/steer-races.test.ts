import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/agent/events.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import type { TaskSpec } from '../../src/tasks/task-record.js';
import { type TaskRunner, TaskService } from '../../src/tasks/task-service.js';

/**
 * The two windows in which a steer could be accepted and then never settled (left `queued`
 * forever), forced deterministically: a store whose calls interleave (another process, a network
 * store) hits them by chance; load.test.ts shows it under load.
 */

const SESSION = 's_races0000000';
const spec: TaskSpec = { goal: 'race', model: 'm', depth: 1, sessionId: SESSION, mode: 'async', cwd: '/tmp', toolsets: [] };

function result(status: RunResult['status']): RunResult {
  return {
    status,
    exitReason: status === 'completed' ? 'completed' : 'cancelled',
    final: status === 'completed' ? 'done' : '',
    messages: [],
    usage: { inputTokens: 0, outputTokens: 0 },
    apiCalls: 1,
  };
}

/** `store` with some methods replaced; the rest pass through. */
function intercept(store: TaskStore, overrides: Partial<TaskStore>): TaskStore {
  return new Proxy(store, {
    get(target, property) {
      const override = (overrides as Record<PropertyKey, unknown>)[property];
      if (override) return override;
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('steer races: an accepted steer is always delivered or missed', () => {
  it('a steer accepted while the task is ending (after its queue was missed, before its final status) is missed', async () => {
    const inner = new MemoryTaskStore();
    let service!: TaskService;
    let lateSteer: Promise<unknown> | undefined;
    const store = intercept(inner, {
      transition: async (id, from, to, patch) => {
        // The child is done and its steers were missed; a steer arrives before the final status lands.
        if (to === 'completed' && !lateSteer) {
          lateSteer = service.steer(SESSION, id, 'LATE STEER');
          await lateSteer;
        }
        return inner.transition(id, from, to, patch);
      },
    });
    const runner: TaskRunner = { run: async () => result('completed') };
    service = new TaskService({ store, runner, maxConcurrent: 1 });
    const task = await service.spawn(spec);
    const { task: ended } = await service.waitForEnd(SESSION, task.id, 5000);

    expect(ended.status).toBe('completed');
    await expect(lateSteer).resolves.toMatchObject({ message: 'LATE STEER' });
    expect((await inner.listSteers(task.id)).map((steer) => steer.state)).toEqual(['missed']);
    await service.shutdown();
  });

  it('a steer checked before a cancel and stored after it is missed', async () => {
    const inner = new MemoryTaskStore();
    let service!: TaskService;
    const store = intercept(inner, {
      addSteer: async (taskId, message) => {
        // steer() saw the task running; a cancel (here, or in another process) lands before the steer is stored.
        await service.cancel(SESSION, taskId);
        return inner.addSteer(taskId, message);
      },
    });
    const runner: TaskRunner = {
      run: (_task, control) => new Promise((resolve) => control.signal.addEventListener('abort', () => resolve(result('cancelled')), { once: true })),
    };
    service = new TaskService({ store, runner, maxConcurrent: 1 });
    const task = await service.spawn(spec);
    expect(task.status).toBe('running');

    await service.steer(SESSION, task.id, 'STEER AFTER CANCEL');

    expect((await service.get(SESSION, task.id)).status).toBe('cancelled');
    expect((await inner.listSteers(task.id)).map((steer) => steer.state)).toEqual(['missed']);
    await service.shutdown();
  });
});
