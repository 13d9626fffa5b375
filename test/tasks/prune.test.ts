import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import { scriptedConfig, tempHome } from '../helpers/cli.js';
import { runMain } from '../helpers/main.js';
import { taskFixture } from './store-conformance.js';

describe('pruning', () => {
  it('old finished tasks are pruned by age (tasks.prune_after_days); unfinished ones never are', async () => {
    const { home, work, configFile } = tempHome(scriptedConfig('http://127.0.0.1:9/v1', { tasks: { prune_after_days: 7 } }));
    const store = SqliteTaskStore.open(join(home, 'state.db'));
    const day = 86_400_000;
    await store.create(taskFixture({ id: 't_ancient', status: 'completed', endedAt: Date.now() - 30 * day, cwd: work }));
    await store.create(taskFixture({ id: 't_recent', status: 'failed', endedAt: Date.now() - 1 * day, cwd: work }));
    await store.create(taskFixture({ id: 't_stuck', status: 'interrupted', createdAt: Date.now() - 30 * day, cwd: work }));
    await store.close();

    const listed = await runMain(['--config', configFile, 'tasks', 'list', '--json'], { home, cwd: work });

    expect(listed.code, listed.stderr).toBe(0);
    expect(
      JSON.parse(listed.stdout)
        .tasks.map((task: { task_id: string }) => task.task_id)
        .sort(),
    ).toEqual(['t_recent', 't_stuck']);
  });

  it('tasks commands name a bad status or an unknown id', async () => {
    const { home, work, configFile } = tempHome(scriptedConfig('http://127.0.0.1:9/v1'));
    const badStatus = await runMain(['--config', configFile, 'tasks', 'list', '--status', 'done'], { home, cwd: work });
    expect(badStatus.stderr).toContain('unknown status "done"');
    const unknown = await runMain(['--config', configFile, 'tasks', 'show', 't_nothere'], { home, cwd: work });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no task "t_nothere" in this LEGATE_HOME');
    const badTimeout = await runMain(['--config', configFile, 'tasks', 'collect', 't_nothere', '--timeout', 'soon'], { home, cwd: work });
    expect(badTimeout.stderr).toContain('--timeout must be a number of seconds (got "soon")');
    const negative = await runMain(['--config', configFile, 'tasks', 'collect', 't_nothere', '--timeout', '-5'], { home, cwd: work });
    expect(negative.stderr).toContain('timeout must be a number of seconds >= 0 (got -5)');
  });
});
