import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * What a program outside this repository imports (through the package's `exports`, from the built
 * `dist/`: run `npm run build` first): the SQLite store and the store conformance suite, which
 * must load without a test framework.
 */
const { SqliteTaskStore } = await import('legate/sqlite');
const { storeConformance, taskFixture } = await import('legate/store-conformance');
const legate = await import('legate');

storeConformance(
  'sqlite through legate/sqlite',
  { create: async () => SqliteTaskStore.open(':memory:'), close: (store) => store.close() },
  { describe, it, expect },
);

describe('library exports', () => {
  it('the scripted model server is at legate/testing, not in the main entry', async () => {
    const testing = await import('legate/testing');
    expect(typeof testing.startScriptedServer).toBe('function');
    expect('startScriptedServer' in legate).toBe(false);
  });

  it('the conformance suite imports no test framework', () => {
    const source = readFileSync(new URL('../../dist/tasks/store/conformance.js', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^import[^;]*['"]vitest['"]/m);
  });

  it('an embedding program runs a durable task on SqliteTaskStore through the public entry points', async () => {
    const store = SqliteTaskStore.open(':memory:');
    const runner: import('legate').TaskRunner = {
      run: async (task, control) => {
        control.emit({ type: 'step.completed', iteration: 1, messages: [{ role: 'assistant', content: `done: ${task.goal}` }] });
        await control.persisted();
        return {
          status: 'completed',
          exitReason: 'completed',
          final: `done: ${task.goal}`,
          messages: [],
          usage: { inputTokens: 1, outputTokens: 1 },
          apiCalls: 1,
        };
      },
    };
    const service = new legate.TaskService({ store, runner, maxConcurrent: 2 });
    const spec = { ...taskFixture(), goal: 'embed' };
    const task = await service.spawn({ goal: spec.goal, model: 'm', depth: 1, sessionId: 's_embed', mode: 'async', cwd: '/tmp' });
    const { task: ended } = await service.waitForEnd(legate.sessionCaller('s_embed'), task.id, 10_000);
    expect(ended).toMatchObject({ status: 'completed', summary: 'done: embed', epoch: 1 });
    expect((await service.checkpoint(legate.operator, task.id)).messages).toEqual([{ role: 'assistant', content: 'done: embed' }]);
    expect(legate.transitions.some((move) => move.from === 'interrupted' && move.to === 'failed')).toBe(true);
    await service.close();
  });
});
