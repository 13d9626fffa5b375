/**
 * A budget: the most a task and all its descendants may spend. `tokens` counts every input token
 * (cached or not) and every output token, `costUsd` prices them with `prices`, `seconds` is the
 * task's wall time since it was spawned (waits for approval included). An absent field is no limit.
 */
export interface Budget {
  tokens?: number;
  costUsd?: number;
  seconds?: number;
}

/** What a task (with its descendants, for tokens and cost) has spent. `costUsd` is absent when some model in the tree has no price. */
export interface Spend {
  tokens: number;
  costUsd?: number;
  seconds: number;
}

export const budgetFields = ['tokens', 'costUsd', 'seconds'] as const;
export type BudgetField = (typeof budgetFields)[number];

/** The field as a user writes it (`cost_usd`), for messages. */
export function budgetFieldName(field: BudgetField): string {
  return field === 'costUsd' ? 'cost_usd' : field;
}

/** A budget as written in config and tool arguments (`cost_usd`). */
export interface BudgetInput {
  tokens?: number | undefined;
  cost_usd?: number | undefined;
  seconds?: number | undefined;
}

/** The stored form of a written budget; undefined when it sets nothing. */
export function budgetFrom(input: BudgetInput | undefined): Budget | undefined {
  if (!input) return undefined;
  const budget: Budget = {};
  if (input.tokens !== undefined) budget.tokens = input.tokens;
  if (input.cost_usd !== undefined) budget.costUsd = input.cost_usd;
  if (input.seconds !== undefined) budget.seconds = input.seconds;
  return Object.keys(budget).length > 0 ? budget : undefined;
}

/** The budget in the snake_case shape of tool results. */
export function budgetView(budget: Budget): Record<string, number> {
  const view: Record<string, number> = {};
  for (const field of budgetFields) {
    const value = budget[field];
    if (value !== undefined) view[budgetFieldName(field)] = value;
  }
  return view;
}

/**
 * A spend counter as the store keeps it (`TaskRecord.spend`, `ownSpend`): tokens and USD charged
 * so far; `unpriced` once some model charged to it had no price (its `costUsd` then undercounts).
 */
export interface SpendCounter {
  tokens: number;
  costUsd: number;
  unpriced?: true;
}

/** The budget in force: the task's own (`budget`, set at spawn) plus every raise a human approved. */
export function budgetInForce(budget: Budget, raises: Readonly<Record<string, Budget>> | undefined): Budget {
  if (!raises) return budget;
  const total: Budget = { ...budget };
  for (const raise of Object.values(raises)) {
    for (const field of budgetFields) {
      const by = raise[field];
      const limit = total[field];
      if (by !== undefined && limit !== undefined) total[field] = limit + by;
    }
  }
  return total;
}
