import { type Budget, type BudgetField, budgetFieldName, budgetFields, type Spend } from './budget.js';

/**
 * Budget decisions as pure functions over budgets and spends: what a child may get, whether a run
 * may go on, what a refusal says. The guard (`budget-guard.ts`) reads the store and calls these.
 */

/** A budget used up: which one (the task's own, or an ancestor's tree budget), the field, its limit and the spend. */
export interface BudgetBreach {
  /** The task whose budget it is. */
  owner: string;
  field: BudgetField;
  limit: number;
  spent: number;
}

/** The first field of `budget` that `spend` has reached; undefined while every field has some left. A cost limit over a tree without prices counts as reached. */
export function breachOf(owner: string, budget: Budget, spend: Spend): BudgetBreach | undefined {
  for (const field of budgetFields) {
    const limit = budget[field];
    if (limit === undefined) continue;
    const spent = spend[field];
    if (spent === undefined) return { owner, field, limit, spent: Number.NaN };
    if (spent >= limit) return { owner, field, limit, spent };
  }
  return undefined;
}

/** What is left of `budget` after `spend`, per field it sets (never below 0). */
export function remainingOf(budget: Budget, spend: Spend): Budget {
  const left: Budget = {};
  for (const field of budgetFields) {
    const limit = budget[field];
    if (limit === undefined) continue;
    left[field] = Math.max(0, roundField(field, limit - (spend[field] ?? limit)));
  }
  return left;
}

/**
 * The budget a new child gets: what it asked for (or the configured default), each field capped at
 * what is left of every ancestor's budget (`left`, nearest first). A field no one sets stays unset.
 */
export function childBudget(asked: Budget | undefined, fallback: Budget | undefined, left: readonly Budget[]): Budget | undefined {
  const budget: Budget = { ...(fallback ?? {}), ...(asked ?? {}) };
  for (const ancestor of left) {
    for (const field of budgetFields) {
      const cap = ancestor[field];
      if (cap === undefined) continue;
      const own = budget[field];
      budget[field] = own === undefined ? cap : Math.min(own, cap);
    }
  }
  return Object.keys(budget).length > 0 ? budget : undefined;
}

/** `task "t_1" spent 1200 tokens of its tokens budget of 1000`, for results and stored errors. */
export function breachMessage(breach: BudgetBreach, subject: string): string {
  const name = budgetFieldName(breach.field);
  const whose = breach.owner === subject ? holderName(subject) : `task "${subject}": its ancestor "${breach.owner}"'s tree`;
  if (Number.isNaN(breach.spent)) {
    return `${whose} has a ${name} budget of ${breach.limit}, but a model in it has no price in config (prices), so its cost is unknown`;
  }
  return `${whose} spent ${format(breach.field, breach.spent)} of its ${name} budget of ${format(breach.field, breach.limit)}`;
}

/** Why a spawn is refused: `no tokens budget left for a child (task "t_1" spent 1000 of 1000)`. */
export function spawnRefusal(breach: BudgetBreach): string {
  const name = budgetFieldName(breach.field);
  return (
    `no ${name} budget left for a new child: ${holderName(breach.owner)} spent ${format(breach.field, breach.spent)} ` +
    `of its ${name} budget of ${format(breach.field, breach.limit)}`
  );
}

/** Tasks are `t_…`; anything else holding a budget is a top-level session (its tree: the agent and all its tasks). */
function holderName(id: string): string {
  return id.startsWith('t_') ? `task "${id}"` : `session "${id}"`;
}

function format(field: BudgetField, value: number): string {
  if (field === 'costUsd') return `$${roundField(field, value)}`;
  if (field === 'seconds') return `${roundField(field, value)} s`;
  return `${value} tokens`;
}

function roundField(field: BudgetField, value: number): number {
  if (field === 'costUsd') return Math.round(value * 1_000_000) / 1_000_000;
  if (field === 'seconds') return Math.round(value * 10) / 10;
  return value;
}
