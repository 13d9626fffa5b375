import type { Budget } from '../budget/budget.js';
import type { BudgetLedger } from '../budget/budget-ledger.js';
import { LegateError } from '../errors.js';
import type { SandboxMode } from '../sandbox/modes.js';
import { type Caller, operator, type TaskService } from '../tasks/task-service.js';
import type { WorktreeManager } from '../worktrees/worktree-manager.js';
import type { Prices, UsageTerms } from './usage-view.js';

/** What the delegation tools of one agent know about where they run. */
export interface DelegationSession {
  /**
   * Tasks spawned here belong to this session; only it sees them. `operator` (the user at the
   * CLI) sees every task of the LEGATE_HOME but cannot spawn, and its collects are not the
   * parent's: they do not count as the result reaching the parent.
   */
  sessionId: Caller;
  /** Depth of the agent holding these tools: 0 for the top-level agent, 1 for its children… */
  depth: number;
  /** The agent's own toolsets: what its children get by default. */
  toolsets: string[];
  maxSpawnDepth: number;
  cwd: string;
  service: TaskService;
  /** The model a child on `route` (or the default child model) runs on; throws `unknown_route`. */
  childModel(route: string | undefined): string;
  /** The sandbox mode of the agent holding these tools: its children get it or a narrower one. */
  sandbox?: SandboxMode;
  /** A route's `sandbox` (a cap on its children's mode), if it sets one. */
  routeSandbox?(route: string): SandboxMode | undefined;
  /** `delegation.isolation`: where children work when neither the call nor its route says. */
  isolation?: 'none' | 'worktree';
  /** A route's `isolation` (its children's default), if it sets one. */
  routeIsolation?(route: string): 'none' | 'worktree' | undefined;
  /** Makes and reads children's git worktrees (`isolation: "worktree"`). */
  worktrees?: WorktreeManager;
  /** `delegation.max_summary_chars`: a longer child summary reaches this agent as head and tail (default 12,000). */
  maxSummaryChars?: number;
  /** Per-model prices for cost estimates in `usage` blocks. */
  prices?: Prices;
  /** Whether a task on `model` counts tokens (default: every model does); the runtime knows which runners report none. */
  reportsUsage?(model: string): boolean;
  /** Task budgets: a child's is capped at what its ancestors have left, and a spawn with nothing left is refused. */
  budgets?: BudgetLedger;
  /** `delegation.budget`: each child's budget when its call sets none. */
  childBudget?: Budget;
  /** The W3C `traceparent` of the tool call `toolCallId` of this agent, while it runs and tracing is on: stored on the children it spawns. */
  traceparent?(toolCallId: string): string | undefined;
}

/** The operator's session (the user at the CLI): every task of the store, no spawning. */
export function operatorSession(service: TaskService, cwd: string, terms: UsageTerms = {}): DelegationSession {
  return {
    sessionId: operator,
    depth: 0,
    toolsets: [],
    maxSpawnDepth: 0,
    cwd,
    service,
    childModel: () => {
      throw new LegateError('invalid_arguments', 'tasks are spawned by an agent session, not by the operator');
    },
    ...(terms.prices ? { prices: terms.prices } : {}),
    ...(terms.reportsUsage ? { reportsUsage: terms.reportsUsage } : {}),
  };
}
