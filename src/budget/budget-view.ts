import { totalTokens } from '../provider/types.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { type Budget, budgetInForce, budgetView, type Spend } from './budget.js';
import { remainingOf } from './budget-policy.js';

/** A task's budget as the views show it (`limit` in force, `spent` by its tree, `remaining`; `raised_by` once a human raised it). */
export type BudgetStatus = {
  limit: Record<string, number>;
  spent: Record<string, number>;
  remaining: Record<string, number>;
  raised_by?: Record<string, number>;
};

/**
 * A task's budget as check_task, list_tasks and `legate tasks` show it: the limit, what the task and
 * its descendants spent (`spent.cost_usd` only when every model in the tree has a price), what is
 * left; `raised` (the raises humans approved), when there are any.
 */
export function budgetStatusView(budget: Budget, spend: Spend, raised?: Budget): BudgetStatus {
  const spent: Record<string, number> = { tokens: spend.tokens, seconds: Math.round(spend.seconds * 10) / 10 };
  if (spend.costUsd !== undefined) spent.cost_usd = Math.round(spend.costUsd * 1_000_000) / 1_000_000;
  const raisedBy = raised ? budgetView(raised) : {};
  return {
    limit: budgetView(budget),
    spent,
    remaining: budgetView(remainingOf(budget, spend)),
    ...(Object.keys(raisedBy).length > 0 ? { raised_by: raisedBy } : {}),
  };
}

/**
 * What `task`'s tree spent, from its record alone: the store's counters (`spend`), or its own usage
 * on a record from before them. For views that read many records and must not walk trees.
 */
export function recordedSpend(task: TaskRecord, now = Date.now()): Spend {
  const seconds = ((task.endedAt ?? now) - task.createdAt) / 1000;
  if (task.spend) return { tokens: task.spend.tokens, seconds, ...(task.spend.unpriced ? {} : { costUsd: task.spend.costUsd }) };
  return { tokens: totalTokens(task.usage), seconds };
}

/** The budget status of `task` from its record (its budget in force against `spend`, default its recorded spend); undefined without a budget. */
export function recordBudgetStatus(task: TaskRecord, spend: Spend = recordedSpend(task)): BudgetStatus | undefined {
  if (!task.budget) return undefined;
  const inForce = budgetInForce(task.budget, task.budgetRaises);
  const raised: Budget = {};
  for (const field of ['tokens', 'costUsd', 'seconds'] as const) {
    const by = inForce[field] !== undefined && task.budget[field] !== undefined ? inForce[field]! - task.budget[field]! : 0;
    if (by > 0) raised[field] = Math.round(by * 1_000_000) / 1_000_000;
  }
  return budgetStatusView(inForce, spend, raised);
}
