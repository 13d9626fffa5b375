import { type Budget, budgetView, type Spend } from './budget.js';
import { remainingOf } from './budget-policy.js';

/**
 * A task's budget as check_task, list_tasks and `legate tasks` show it: the limit, what the task and
 * its descendants spent (`spent.cost_usd` only when every model in the tree has a price), what is left.
 */
export function budgetStatusView(budget: Budget, spend: Spend): Record<string, Record<string, number>> {
  const spent: Record<string, number> = { tokens: spend.tokens, seconds: Math.round(spend.seconds * 10) / 10 };
  if (spend.costUsd !== undefined) spent.cost_usd = Math.round(spend.costUsd * 1_000_000) / 1_000_000;
  return { limit: budgetView(budget), spent, remaining: budgetView(remainingOf(budget, spend)) };
}
