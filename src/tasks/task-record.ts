import type { ExitReason } from '../agent/events.js';
import type { Budget, SpendCounter } from '../budget/budget.js';
import type { Message, Usage } from '../provider/types.js';
import type { SandboxMode } from '../sandbox/modes.js';
import type { TaskStatus } from './status.js';

/** What a task was asked to do. Immutable once created. */
export interface TaskSpec {
  goal: string;
  context?: string;
  /** Toolsets the child gets; undefined = the parent's. */
  toolsets?: string[];
  /** A name from `delegation.routes`, if one was picked. */
  route?: string;
  /** The model the child runs on (resolved at spawn). */
  model: string;
  /** 1 for a child of the top-level agent, 2 for a grandchild… */
  depth: number;
  /** The session that spawned it: only that session sees and controls it. */
  sessionId: string;
  /** `sync` tasks belong to a `delegate_task` call that returns their results itself. */
  mode: 'async' | 'sync';
  cwd: string;
  /** The child's sandbox mode (its parent's or narrower); undefined on tasks from before sandboxing: the runtime's. */
  sandbox?: SandboxMode;
  /** The most this task and its descendants may spend (already capped at what its ancestors had left at spawn). */
  budget?: Budget;
  /**
   * `isolation: "worktree"`: the git worktree made for it at spawn, where it works (`cwd` stays the
   * parent's directory, which `tasks list` filters on). Its changes are committed on `branch` when
   * the child ends (issue 28).
   */
  worktree?: TaskWorktree;
  /**
   * The W3C trace context (`traceparent`) of the delegation call that spawned it, when tracing was
   * on: its run's `invoke_agent` span is a child of that call's span in whatever process runs it.
   */
  traceparent?: string;
}

/** Where a task's child works: its worktree, or `cwd`. */
export function workingDirectory(task: Pick<TaskSpec, 'cwd' | 'worktree'>): string {
  return task.worktree?.path ?? task.cwd;
}

/** A task's git worktree: the repository it was added to, its branch and path, and the commit it started at. */
export interface TaskWorktree {
  readonly repository: string;
  readonly branch: string;
  readonly path: string;
  readonly base: string;
  /** The parent's tree had uncommitted changes at spawn: they are not in the worktree. */
  readonly parentHadUncommittedChanges: boolean;
}

/** A task as stored. Progress fields are updated while it runs. */
export interface TaskRecord extends TaskSpec {
  id: string;
  status: TaskStatus;
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  exitReason?: ExitReason;
  error?: string;
  /** The child's final answer (its summary), when it gave one. */
  summary?: string;
  apiCalls: number;
  usage: Usage;
  currentTool?: string;
  lastActivity?: string;
  /** Lines ever written to the output buffer (the buffer itself keeps the last 200). */
  outputLines: number;
  /** The result reached the parent (collected, returned by delegate_task, or delivered as a notice). */
  reported: boolean;
  /** Owner (process) running it and when its lease expires. */
  owner?: string;
  leaseExpiresAt?: number;
  /**
   * Takeover counter: incremented by every claim (`TaskStore.claim`), so 1 while the first run holds
   * it, 2 after one resume… Absent = never claimed. Writes of a running task carry the owner and
   * epoch they were made under (a `Fence`); the store refuses them once either changed.
   */
  epoch?: number;
  /**
   * Times it was interrupted because its owner was gone (died, froze past its lease); hand-backs do not count.
   * Past `tasks.max_resumes` it is not resumed again.
   */
  takeovers?: number;
  /** Who stopped it, when it was cancelled (or timed out). */
  cancelledBy?: CancelledBy;
  /**
   * The call waiting for a human's answer: present while the task is `input_required`, cleared by
   * every store when it leaves that status. Its `answer` is set once a human answered.
   */
  approval?: PendingApproval;
  /** The id of the approval request whose notice reached the parent session (it is told once per request). */
  approvalNoticed?: string;
  /**
   * Budget counters (issue 27), kept by the store: `spend` is what this task and every descendant
   * charged (`TaskStore.chargeSpend` adds each charge here and to every ancestor in one atomic
   * write); `ownSpend` what the task itself charged, as last charged; `budgetRaises` the raises of
   * `budget` humans approved, by approval (`TaskStore.raiseBudget`). Absent on tasks from before
   * counters (their tree is summed from `usage`).
   */
  spend?: SpendCounter;
  ownSpend?: SpendCounter;
  budgetRaises?: Record<string, Budget>;
  /** The context its conversation uses now, as of its last model call and tool results (model-backed children). */
  contextUse?: ContextUse;
}

/** Context in use: tokens (reported by the last call, plus estimates since), the window when known, compactions of the task so far. */
export interface ContextUse {
  tokens: number;
  window?: number;
  compactions: number;
}

/**
 * A background child's call outside its sandbox mode, waiting for a human (`legate tasks approve`,
 * `/approve`). Only humans answer: no model tool can.
 */
export interface PendingApproval {
  /** Request id, unique per task (`<epoch>.<n>`: the n-th request of the run under that claim). */
  id: string;
  /** The kind of the sandbox request (`SandboxRequest['kind']`), or `budget`: a budget ran out and the task asks for a raise. */
  kind: 'read' | 'write' | 'exec' | 'network' | 'budget';
  /** The exact command, or the real path. */
  subject: string;
  /** The child's sandbox mode. */
  mode: SandboxMode;
  /** The policy's reason (names the path or command and the mode). */
  reason: string;
  /** Epoch ms. */
  requestedAt: number;
  /** The human's answer, once given (the first answer stands); the owner then resumes the task. */
  answer?: StoredApprovalAnswer;
  /** For a `budget` request: the budget that ran out. */
  budget?: BudgetRequest;
}

/**
 * A `budget` approval request: whose budget ran out (`holder`: the task itself, an ancestor task, or
 * the top-level session), which field, its limit in force and the spend. Approved, the owner raises
 * it (by `limit` as set at spawn, unless the answer says how much) and the task goes on.
 */
export interface BudgetRequest {
  holder: string;
  field: 'tokens' | 'costUsd' | 'seconds';
  limit: number;
  spent: number;
  /** The raise an approval without amounts gives: the holder's budget as set at spawn. */
  original: Budget;
}

/** An answer as stored: approved, or denied with a reason; who gave it (`by`) and when. */
export type StoredApprovalAnswer = ({ approved: true; raise?: Budget } | { approved: false; reason: string }) & { by?: string; answeredAt: number };

/**
 * Who cancelled a task: `parent` (the agent that spawned it, via cancel_task or an aborted
 * delegate_task), `user` (the operator, from `legate tasks cancel` or the chat), `timeout`
 * (`child_timeout_seconds`), `shutdown` (the process stopped and was told not to hand it back).
 */
export type CancelledBy = 'parent' | 'user' | 'timeout' | 'shutdown';

/** The `error` a cancelled task carries, naming who cancelled it. */
export function cancelledError(by: CancelledBy): string {
  return `cancelled by ${{ parent: 'the parent', user: 'the user', timeout: 'its timeout', shutdown: 'shutdown' }[by]}`;
}

/**
 * The tool a task is in: only a running task is in one (an ended or interrupted task's record may
 * still name its last, written by an older process). What every view shows.
 */
export function currentToolOf(task: Pick<TaskRecord, 'status' | 'currentTool'>): string | undefined {
  return task.status === 'running' && task.currentTool ? task.currentTool : undefined;
}

/** The owner and epoch a running task's write is made under; the store applies it only if both still hold. */
export interface Fence {
  owner: string;
  epoch: number;
}

/** The record fields a progress write may set: listed once, for the type and the stores' write paths. */
export const taskProgressKeys = [
  'apiCalls',
  'usage',
  'currentTool',
  'lastActivity',
  'reported',
  'approvalNoticed',
  'contextUse',
] as const satisfies readonly (keyof TaskRecord)[];

/** Progress of a running task, written without a status change. */
export type TaskProgress = Partial<Pick<TaskRecord, (typeof taskProgressKeys)[number]>>;

/** A stored conversation of the top-level agent (`legate chat --resume` continues one). */
export interface SessionRecord {
  id: string;
  cwd: string;
  createdAt: number;
  updatedAt: number;
  /** The whole conversation, compactions or not. */
  messages: Message[];
  /** The latest compaction of the conversation: the top-level agent's context continues from it (docs/compaction.md). */
  compaction?: StoredCompaction;
}

/**
 * A compaction, stored as a checkpoint step of its own (docs/compaction.md): from that step on, the
 * context the model sees is the brief, the hand-off, then the conversation from `firstKept`. The
 * messages before it stay in the log (the full transcript); nothing is rewritten.
 */
export interface StoredCompaction {
  /**
   * Index of the first message kept verbatim, in the conversation the loop runs: for a task the
   * brief at 0, then the checkpointed messages (so checkpointed message `i` is at `i + 1`); for a
   * session its stored `messages` (their first one is the brief). At least 1.
   */
  firstKept: number;
  /** The hand-off summary of the turns before `firstKept`. */
  handoff: string;
  /** Estimated tokens of the context before and after (for `tasks show --transcript`). */
  tokensBefore?: number;
  tokensAfter?: number;
}

export type SteerState = 'queued' | 'delivered' | 'missed';

export interface SteerRecord {
  id: number;
  taskId: string;
  message: string;
  state: SteerState;
  createdAt: number;
  settledAt?: number;
}
