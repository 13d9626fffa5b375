import type { RunGuard, RunStop } from '../agent/run-guard.js';
import { LegateError } from '../errors.js';
import { totalTokens, type Usage } from '../provider/types.js';
import type { TaskStore } from '../tasks/store/task-store.js';
import type { TaskRecord } from '../tasks/task-record.js';
import type { Budget, Spend } from './budget.js';
import { type BudgetBreach, breachMessage, breachOf, childBudget, remainingOf, spawnRefusal } from './budget-policy.js';

/** USD for `usage` on `model`; undefined when the model has no price. */
export type CostOf = (usage: Usage, model: string) => number | undefined;

/**
 * A top-level session with a budget (`agent.budget`, `run --budget-tokens`): the root of its tree.
 * Its own spend is live in this process (`own`: the top-level agent's usage so far, the turn in
 * flight included); its children's is in the store.
 */
interface SessionRoot {
  budget: Budget;
  model: string;
  since: number;
  own: () => Usage;
}

/** Children of one task read at once when summing a tree (more than any fan-out legate allows). */
const treeReadLimit = 100_000;

/**
 * Budgets over the store: a task's spend is its own usage plus every descendant's (the store's
 * counters, written as each call's usage arrives), its seconds its wall time since spawn. Every
 * process reads the same records, so a tree spread over workers is summed the same everywhere.
 * Decisions are `budget-policy.ts`'s; this only reads.
 */
export class BudgetLedger {
  constructor(
    private readonly store: Pick<TaskStore, 'get' | 'list'>,
    private readonly costOf: CostOf,
    private readonly now: () => number = Date.now,
  ) {}

  private readonly roots = new Map<string, SessionRoot>();

  /** Give top-level session `sessionId` (whose agent runs on `model`) a budget for it and all its tasks. */
  openRoot(sessionId: string, budget: Budget, model: string, own: () => Usage): void {
    if (budget.costUsd !== undefined && this.costOf({ inputTokens: 0, outputTokens: 0 }, model) === undefined) throw unpriced(budget.costUsd, model);
    this.roots.set(sessionId, { budget, model, since: this.now(), own });
  }

  /** A session root's spend: its agent's own usage and every task it spawned, at any depth. */
  private async rootSpend(sessionId: string, root: SessionRoot): Promise<Spend> {
    const own = root.own();
    let tokens = totalTokens(own);
    let cost = this.costOf(own, root.model);
    for (const child of await this.store.list({ sessionId, limit: treeReadLimit })) {
      const spend = await this.treeSpend(child);
      tokens += spend.tokens;
      cost = cost === undefined || spend.costUsd === undefined ? undefined : cost + spend.costUsd;
    }
    return { tokens, seconds: (this.now() - root.since) / 1000, ...(cost === undefined ? {} : { costUsd: cost }) };
  }

  /** The session at the top of a chain (its tasks nearest first), when it has a budget here. */
  private rootOf(sessionId: string, chain: readonly TaskRecord[]): { id: string; root: SessionRoot } | undefined {
    const id = chain.at(-1)?.sessionId ?? sessionId;
    const root = this.roots.get(id);
    return root ? { id, root } : undefined;
  }

  /** The guard of a top-level session's own agent loop: stops it once its tree spent its budget (none without one). */
  sessionGuard(sessionId: string): RunGuard {
    return {
      check: async (): Promise<RunStop | undefined> => {
        const root = this.roots.get(sessionId);
        if (!root) return undefined;
        const breach = breachOf(sessionId, root.budget, await this.rootSpend(sessionId, root));
        return breach ? { exitReason: 'budget_exceeded', message: new LegateError('budget_exceeded', breachMessage(breach, sessionId)).toString() } : undefined;
      },
    };
  }

  /** `task` and every task below it, depth first (each child after its parent, siblings oldest first). */
  async tree(task: TaskRecord): Promise<TaskRecord[]> {
    const all: TaskRecord[] = [task];
    const children = (await this.store.list({ sessionId: task.id, limit: treeReadLimit })).sort((a, b) => a.createdAt - b.createdAt);
    for (const child of children) all.push(...(await this.tree(child)));
    return all;
  }

  /** `task` and every task it spawned, at any depth: tokens and cost summed, seconds its own. */
  async treeSpend(task: TaskRecord): Promise<Spend> {
    let tokens = 0;
    let cost: number | undefined = 0;
    const visit = async (record: TaskRecord): Promise<void> => {
      tokens += totalTokens(record.usage);
      const own = this.costOf(record.usage, record.model);
      cost = own === undefined || cost === undefined ? undefined : cost + own;
      for (const child of await this.store.list({ sessionId: record.id, limit: treeReadLimit })) await visit(child);
    };
    await visit(task);
    const spend: Spend = { tokens, seconds: (this.now() - task.createdAt) / 1000 };
    if (cost !== undefined) spend.costUsd = cost;
    return spend;
  }

  /** The tasks above a child of session `sessionId`, nearest first (none for a child of a top-level session). */
  async ancestors(sessionId: string): Promise<TaskRecord[]> {
    const chain: TaskRecord[] = [];
    for (let id: string | undefined = sessionId; id !== undefined; ) {
      const task = await this.store.get(id);
      if (!task || chain.some((seen) => seen.id === task.id)) break;
      chain.push(task);
      id = task.sessionId;
    }
    return chain;
  }

  /** The first budget, of `task` or an ancestor, its tree has used up. */
  async breach(task: TaskRecord): Promise<BudgetBreach | undefined> {
    const chain = [task, ...(await this.ancestors(task.sessionId))];
    for (const holder of chain) {
      if (!holder.budget) continue;
      const breach = breachOf(holder.id, holder.budget, await this.treeSpend(holder));
      if (breach) return breach;
    }
    const top = this.rootOf(task.sessionId, chain);
    return top ? breachOf(top.id, top.root.budget, await this.rootSpend(top.id, top.root)) : undefined;
  }

  /**
   * The budget of a new child of session `sessionId` on `model`: `asked` (or `fallback`, the
   * configured default) capped at what is left of each ancestor's. Throws `budget_exceeded` when an
   * ancestor has nothing left, `budget_unpriced` for a USD budget on a model without a price.
   */
  async forChild(sessionId: string, model: string, asked: Budget | undefined, fallback: Budget | undefined): Promise<Budget | undefined> {
    const left: Budget[] = [];
    const chain = await this.ancestors(sessionId);
    const holders: { id: string; budget: Budget; spend: () => Promise<Spend> }[] = chain.flatMap((ancestor) =>
      ancestor.budget ? [{ id: ancestor.id, budget: ancestor.budget, spend: () => this.treeSpend(ancestor) }] : [],
    );
    const top = this.rootOf(sessionId, chain);
    if (top) holders.push({ id: top.id, budget: top.root.budget, spend: () => this.rootSpend(top.id, top.root) });
    for (const holder of holders) {
      const spend = await holder.spend();
      const breach = breachOf(holder.id, holder.budget, spend);
      if (breach) throw new LegateError('budget_exceeded', spawnRefusal(breach), { holder: holder.id, field: breach.field });
      left.push(remainingOf(holder.budget, spend));
    }
    const budget = childBudget(asked, fallback, left);
    if (budget?.costUsd !== undefined && this.costOf({ inputTokens: 0, outputTokens: 0 }, model) === undefined) throw unpriced(budget.costUsd, model);
    return budget;
  }

  /** The guard a task's run consults before each model call and tool call batch. */
  guardFor(task: TaskRecord): RunGuard {
    return {
      check: async (): Promise<RunStop | undefined> => {
        const now = (await this.store.get(task.id)) ?? task;
        const breach = await this.breach(now);
        return breach ? { exitReason: 'budget_exceeded', message: new LegateError('budget_exceeded', breachMessage(breach, task.id)).toString() } : undefined;
      },
    };
  }

  /**
   * When the nearest `seconds` budget of `task` or an ancestor runs out (epoch ms), and the error
   * the task's call in flight is aborted with then; undefined when none sets `seconds`.
   */
  async deadline(task: TaskRecord): Promise<{ at: number; reason: LegateError } | undefined> {
    let nearest: { at: number; reason: LegateError } | undefined;
    for (const holder of [task, ...(await this.ancestors(task.sessionId))]) {
      const seconds = holder.budget?.seconds;
      if (seconds === undefined) continue;
      const at = holder.createdAt + seconds * 1000;
      if (nearest && nearest.at <= at) continue;
      const breach: BudgetBreach = { owner: holder.id, field: 'seconds', limit: seconds, spent: seconds };
      nearest = { at, reason: new LegateError('budget_exceeded', breachMessage(breach, task.id)) };
    }
    return nearest;
  }
}

/** A USD budget on a model without a price: refused, never a budget that silently cannot run out. */
function unpriced(costUsd: number, model: string): LegateError {
  return new LegateError(
    'budget_unpriced',
    `a cost_usd budget of ${costUsd} needs a price for model "${model}": add prices.${model} (input_per_million, output_per_million) to the config, or give a tokens budget`,
    { model },
  );
}
