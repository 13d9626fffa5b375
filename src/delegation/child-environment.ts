import type { ContextWindows } from '../agent/context/context-windows.js';
import type { BudgetLedger } from '../budget/budget-ledger.js';
import type { EndpointSpec } from '../config/endpoints.js';
import type { CompactionSection } from '../config/schema.js';
import type { Provider } from '../provider/types.js';
import type { ApprovalGate } from '../sandbox/approval-gate.js';
import type { SandboxMode } from '../sandbox/modes.js';
import type { TaskRunner } from '../tasks/task-execution.js';
import type { Tool, ToolIO } from '../tools/tool.js';
import type { WorktreeManager } from '../worktrees/worktree-manager.js';
import type { AgentScope } from './agent-tools.js';

/**
 * What a child needs from the process it runs in: its endpoint and provider, its tools and IO,
 * and its limits. `Runtime` implements it; `ChildRunner` asks nothing else of the runtime.
 */
export interface ChildEnvironment {
  /** The endpoint a child on `route` runs on (the children's default without one). Throws `unknown_route`. */
  childEndpoint(route: string | undefined): EndpointSpec;
  /**
   * The runner of a child on `route` when the route names something other than a model (an ACP
   * agent: the runtime supplies it), or undefined: the child runs the agent loop on the route's endpoint.
   */
  runnerFor(route: string): TaskRunner | undefined;
  /** The provider for an endpoint; endpoints with the same keys share one credential pool. */
  provider(endpoint: EndpointSpec): Provider;
  /** The tools of an agent in `scope`, kept current: the function is asked before every model call. */
  liveToolsFor(scope: AgentScope): () => readonly Tool[];
  /**
   * The IO of an agent in sandbox `mode` (as stored on its task), never wider than the
   * environment's own; its sandbox `ask` decisions go to `gate` (a child's: its task parks, or refused).
   * `root`: the agent's working directory when it is not the environment's (a child's worktree): the
   * workspace the file tools and workspace-write sandbox may write in, instead of the environment's cwd.
   */
  ioFor(mode: SandboxMode | undefined, gate?: ApprovalGate, root?: string): ToolIO;
  /** Children's git worktrees (`isolation: "worktree"`). */
  readonly worktrees: WorktreeManager;
  /** A child's toolsets when its task names none: the top-level agent's. */
  readonly agentToolsets: string[];
  /** `delegation.max_iterations`: the model calls a child may make in all (a resumed child has used some). */
  readonly childMaxIterations: number;
  /** Compaction settings for model-backed children (`compaction` in the config). */
  readonly compaction?: CompactionSection;
  /** The process's context windows: configured, learned from providers' errors, built in. */
  readonly contextWindows?: ContextWindows;
  /** Task budgets over the store: a child's run is guarded by its own and its ancestors'. Absent: no budgets. */
  readonly budgets?: BudgetLedger;
}
