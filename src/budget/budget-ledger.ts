import type { RunGuard, RunStop } from '../agent/run-guard.js';
import { errorMessage, LegateError } from '../errors.js';
import { totalTokens, type Usage } from '../provider/types.js';
import type { TaskStore } from '../tasks/store/task-store.js';
import type { BudgetAsk } from '../tasks/task-approvals.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { type Budget, budgetInForce, type Spend } from './budget.js';
import { type BudgetBreach, breachMessage, breachOf, childBudget, remainingOf, spawnRefusal } from './budget-policy.js';

/** USD for `usage` on `model`; undefined when the model has no price. */
export type CostOf = (usage: Usage, model: string) => number | undefined;

/**
 * A top-level session with a budget (`agent.budget`, `run --budget-tokens`): the root of its tree.
 * Its own spend is live in this process (`own`: the top-level agent's usage so far, the turn in
 * flight included); its children's is in the store.
 */
interface SessionRoot {
  /** The budget in force: as opened, plus every raise approved since. */
  budget: Budget;
  /** As opened: what an approval without amounts raises it by. */
  original: Budget;
  model: string;
  since: number;
  own: () => Usage;
}

/** Children of one task read at once when summing a tree (more than any fan-out legate allows). */
const treeReadLimit = 100_000;

/**
 * Budgets over the store: a task's spend is its own usage plus every descendant's (the store's
 * counters, `TaskRecord.spend`: each model call's spend is charged to the task and all its
 * ancestors in one atomic write), its seconds its wall time since spawn. Every process reads the
 * same counters, so siblings on different workers spend from one budget. Decisions are
 * `budget-policy.ts`'s; this reads, and applies the raises humans approve.
 */
export class BudgetLedger {
  constructor(
    private readonly store: Pick<TaskStore, 'get' | 'list' | 'raiseBudget'>,
    private readonly costOf: CostOf,
    private readonly now: () => number = Date.now,
  ) {}

  private readonly roots = new Map<string, SessionRoot>();

  /** Give top-level session `sessionId` (whose agent runs on `model`) a budget for it and all its tasks. */
  openRoot(sessionId: string, budget: Budget, model: string, own: () => Usage): void {
    if (budget.costUsd !== undefined && this.costOf({ inputTokens: 0, outputTokens: 0 }, model) === undefined) throw unpriced(budget.costUsd, model);
    this.roots.set(sessionId, { budget, original: budget, model, since: this.now(), own });
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

  /**
   * `task` and every task it spawned, at any depth: tokens and cost from the store's counters
   * (`spend`), seconds its own. A task from before the counters has its tree's usage summed.
   */
  async treeSpend(task: TaskRecord): Promise<Spend> {
    const seconds = (this.now() - task.createdAt) / 1000;
    if (task.spend) return { tokens: task.spend.tokens, seconds, ...(task.spend.unpriced ? {} : { costUsd: task.spend.costUsd }) };
    let tokens = 0;
    let cost: number | undefined = 0;
    const visit = async (record: TaskRecord): Promise<void> => {
      tokens += totalTokens(record.usage);
      const own = this.costOf(record.usage, record.model);
      cost = own === undefined || cost === undefined ? undefined : cost + own;
      for (const child of await this.store.list({ sessionId: record.id, limit: treeReadLimit })) await visit(child);
    };
    await visit(task);
    const spend: Spend = { tokens, seconds };
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

  /** The first budget, of `task` or an ancestor (in force: raises included), its tree has used up. */
  async breach(task: TaskRecord): Promise<BudgetBreach | undefined> {
    return (await this.holderBreach(task))?.breach;
  }

  /** The breach and its holder's budget as set at spawn (what an approval without amounts adds). */
  private async holderBreach(task: TaskRecord): Promise<{ breach: BudgetBreach; original: Budget } | undefined> {
    const chain = [task, ...(await this.ancestors(task.sessionId))];
    for (const holder of chain) {
      if (!holder.budget) continue;
      const breach = breachOf(holder.id, budgetInForce(holder.budget, holder.budgetRaises), await this.treeSpend(holder));
      if (breach) return { breach, original: holder.budget };
    }
    const top = this.rootOf(task.sessionId, chain);
    const breach = top ? breachOf(top.id, top.root.budget, await this.rootSpend(top.id, top.root)) : undefined;
    return top && breach ? { breach, original: top.root.original } : undefined;
  }

  /** Raise the budget a breach names by `by`, once per `key`: a task's in the store, a session's here. */
  private async raise(holder: string, key: string, by: Budget): Promise<void> {
    const root = this.roots.get(holder);
    if (root) root.budget = budgetInForce(root.budget, { [key]: by });
    else await this.store.raiseBudget(holder, key, by);
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
      ancestor.budget ? [{ id: ancestor.id, budget: budgetInForce(ancestor.budget, ancestor.budgetRaises), spend: () => this.treeSpend(ancestor) }] : [],
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

  /**
   * The guard a task's run consults before each model call and tool call batch. It reads the
   * counters once the run's writes so far have landed (`settled`). A budget that ran out stops the
   * run (`budget_exceeded`), unless `ask` is given (`agent.approval: on-request`): then the task
   * parks until a human answers; approved, the budget is raised (by the amounts given, or by the
   * budget's own amount at spawn) and the run goes on; denied, it stops. A model cannot answer.
   */
  guardFor(task: TaskRecord, options: { ask?: BudgetAsk; settled?: () => Promise<void> } = {}): RunGuard {
    const stop = (message: string): RunStop => ({ exitReason: 'budget_exceeded', message: new LegateError('budget_exceeded', message).toString() });
    // Which of the task and its ancestors hold a budget is fixed at spawn (a raise only raises one):
    // read once. A chain with none, under a session without one, has nothing to check: no reads,
    // no wait for the writes, before each call (most tasks).
    let chain: TaskRecord[] | undefined;
    return {
      check: async (): Promise<RunStop | undefined> => {
        chain ??= [task, ...(await this.ancestors(task.sessionId))];
        if (!chain.some((holder) => holder.budget !== undefined) && !this.rootOf(task.sessionId, chain)) return undefined;
        await options.settled?.().catch(() => undefined); // a failed write stops the run by itself
        for (;;) {
          const now = (await this.store.get(task.id)) ?? task;
          const found = await this.holderBreach(now);
          if (!found) return undefined;
          const { breach, original } = found;
          const message = breachMessage(breach, task.id);
          // An unknown cost (a model without a price) cannot be raised past.
          if (!options.ask || Number.isNaN(breach.spent)) return stop(message);
          const request = { holder: breach.owner, field: breach.field, limit: breach.limit, spent: roundSpent(breach.field, breach.spent), original };
          const answer = await options.ask(request, message);
          if (!answer.approved) return stop(`${message}; ${answer.reason}`);
          const by = answer.raise ?? { [breach.field]: original[breach.field] };
          const failed = await this.raise(breach.owner, `${task.id}/${answer.approvalId}`, by).then(
            () => undefined,
            (error: unknown) => error,
          );
          if (failed !== undefined) return stop(`${message}; the approved raise could not be stored: ${errorMessage(failed)}`);
        }
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
      const seconds = holder.budget && budgetInForce(holder.budget, holder.budgetRaises).seconds;
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

/** A spend as a request shows it: whole tokens, cents to six places, tenths of seconds. */
function roundSpent(field: BudgetBreach['field'], spent: number): number {
  if (field === 'costUsd') return Math.round(spent * 1_000_000) / 1_000_000;
  if (field === 'seconds') return Math.round(spent * 10) / 10;
  return spent;
}
