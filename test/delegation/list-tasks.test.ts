import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { Runtime } from '../../src/runtime.js';
import { MemoryTaskStore } from '../../src/tasks/store/memory-store.js';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskStore } from '../../src/tasks/store/task-store.js';
import { executeToolCall } from '../../src/tools/execute.js';
import { createNodeIO } from '../../src/tools/node-io.js';
import { taskFixture } from '../tasks/store-conformance.js';

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

async function listTasks(
  store: TaskStore,
  args: Record<string, unknown>,
): Promise<{ tasks: { task_id: string; status: string }[]; total?: number; truncated?: boolean; note?: string }> {
  const config = configSchema.parse({ model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-test-list-0001' } });
  runtime = new Runtime({ loaded: { config, file: undefined, home: '/tmp', unset: new Map() }, cwd: process.cwd(), store });
  const tools = new Map(runtime.toolsFor({ sessionId: 's_mine', depth: 0, toolsets: ['async_delegation'] }).map((tool) => [tool.name, tool]));
  const result = await executeToolCall(
    tools,
    { id: 'c1', name: 'list_tasks', arguments: JSON.stringify(args) },
    { cwd: process.cwd(), signal: new AbortController().signal, io: createNodeIO() },
  );
  expect(result.isError).toBe(false);
  return JSON.parse(result.content);
}

for (const [name, open] of [
  ['memory', () => new MemoryTaskStore()],
  ['sqlite', () => SqliteTaskStore.open(':memory:')],
] as const) {
  describe(`list_tasks over many tasks (${name} store)`, () => {
    it('shows the newest 100 of the session and counts all of them, per status too, reading only the rows it shows', async () => {
      const backend = open();
      const reads: string[] = [];
      const store = new Proxy(backend, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          // The session's reads (the reaper's look at running tasks aside).
          if (property === 'list')
            return (filter: { limit?: number; sessionId?: string }) => (
              filter.sessionId && reads.push(`list limit=${filter.limit}`), value.call(target, filter)
            );
          if (property === 'count') return (filter: object) => (reads.push('count'), value.call(target, filter));
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      for (let index = 0; index < 150; index++) {
        await store.create(
          taskFixture({
            id: `t_${String(index).padStart(4, '0')}`,
            sessionId: 's_mine',
            status: index % 5 === 0 ? 'failed' : 'completed',
            createdAt: 1_000 + index,
          }),
        );
      }
      for (let index = 0; index < 20; index++)
        await store.create(taskFixture({ id: `t_other_${index}`, sessionId: 's_other', status: 'completed', createdAt: 5_000 + index }));

      const all = await listTasks(store, {});
      expect(all.tasks).toHaveLength(100);
      expect(all.tasks[0]!.task_id).toBe('t_0149');
      expect(all.tasks.at(-1)!.task_id).toBe('t_0050');
      expect(all).toMatchObject({ total: 150, truncated: true, note: 'showing the newest 100 of 150; filter by status to see others' });
      expect(reads.filter((read) => read.startsWith('list') || read === 'count')).toEqual(['list limit=100', 'count']);
      reads.length = 0;

      const failed = await listTasks(store, { status: 'failed' });
      expect(failed.tasks).toHaveLength(30);
      expect(failed.tasks.every((task) => task.status === 'failed')).toBe(true);
      expect(failed).not.toHaveProperty('total');
      // Fewer than shown: nothing left to count.
      expect(reads).toEqual(['list limit=100']);

      const completed = await listTasks(store, { status: 'completed' });
      expect(completed.tasks).toHaveLength(100);
      expect(completed).toMatchObject({ total: 120, truncated: true });
    });
  });
}
