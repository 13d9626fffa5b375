import { describe, expect, it } from 'vitest';
import type { Budget, Spend } from '../../src/budget/budget.js';
import { breachMessage, breachOf, childBudget, remainingOf, spawnRefusal } from '../../src/budget/budget-policy.js';

/** Issue 27: the budget policy, a table of cases over pure functions. */

const spend = (tokens: number, seconds = 0, costUsd?: number): Spend => ({ tokens, seconds, ...(costUsd === undefined ? {} : { costUsd }) });

describe('breachOf', () => {
  const cases: { name: string; budget: Budget; spent: Spend; field?: string }[] = [
    { name: 'tokens left', budget: { tokens: 100 }, spent: spend(99) },
    { name: 'tokens reached', budget: { tokens: 100 }, spent: spend(100), field: 'tokens' },
    { name: 'seconds passed', budget: { tokens: 100, seconds: 5 }, spent: spend(1, 6), field: 'seconds' },
    { name: 'cost reached', budget: { costUsd: 0.5 }, spent: spend(1, 0, 0.5), field: 'costUsd' },
    { name: 'cost unknown (a model without a price) is no silent pass', budget: { costUsd: 0.5 }, spent: spend(1), field: 'costUsd' },
    { name: 'no limits', budget: {}, spent: spend(1e9, 1e9) },
  ];
  it.each(cases)('$name', ({ budget, spent, field }) => {
    expect(breachOf('t_a', budget, spent)?.field).toBe(field);
  });
});

describe('childBudget', () => {
  const cases: { name: string; asked?: Budget; fallback?: Budget; left: Budget[]; expected: Budget | undefined }[] = [
    { name: 'nothing anywhere', left: [], expected: undefined },
    { name: 'asked, no ancestors', asked: { tokens: 10 }, left: [], expected: { tokens: 10 } },
    { name: 'the default when none asked', fallback: { tokens: 7, seconds: 60 }, left: [], expected: { tokens: 7, seconds: 60 } },
    { name: 'asked beats the default per field', asked: { tokens: 3 }, fallback: { tokens: 7, seconds: 60 }, left: [], expected: { tokens: 3, seconds: 60 } },
    { name: 'never more than the parent has left', asked: { tokens: 1000 }, left: [{ tokens: 250 }], expected: { tokens: 250 } },
    {
      name: "an unset field takes the ancestors' cap",
      asked: { tokens: 10 },
      left: [{ costUsd: 0.2 }, { costUsd: 0.1, tokens: 5 }],
      expected: { tokens: 5, costUsd: 0.1 },
    },
  ];
  it.each(cases)('$name', ({ asked, fallback, left, expected }) => {
    expect(childBudget(asked, fallback, left)).toEqual(expected);
  });
});

describe('messages', () => {
  it('name the budget, whose it is and the spend', () => {
    expect(remainingOf({ tokens: 100, seconds: 10 }, spend(120, 4))).toEqual({ tokens: 0, seconds: 6 });
    const own = breachOf('t_a', { tokens: 100 }, spend(120))!;
    expect(breachMessage(own, 't_a')).toBe('task "t_a" spent 120 tokens of its tokens budget of 100 tokens');
    expect(breachMessage(own, 't_child')).toBe('task "t_child": its ancestor "t_a"\'s tree spent 120 tokens of its tokens budget of 100 tokens');
    expect(spawnRefusal(own)).toBe('no tokens budget left for a new child: task "t_a" spent 120 tokens of its tokens budget of 100 tokens');
    const unpriced = breachOf('t_a', { costUsd: 1 }, spend(5))!;
    expect(breachMessage(unpriced, 't_a')).toContain('a model in it has no price in config (prices)');
  });
});
