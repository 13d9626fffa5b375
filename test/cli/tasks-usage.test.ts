import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../src/tasks/store/sqlite/sqlite-store.js';
import type { TaskRecord } from '../../src/tasks/task-record.js';
import { runCli } from '../helpers/cli.js';
import { taskFixture } from '../tasks/store-conformance.js';
import { home } from './cli-harness.js';

/** Issue 27: `legate tasks usage --tree ID` and `tasks show` report a tree's spend and its budgets. */

const usage = (tokens: number) => ({ inputTokens: tokens - 10, outputTokens: 10 });

describe('legate tasks usage --tree', () => {
  it('breaks a tree down by child, with each subtree total, cost and budget; tasks show gives the tree total', async () => {
    const dirs = home({
      model: { provider: 'openai', name: 'm', base_url: 'http://127.0.0.1:9/v1' },
      prices: { m: { input_per_million: 1, output_per_million: 1 } },
    });
    const store = SqliteTaskStore.open(join(dirs.home, 'state.db'));
    const now = Date.now();
    const tasks: Partial<TaskRecord>[] = [
      { id: 't_root0001', sessionId: 's_top', depth: 1, status: 'running', goal: 'ROOT', usage: usage(100), budget: { tokens: 1000 }, createdAt: now - 3000 },
      { id: 't_kid00001', sessionId: 't_root0001', depth: 2, status: 'completed', goal: 'KID-ONE', usage: usage(200), createdAt: now - 2000 },
      {
        id: 't_kid00002',
        sessionId: 't_root0001',
        depth: 2,
        status: 'running',
        goal: 'KID-TWO',
        usage: usage(300),
        budget: { tokens: 400 },
        createdAt: now - 1000,
      },
      { id: 't_grand001', sessionId: 't_kid00002', depth: 3, status: 'completed', goal: 'GRANDKID', usage: usage(50), createdAt: now - 500 },
    ];
    for (const task of tasks) await store.create(taskFixture({ cwd: dirs.work, model: 'm', ...task }));
    await store.close();
    const cli = (args: string[]) => runCli(['--config', dirs.configFile, ...args], { home: dirs.home, cwd: dirs.work });

    const json = await cli(['tasks', 'usage', '--tree', 't_root0001', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const view = JSON.parse(json.stdout);
    expect(view.total).toEqual({ tokens: 650, cost_usd: 0.00065 });
    expect(view.tasks.map((row: { task_id: string; tree_tokens: number }) => [row.task_id, row.tree_tokens])).toEqual([
      ['t_root0001', 650],
      ['t_kid00001', 200],
      ['t_kid00002', 350],
      ['t_grand001', 50],
    ]);
    expect(view.tasks[2].budget).toMatchObject({ limit: { tokens: 400 }, spent: { tokens: 350 }, remaining: { tokens: 50 } });

    const text = await cli(['tasks', 'usage', '--tree', 't_root0001']);
    expect(text.stdout).toContain('  t_kid00002  running  300 tokens (tree 350  $0.00035)  KID-TWO');
    expect(text.stdout).toContain('total: 650 tokens, $0.00065');

    const show = await cli(['tasks', 'show', 't_root0001']);
    expect(show.stdout).toContain('budget tokens: 350 left of 1000 (spent 650, its tree included)');
  });
});
