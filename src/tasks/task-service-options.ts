import type { Usage } from '../provider/types.js';
import type { Dispatcher } from './dispatcher.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { TaskStore } from './store/task-store.js';
import type { TaskEnds } from './task-ends.js';
import type { TaskRunner } from './task-execution.js';

/** What a `TaskService` is built from: its store and runner, limits, and the three replaceable parts (where tasks run, how leases are held, how waiters hear of ends). */
export interface TaskServiceOptions {
  store: TaskStore;
  runner: TaskRunner;
  /** Children running at once in this process; the rest wait in FIFO order with status `queued`. */
  maxConcurrent: number;
  /** Per-task wall-clock limit in seconds; 0 = none. */
  childTimeoutSeconds?: number;
  /** How often a waiting `collect` re-reads the store (for tasks run elsewhere), ms. */
  pollIntervalMs?: number;
  /** How long a lease lasts without renewal, ms (default 10 s). */
  leaseMs?: number;
  /** How often leases are renewed, and cancels from other processes noticed, ms (default 500). */
  heartbeatMs?: number;
  /** This process's owner id (default `host:pid:nonce:machine`). */
  owner?: string;
  /** Takeovers after the owner was gone past which a task is failed instead of resumed (`tasks.max_resumes`, default 3). */
  maxResumes?: number;
  /** Where tasks run (default: a FIFO queue in this process, `maxConcurrent` at once). */
  dispatcher?: Dispatcher;
  /** How leases are held (default: store heartbeats). */
  leaseKeeper?: LeaseKeeper;
  /** How waiters learn a task ended (default: in-process, and store polling for other processes' tasks). */
  ends?: TaskEnds;
  /**
   * `agent.approval`: `on-request` parks a child whose call its sandbox policy answered `ask`
   * (`input_required`) until a human answers (`answerApproval`); `never` (the default) refuses it
   * at once, the refusal being the tool result.
   */
  approval?: 'never' | 'on-request';
  /** `agent.approval_timeout_seconds`: a request left unanswered this long becomes a denial; 0 (default) = wait. */
  approvalTimeoutSeconds?: number;
  /** USD of `usage` on `model` (undefined: no price), from `prices`: each model call's spend is charged to the store's budget counters. Absent: nothing is charged. */
  costOf?: (usage: Usage, model: string) => number | undefined;
}
