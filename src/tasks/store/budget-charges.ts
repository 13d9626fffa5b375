import type { Budget, SpendCounter } from '../../budget/budget.js';

/**
 * The arithmetic of the store's budget counters, in one place for the memory and SQLite stores (the
 * Redis script `scripts/budgets.ts` spells the same rules in Lua). A charge is absolute (the task's
 * own spend so far), so applying it twice adds it once; raises are keyed by approval for the same reason.
 */

/** Ancestors followed at most when a charge climbs a tree (deeper than any `delegation.max_depth`). */
export const maxChargeDepth = 64;

/** What `own` adds over the last charge `previous` (never negative); undefined when nothing. */
export function chargeDelta(previous: SpendCounter | undefined, own: SpendCounter): SpendCounter | undefined {
  const tokens = Math.max(0, own.tokens - (previous?.tokens ?? 0));
  const costUsd = Math.max(0, own.costUsd - (previous?.costUsd ?? 0));
  const unpriced = own.unpriced === true && previous?.unpriced !== true;
  if (tokens === 0 && costUsd === 0 && !unpriced) return undefined;
  return { tokens, costUsd, ...(unpriced ? { unpriced: true as const } : {}) };
}

/** `counter` with `delta` added (an absent counter counts as zero). */
export function addCharge(counter: SpendCounter | undefined, delta: SpendCounter): SpendCounter {
  const unpriced = counter?.unpriced === true || delta.unpriced === true;
  return { tokens: (counter?.tokens ?? 0) + delta.tokens, costUsd: (counter?.costUsd ?? 0) + delta.costUsd, ...(unpriced ? { unpriced: true as const } : {}) };
}

/** The last charge raised to `own` (each field the larger): what `ownSpend` becomes. */
export function latestCharge(previous: SpendCounter | undefined, own: SpendCounter): SpendCounter {
  const unpriced = own.unpriced === true || previous?.unpriced === true;
  return {
    tokens: Math.max(own.tokens, previous?.tokens ?? 0),
    costUsd: Math.max(own.costUsd, previous?.costUsd ?? 0),
    ...(unpriced ? { unpriced: true as const } : {}),
  };
}

/** `raises` with `by` under `key`; the first raise under a key stands (a replay changes nothing). */
export function withRaise(raises: Readonly<Record<string, Budget>> | undefined, key: string, by: Budget): Record<string, Budget> {
  if (raises?.[key]) return { ...raises };
  return { ...(raises ?? {}), [key]: { ...by } };
}
