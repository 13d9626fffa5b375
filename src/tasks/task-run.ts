import type { CompactionRecord } from '../agent/context/prepare-context.js';
import { repairInterrupted } from '../agent/resume.js';
import { errorMessage, LegateError } from '../errors.js';
import type { Usage } from '../provider/types.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { isTerminal } from './status.js';
import type { LoggedCompaction, TaskStore } from './store/task-store.js';
import type { ApprovalSettings } from './task-approvals.js';
import type { TaskEvent } from './task-events.js';
import { executeTask, type RunState, type TaskRunner } from './task-execution.js';
import type { Fence, TaskRecord } from './task-record.js';

/** What a run needs from the `TaskService` that created it. */
export interface TaskRunDeps {
  store: TaskStore;
  runner: TaskRunner;
  leases: LeaseKeeper;
  /** Per-task wall-clock limit, ms; 0 = none. */
  timeoutMs: number;
  /** `agent.approval: on-request`; undefined = `never`. */
  approvals: ApprovalSettings | undefined;
  /** USD of a model's usage, for the budget counters (`TaskServiceOptions.costOf`); absent: nothing is charged. */
  costOf?: (usage: Usage, model: string) => number | undefined;
  announce(event: TaskEvent): void;
  /** Tell listeners and waiters that the task ended. */
  ended(task: TaskRecord): void;
  /** The run is over (its final status written, or nothing to write): the service stops tracking it. */
  over(run: TaskRun): void;
  /** `tasks.max_resumes`: an interrupted task taken over more often is failed, not resumed. */
  maxResumes: number;
}

/**
 * One claimed task running in this process, from its claim to its final status. It alone owns the
 * run's state: the abort controller, the claim's fence, the chain of store writes, the first failure,
 * and whether it is being handed back. `TaskService` creates one per claim and calls `start()`,
 * `cancel()` and `handBack()`; the execution reads it and issues writes through `write()`.
 * Budgets, compaction and traces hang off it.
 */
export class TaskRun implements RunState {
  /** The owner and epoch of this run's claim: every write carries it. */
  readonly fence: Fence;
  readonly taskId: string;
  private readonly controller = new AbortController();
  private writes: Promise<void> = Promise.resolve();
  private firstFailure: LegateError | undefined;
  private handingBack = false;
  private endAnnounced = false;
  private done: Promise<void> | undefined;

  /**
   * Claim a waiting task for this process and return its run, not yet started; undefined when it
   * is no longer waiting (cancelled while queued, claimed by another process, gone) or was failed
   * for being resumed too often. Any other failure (`store_locked`, `store_unavailable`…) rejects:
   * the task was not claimed and the caller must hear of it.
   */
  static async claim(deps: TaskRunDeps, taskId: string, from: 'queued' | 'interrupted'): Promise<TaskRun | undefined> {
    try {
      if (from === 'interrupted' && (await failIfResumedTooOften(deps, taskId))) return undefined;
      const task = await deps.store.claim(taskId, from, deps.leases.owner, Date.now() + deps.leases.leaseMs, { startedAt: Date.now(), endedAt: undefined });
      return new TaskRun(deps, task, from);
    } catch (error) {
      if (error instanceof LegateError && (error.code === 'illegal_transition' || error.code === 'task_not_found')) return undefined;
      throw error;
    }
  }

  private constructor(
    private readonly deps: TaskRunDeps,
    /** The task as claimed (status `running`, this run's epoch). */
    readonly task: TaskRecord,
    private readonly from: 'queued' | 'interrupted',
  ) {
    this.taskId = task.id;
    this.fence = { owner: deps.leases.owner, epoch: task.epoch ?? 0 };
  }

  /** Aborted when the run must stop (cancel, hand-back, lost lease, failed write). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The first write that failed or was refused (`lease_lost`), or the lost lease: nothing more is written. */
  get failure(): LegateError | undefined {
    return this.firstFailure;
  }

  /** Set when the process hands the task back (shutdown): it ends `interrupted`, not cancelled. */
  get handedBack(): boolean {
    return this.handingBack;
  }

  /** Resolves when the run is over and its final status written (at once if never started). */
  get finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }

  /** Hold the lease, announce the start and run the child to its end. Call once; returns `finished`. */
  start(): Promise<void> {
    if (this.done) return this.done;
    this.deps.leases.hold(this.taskId, this.fence, this.task.leaseExpiresAt ?? 0, (reason) => this.stop(reason));
    this.deps.announce({ type: 'task.started', task: this.task });
    this.done = this.run();
    return this.done;
  }

  /** The task was cancelled (its `cancelled` status already written, its end announced): abort the child. */
  cancel(reason: LegateError): void {
    this.endAnnounced = true;
    this.controller.abort(reason);
  }

  /** The process stops: abort the child and end the task `interrupted`, to be resumed elsewhere. */
  handBack(): Promise<void> {
    this.handingBack = true;
    this.controller.abort(new LegateError('aborted', 'legate is shutting down; the task is handed back'));
    return this.finished;
  }

  /** Stop the run because it can no longer write (the first reason wins) and abort the child. */
  stop(reason: LegateError): void {
    this.firstFailure ??= reason;
    this.controller.abort(reason);
  }

  /**
   * Issue a store write for the task, in order after those issued before, without waiting for it.
   * A failure stops the run: `lease_lost` as it is, any other error as `store_write_failed` naming
   * `what`. Once the run failed, nothing more is issued.
   */
  write(what: string, action: () => Promise<unknown>): void {
    if (this.firstFailure) return;
    const done = Promise.resolve()
      .then(action)
      .then(
        () => undefined,
        (error: unknown) => void this.failed(what, error),
      );
    this.writes = Promise.all([this.writes, done]).then(() => undefined);
  }

  /** Record `error` from `what` as the run's failure (see `write`) and return the failure that stands. */
  failed(what: string, error: unknown): LegateError {
    const reason =
      error instanceof LegateError && error.code === 'lease_lost'
        ? error
        : new LegateError('store_write_failed', `task "${this.taskId}": ${what} was not written: ${errorMessage(error)}`, { taskId: this.taskId });
    this.stop(reason);
    return this.firstFailure ?? reason;
  }

  /** Settles when every write issued so far has (never rejects). */
  written(): Promise<void> {
    return this.writes;
  }

  /** Resolves when every write issued so far has been written; rejects with the failure once one failed. */
  async persisted(): Promise<void> {
    await this.writes;
    if (this.firstFailure) throw this.firstFailure;
  }

  private async run(): Promise<void> {
    const { deps, taskId } = this;
    const resume = this.from === 'interrupted' ? await this.loadResume() : undefined;
    const signal = deps.timeoutMs > 0 ? AbortSignal.any([this.controller.signal, AbortSignal.timeout(deps.timeoutMs)]) : this.controller.signal;
    const end = this.firstFailure
      ? { status: 'failed' as const, patch: { endedAt: Date.now(), exitReason: 'error' as const, currentTool: '', error: this.firstFailure.toString() } }
      : await executeTask(this.task, this, {
          store: deps.store,
          runner: deps.runner,
          signal,
          announce: deps.announce,
          ...(resume ? { resume } : {}),
          ...(deps.approvals ? { approvals: deps.approvals } : {}),
          ...(deps.costOf ? { costOf: deps.costOf } : {}),
        });
    deps.over(this);
    deps.leases.release(taskId);
    if ('lost' in end) {
      // Not ours any more: write nothing; if it ended elsewhere (a cancel), tell the waiters here.
      const now = await deps.store.get(taskId).catch(() => undefined); // unreadable: nobody here to tell
      if (now && isTerminal(now.status) && !this.endAnnounced) deps.ended(now);
      return;
    }
    try {
      // A hand-back while waiting for an approval interrupts the task as it is (resumed, it asks again).
      const from = end.status === 'interrupted' ? (['running', 'input_required'] as const) : 'running';
      const final = await deps.store.transition(taskId, from, end.status, end.patch, this.fence);
      if (isTerminal(final.status)) {
        // A steer added after the child's last pull but before this transition would stay queued forever.
        await deps.store.missSteers(taskId);
        deps.ended(final);
      }
    } catch (error) {
      // Already cancelled (or taken over): the first status stands. Anything else is the store failing.
      if (!(error instanceof LegateError && (error.code === 'illegal_transition' || error.code === 'lease_lost' || error.code === 'task_not_found'))) {
        deps.announce({
          type: 'task.store_error',
          taskId,
          sessionId: this.task.sessionId,
          error: `its final status (${end.status}) was not written: ${errorMessage(error)}`,
        });
        // Kept for `TaskService.shutdown` to report the task as not handed back.
        this.firstFailure ??= new LegateError('store_write_failed', `task "${taskId}": its final status was not written: ${errorMessage(error)}`, { taskId });
      }
    }
  }

  /** The checkpoint to resume from; a damaged one stops the run (`store_corrupt` naming the task). */
  private async loadResume(): Promise<ResumePoint | undefined> {
    try {
      const checkpoint = await this.deps.store.loadCheckpoint(this.taskId);
      const messages = repairInterrupted(checkpoint.messages);
      const latest = checkpoint.compactions?.at(-1);
      return {
        messages,
        steps: checkpoint.steps,
        iterations: checkpoint.iterations,
        repaired: messages.slice(checkpoint.messages.length),
        ...(latest ? { compaction: compactionRecordOf(latest) } : {}),
      };
    } catch (error) {
      this.stop(
        error instanceof LegateError
          ? error
          : new LegateError('store_corrupt', `task "${this.taskId}": its checkpoint could not be read: ${errorMessage(error)}`, { taskId: this.taskId }),
      );
      return undefined;
    }
  }
}

type ResumePoint = NonNullable<Parameters<typeof executeTask>[2]['resume']>;

/** The record the context step continues from (the log's bookkeeping left out). */
function compactionRecordOf(logged: LoggedCompaction): CompactionRecord {
  const { step: _step, at: _at, ...record } = logged;
  return record;
}

/** An interrupted task taken over more than `maxResumes` times is failed rather than resumed. Returns true if it was. */
async function failIfResumedTooOften(deps: TaskRunDeps, taskId: string): Promise<boolean> {
  const task = await deps.store.get(taskId);
  const takeovers = task?.takeovers ?? 0;
  if (!task || takeovers <= deps.maxResumes) return false;
  const error =
    `resume_limit: task "${taskId}" lost its process ${takeovers} times (tasks.max_resumes is ${deps.maxResumes})` +
    `; it is not resumed again, as it may be what stops its process`;
  const failed = await deps.store.transition(taskId, 'interrupted', 'failed', { endedAt: Date.now(), exitReason: 'max_resumes', error });
  await deps.store.missSteers(taskId);
  deps.ended(failed);
  return true;
}
