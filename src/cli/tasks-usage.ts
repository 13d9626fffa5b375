import type { Command } from 'commander';
import type { BudgetLedger } from '../budget/budget-ledger.js';
import { type BudgetStatus, recordBudgetStatus, recordedSpend } from '../budget/budget-view.js';
import { type Prices, usageView } from '../delegation/usage-view.js';
import { totalTokens } from '../provider/types.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator, type TaskService } from '../tasks/task-service.js';

export type { BudgetStatus };

/** `budget: tokens 900 left of 1000 (spent 100 by the task and its tree)`, one line per field, for `tasks show`. */
export function budgetLines(status: BudgetStatus | undefined): string[] {
  if (!status) return [];
  return Object.entries(status.limit).map(([field, limit]) => {
    const raised = status.raised_by?.[field];
    return (
      `budget ${field}: ${status.remaining[field] ?? 0} left of ${limit} (spent ${status.spent[field] ?? 'unknown'}, its tree included` +
      `${raised ? `; raised by ${raised} on approval` : ''})`
    );
  });
}

interface UsageDesk {
  tasks: TaskService;
  budgets: BudgetLedger;
  config: { prices: Prices };
}

/**
 * The spend of a task tree, child by child: each task's own usage (and cost, when its model has a
 * price), its subtree's total, and its budget with what is left. The first row is the root.
 */
export async function treeUsageView(desk: UsageDesk, rootId: string): Promise<Record<string, unknown>> {
  const root = await desk.tasks.get(operator, rootId);
  const tree = await desk.budgets.tree(root);
  const rows = [];
  for (const task of tree) {
    const spend = await desk.budgets.treeSpend(task);
    rows.push({
      task_id: task.id,
      parent: task.sessionId,
      depth: task.depth,
      status: task.status,
      model: task.model,
      goal: task.goal.slice(0, 60),
      usage: usageView(task.usage, task.model, desk.config.prices),
      tree_tokens: spend.tokens,
      ...(spend.costUsd !== undefined ? { tree_cost_usd: Math.round(spend.costUsd * 1_000_000) / 1_000_000 } : {}),
      ...(task.budget ? { budget: recordBudgetStatus(task, { ...spend, seconds: recordedSpend(task).seconds }) } : {}),
    });
  }
  const total = await desk.budgets.treeSpend(root);
  return {
    task_id: root.id,
    total: { tokens: total.tokens, ...(total.costUsd !== undefined ? { cost_usd: Math.round(total.costUsd * 1_000_000) / 1_000_000 } : {}) },
    tasks: rows,
  };
}

/** The text table of `treeUsageView`: one indented row per task. */
function usageTable(view: Record<string, unknown>, tree: TaskRecord[]): string {
  const rows = view.tasks as { task_id: string; depth: number; status: string; tree_tokens: number; tree_cost_usd?: number; goal: string }[];
  const rootDepth = tree[0]?.depth ?? 1;
  const lines = rows.map((row, index) => {
    const own = totalTokens(tree[index]!.usage);
    const indent = '  '.repeat(row.depth - rootDepth);
    const cost = row.tree_cost_usd !== undefined ? `  $${row.tree_cost_usd}` : '';
    return `${indent}${row.task_id}  ${row.status}  ${own} tokens (tree ${row.tree_tokens}${cost})  ${row.goal}`;
  });
  const total = view.total as { tokens: number; cost_usd?: number };
  return [...lines, `total: ${total.tokens} tokens${total.cost_usd !== undefined ? `, $${total.cost_usd}` : ''}`].join('\n');
}

/** `legate tasks usage --tree ID`. */
export function registerTasksUsage<Desk extends UsageDesk>(
  tasks: Command,
  action: (body: (desk: Desk, options: { tree: string; json?: boolean }) => Promise<number>) => Parameters<Command['action']>[0],
  print: (value: unknown, json: boolean | undefined, text: string) => void,
): void {
  tasks
    .command('usage')
    .description("a task tree's spend broken down by child: tokens, cost and budget of each task and its subtree")
    .requiredOption('--tree <id>', 'the task at the root of the tree')
    .option('--json', 'print JSON')
    .action(
      action(async (desk, options) => {
        const view = await treeUsageView(desk, options.tree);
        const tree = await desk.budgets.tree(await desk.tasks.get(operator, options.tree));
        print(view, options.json, usageTable(view, tree));
        return 0;
      }),
    );
}
