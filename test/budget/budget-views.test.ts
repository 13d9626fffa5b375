import { describe, expect, it } from 'vitest';
import { recordBudgetStatus } from '../../src/budget/budget-view.js';
import { TaskDock } from '../../src/cli/tui/task-dock.js';
import { taskFixture } from '../../src/tasks/store/conformance.js';
import { taskRow } from '../../src/ui/task-views.js';

/** Issue 27, seeing spend: the views read a task's budget and its tree's spend from its record's counters (no tree walk). */
describe('budget views from the record', () => {
  const task = taskFixture({
    id: 't_view0001',
    sessionId: 's_dock',
    status: 'running',
    budget: { tokens: 650, costUsd: 1 },
    budgetRaises: { 't_kid/1.1': { tokens: 500 } },
    spend: { tokens: 200, costUsd: 0.25 },
    usage: { inputTokens: 40, outputTokens: 10 },
  });

  it('give the limit in force (raises included), the tree spend and what is left', () => {
    expect(recordBudgetStatus(task)).toMatchObject({
      limit: { tokens: 1150, cost_usd: 1 },
      spent: { tokens: 200, cost_usd: 0.25 },
      remaining: { tokens: 950, cost_usd: 0.75 },
      raised_by: { tokens: 500 },
    });
    expect(recordBudgetStatus(taskFixture())).toBeUndefined();
  });

  it('show in the chat dock and the dashboard row', () => {
    const dock = new TaskDock('s_dock');
    dock.update(task);
    expect(dock.lines().join('\n')).toContain('budget tokens 950/1150, $0.75/$1 left');
    const row = taskRow(task, {});
    expect(row).toMatchObject({ tokens: 50, treeTokens: 200, budget: { remaining: { tokens: 950, cost_usd: 0.75 } } });
  });
});
