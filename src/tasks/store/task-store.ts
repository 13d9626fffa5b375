import type { Budget, SpendCounter } from '../../budget/budget.js';
import type { Message } from '../../provider/types.js';
import type { TaskStatus } from '../status.js';
import {
  type Fence,
  type SteerRecord,
  type StoredApprovalAnswer,
  type StoredCompaction,
  type TaskProgress,
  type TaskRecord,
  taskProgressKeys,
} from '../task-record.js';

export type { StoredCompaction };

import type { SessionStore } from './session-store.js';

export interface TaskFilter {
  sessionId?: string;
  status?: TaskStatus[];
  cwd?: string;
  /** Newest first; default 100. */
  limit?: number;
}

/** The record fields a transition's patch may set: listed once, for the type and the stores' write paths. */
export const transitionPatchKeys = [
  'startedAt',
  'endedAt',
  'exitReason',
  'error',
  'summary',
  'apiCalls',
  'usage',
  'owner',
  'leaseExpiresAt',
  'currentTool',
  'cancelledBy',
  'takeovers',
  'approval',
] as const satisfies readonly (keyof TaskRecord)[];

/** Fields a transition may set together with the new status. */
export type TransitionPatch = Partial<Pick<TaskRecord, (typeof transitionPatchKeys)[number]>>;

/** Output buffer size: the last `outputBufferLines` lines of `outputLineChars` characters each. */
export const outputBufferLines = 200;
export const outputLineChars = 500;

/** A checkpointed step: the messages the child's conversation gained since the previous step, or a compaction. */
export interface CheckpointStep {
  /** 0-based number of the step among the task's checkpoints: the idempotency key. */
  step: number;
  /** The model call (loop iteration) it belongs to. */
  iteration: number;
  /** Empty for a compaction step. */
  messages: Message[];
  /** Set on a compaction step: the context continues from it (the latest one wins). */
  compaction?: StoredCompaction;
}

/** A compaction as the log holds it: where it happened and what it kept. */
export interface LoggedCompaction extends StoredCompaction {
  /** Its step number. */
  step: number;
  /** Checkpointed messages before it (where it sits in `Checkpoint.messages`). */
  at: number;
}

/** A task's checkpointed conversation. */
export interface Checkpoint {
  /** The iteration of the last step (0 when there is none). */
  iterations: number;
  /** How many steps are stored: the `step` number of the next one. */
  steps: number;
  /** The steps' messages concatenated in step order: the full transcript, compactions or not. */
  messages: Message[];
  /** The compaction steps in step order, when there are any; the last one is the context's. */
  compactions?: LoggedCompaction[];
}

/** An output write: lines and progress of one burst of a running task's events. */
export interface OutputWrite {
  lines: string[];
  progress?: TaskProgress;
  /**
   * The task's `outputLines` before these lines, as the writer counts them. When given, lines the
   * store already counted past that point are not added again: a write applied twice adds its
   * lines once.
   */
  at?: number;
}

/**
 * Where tasks live. Every backend (memory, SQLite, Redis) passes one conformance suite
 * (`storeConformance` from `legate/testing`). Methods reject with `task_not_found` for an unknown
 * id, `illegal_transition` when a conditional transition finds another state, and `lease_lost`
 * when a fenced write finds another owner or epoch (or the task no longer running). Calls about one
 * task take effect in the order they are made, whether or not the caller awaits each before the
 * next (a networked backend keeps an ordered queue per task). Every write is safe to apply twice
 * (a networked client may resend one): claims and transitions are conditional, checkpoints keyed by
 * step, output by line number.
 *
 * Fencing: a running task's writes (output, progress, checkpoints, taking steers, its final
 * transition) carry the `Fence` (owner, epoch) of the claim they run under; the store checks it
 * atomically with the write and refuses it with `lease_lost` once the task was taken over,
 * cancelled or handed back, writing nothing.
 */
export interface TaskStore {
  create(task: TaskRecord): Promise<void>;
  get(id: string): Promise<TaskRecord | undefined>;
  list(filter?: TaskFilter): Promise<TaskRecord[]>;
  /** How many tasks match `filter` (its `limit` ignored). */
  count(filter?: Omit<TaskFilter, 'limit'>): Promise<number>;
  /**
   * Conditional, atomic: applies only if the task is in one of `from`, `from → to` is legal and,
   * with a `fence`, the task's owner and epoch are the fence's (`lease_lost` otherwise). Never
   * moves a task to `running` (that is `claim`), except its owner's fenced `input_required →
   * running`. A move to `input_required` must carry `patch.approval` (`invalid_arguments`
   * otherwise); every other move clears `approval`. Returns the updated record.
   */
  transition(id: string, from: TaskStatus | readonly TaskStatus[], to: TaskStatus, patch?: TransitionPatch, fence?: Fence): Promise<TaskRecord>;
  /**
   * Take a queued or interrupted task (one of `from`) to `running` under `owner`, atomically: sets
   * the owner and lease, increments `epoch` (absent counts as 0) and applies `patch`. The returned
   * record's owner and epoch are the fence for its writes. `illegal_transition` if it is in
   * another state (another process claimed it first).
   */
  claim(id: string, from: TaskStatus | readonly TaskStatus[], owner: string, leaseExpiresAt: number, patch?: TransitionPatch): Promise<TaskRecord>;
  /**
   * Store a human's answer to the task's pending approval request `requestId`, atomically: only
   * while the task is `input_required` waiting on that request (`not_waiting` naming the id and
   * its status otherwise). The first answer stands: a request already answered is left as it is.
   * Returns the record as it is then.
   */
  answerApproval(id: string, requestId: string, answer: StoredApprovalAnswer): Promise<TaskRecord>;
  /**
   * Charge task `id`'s own spend so far (`own`: absolute, since it was created) in one atomic write:
   * what it adds over the task's `ownSpend` is added to the `spend` of the task and of every
   * ancestor (the task whose id is its `sessionId`, and so on up), and `ownSpend` becomes `own`. A
   * charge not above the last adds nothing (safe to apply twice). With a `fence`, only while it
   * holds (`lease_lost`). Siblings on different processes charge the same counters, so every
   * reader sees their sum.
   */
  chargeSpend(id: string, own: SpendCounter, fence?: Fence): Promise<void>;
  /**
   * Add `by` to task `id`'s budget, once per `key` (the approval it answers: a replay, or a second
   * raise under the same key, changes nothing), atomically. Returns the record as it is then.
   */
  raiseBudget(id: string, key: string, by: Budget): Promise<TaskRecord>;
  /** Progress without a status change; with a `fence`, only while the fence holds. */
  update(id: string, progress: TaskProgress, fence?: Fence): Promise<void>;

  /**
   * Renew the lease of every `running` or `input_required` task owned by `owner` until `leaseExpiresAt`. Returns the
   * tasks still running under that owner with their epochs: a task missing from it (or with another
   * epoch) was cancelled or taken over elsewhere, and its runner must stop.
   */
  heartbeat(owner: string, leaseExpiresAt: number): Promise<Array<Fence & { id: string }>>;
  /** Delete ended tasks (completed, failed, cancelled) that ended before `endedBefore`, with all they hold. Returns how many. */
  prune(endedBefore: number): Promise<number>;

  /**
   * Append lines (each capped to `outputLineChars`; the store keeps the last `outputBufferLines`),
   * and apply `progress` in the same write: a running task's output and progress land together.
   */
  appendOutput(id: string, write: OutputWrite, fence?: Fence): Promise<void>;
  /** The buffered output, oldest first; only the last `last` lines when given. */
  readOutput(id: string, last?: number): Promise<string[]>;

  /**
   * Checkpoint one completed step of the child's conversation, or a compaction (`step.compaction`).
   * A step number already stored is left as it is.
   */
  appendCheckpoint(id: string, step: CheckpointStep, fence?: Fence): Promise<void>;
  /**
   * The checkpointed conversation and its compactions. A stored step that is not a valid
   * conversation (or compaction) rejects with `store_corrupt` naming the task and step.
   */
  loadCheckpoint(id: string): Promise<Checkpoint>;

  addSteer(taskId: string, message: string): Promise<SteerRecord>;
  /** Atomically mark every queued steer of the task delivered and return them in order; with a `fence`, only while it holds. */
  takeSteers(taskId: string, fence?: Fence): Promise<SteerRecord[]>;
  /** Mark every still-queued steer missed (the task ended first); returns how many. */
  missSteers(taskId: string): Promise<number>;
  listSteers(taskId: string): Promise<SteerRecord[]>;

  /** The sessions (top-level conversations) kept by the same backend: a store of their own (`SessionStore`). */
  readonly sessions: SessionStore;

  close(): Promise<void>;
}

/** The record fields a progress write may set (`update`, `appendOutput`), for the stores' write paths. */
export const progressFields: ReadonlySet<string> = new Set<string>(taskProgressKeys);
/** The record fields a transition's patch may set. */
export const patchFields: ReadonlySet<string> = new Set<string>(transitionPatchKeys);
