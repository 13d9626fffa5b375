import { errorMessage, LegateError, quoted } from '../errors.js';
import { emptyUsage } from '../provider/types.js';
import type { ApprovalAnswer } from '../sandbox/approval-gate.js';
import { asCaller, type CallerLike, callerScope, sees, taskNotFound } from './caller.js';
import { type Dispatcher, LocalDispatcher } from './dispatcher.js';
import { type LeaseKeeper, StoreLeaseKeeper } from './lease-keeper.js';
import { newOwnerId } from './owner.js';
import { Reaper } from './reaper.js';
import { isResumable, isTerminal } from './status.js';
import type { Checkpoint, TaskFilter, TaskStore } from './store/task-store.js';
import { AnswerBell, type ApprovalSettings, awaitsNotice, storeAnswer } from './task-approvals.js';
import { LocalTaskEnds, type TaskEnds } from './task-ends.js';
import type { TaskEvent, TaskListener } from './task-events.js';
import { newTaskId } from './task-ids.js';
import { type CancelledBy, cancelledError, type SteerRecord, type TaskRecord, type TaskSpec } from './task-record.js';
import { reopenFailed } from './task-reopen.js';
import { TaskRun, type TaskRunDeps } from './task-run.js';
import type { TaskServiceOptions } from './task-service-options.js';
import { unlessAborted } from './unless-aborted.js';

export { type Caller, type CallerLike, operator, sessionCaller } from './caller.js';
export type { RunControl, TaskRunner } from './task-execution.js';
export { newSessionId, newTaskId } from './task-ids.js';
export type { TaskServiceOptions } from './task-service-options.js';

/**
 * Spawns, tracks and controls tasks. The store is the source of truth, shared by every process of
 * a LEGATE_HOME: this process runs what it spawned or claimed, holding a lease on each (the
 * `LeaseKeeper`), and stops a child whose lease it lost. A task whose owner is gone is reported
 * `interrupted` (the `Reaper`) and can be resumed from its last checkpoint. Every method takes the
 * caller: a session sees only its own tasks, the operator every task.
 */
export class TaskService {
  private readonly store: TaskStore;
  private readonly dispatcher: Dispatcher;
  private readonly leases: LeaseKeeper;
  private readonly ends: TaskEnds;
  private readonly reaper: Reaper;
  /** The runs of this process, by task id: a claimed task is here until its run is over. */
  private readonly live = new Map<string, TaskRun>();
  private readonly listeners = new Set<TaskListener>();
  private readonly approvals: ApprovalSettings | undefined;
  private readonly runDeps: TaskRunDeps;

  constructor(options: TaskServiceOptions) {
    this.store = options.store;
    this.dispatcher = options.dispatcher ?? new LocalDispatcher(options.maxConcurrent, (taskId, error) => this.storeFailed(taskId, 'its claim', error));
    const heartbeatMs = options.heartbeatMs ?? 500;
    this.leases = options.leaseKeeper ?? new StoreLeaseKeeper(options.store, options.owner ?? newOwnerId(), options.leaseMs ?? 10_000, heartbeatMs);
    this.ends = options.ends ?? new LocalTaskEnds(options.pollIntervalMs ?? 250);
    this.reaper = new Reaper(options.store, this.leases.owner, heartbeatMs);
    this.approvals =
      options.approval === 'on-request'
        ? { timeoutMs: (options.approvalTimeoutSeconds ?? 0) * 1000, pollMs: options.pollIntervalMs ?? 250, bell: new AnswerBell() }
        : undefined;
    this.runDeps = {
      store: this.store,
      runner: options.runner,
      leases: this.leases,
      over: (run) => {
        if (this.live.get(run.taskId) === run) this.live.delete(run.taskId);
      },
      timeoutMs: (options.childTimeoutSeconds ?? 0) * 1000,
      maxResumes: options.maxResumes ?? 3,
      approvals: this.approvals,
      ...(options.costOf ? { costOf: options.costOf } : {}),
      announce: (event) => this.announce(event),
      ended: (task) => this.ended(task),
    };
  }

  /** This process's owner id. */
  get owner(): string {
    return this.leases.owner;
  }

  /**
   * Call `listener` with the id of each task that ends in any process, where processes tell each
   * other (shared mode); returns the function that stops it. Elsewhere it never calls: read the store.
   */
  watchEnds(listener: (taskId: string) => void): () => void {
    return this.ends.watch?.(listener) ?? (() => {});
  }

  subscribe(listener: TaskListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Create a task (`id`: one made with `newTaskId` before, e.g. for its worktree's branch) and start it now, or queue it when the concurrency cap is reached. */
  async spawn(spec: TaskSpec, id: string = newTaskId()): Promise<TaskRecord> {
    const task: TaskRecord = {
      ...spec,
      id,
      status: 'queued',
      createdAt: Date.now(),
      apiCalls: 0,
      usage: emptyUsage(),
      outputLines: 0,
      reported: false,
    };
    await this.store.create(task);
    this.announce({ type: 'task.spawned', task });
    return (await this.schedule(task.id, 'queued')) ?? task;
  }

  /**
   * Continue an interrupted or failed task (or start an orphaned queued one) in this process, from
   * its last checkpoint. Tool calls that were in flight get a result saying their effects are unknown.
   */
  async resume(caller: CallerLike, taskId: string): Promise<TaskRecord> {
    let task = await this.get(caller, taskId);
    if (!isResumable(task.status)) {
      throw new LegateError('task_not_running', `task "${taskId}" is ${task.status}; only an interrupted, failed or queued task can be resumed`, {
        taskId,
        status: task.status,
      });
    }
    if (task.status === 'failed') task = await reopenFailed(this.store, task);
    const started = await this.schedule(task.id, task.status === 'queued' ? 'queued' : 'interrupted');
    if (!started) {
      const now = await this.store.get(taskId);
      if (now?.exitReason === 'max_resumes') throw new LegateError('resume_limit', now.error ?? `task "${taskId}" was not resumed`, { taskId });
      throw new LegateError('task_not_running', `task "${taskId}" was taken by another process`, { taskId });
    }
    return started;
  }

  /**
   * Claim a waiting (queued or interrupted) task and run it here now, outside the dispatcher: a
   * shared queue's worker calls this for each job it takes. Resolves when the run is over, with the
   * task as the store then holds it; undefined when it was not waiting or another process claimed it first.
   */
  async runHere(taskId: string): Promise<TaskRecord | undefined> {
    const task = await this.store.get(taskId);
    if (task?.status !== 'queued' && task?.status !== 'interrupted') return undefined;
    const run = await this.claim(taskId, task.status);
    if (!run) return undefined;
    await run.start();
    return this.store.get(taskId);
  }

  /**
   * A task left `running` under this process's owner id though nothing runs it here (its run was
   * stopped by a lost job lock and wrote nothing more): move it to `interrupted`, fenced on that run,
   * counted as a takeover. Refused (`lease_lost`) if another process took it meanwhile.
   */
  async handBackLost(task: TaskRecord): Promise<TaskRecord> {
    if (this.live.has(task.id)) throw new LegateError('invalid_arguments', `task "${task.id}" runs in this process`, { taskId: task.id });
    const patch = { owner: undefined, leaseExpiresAt: undefined, currentTool: '', endedAt: Date.now(), takeovers: (task.takeovers ?? 0) + 1 };
    return this.store.transition(task.id, 'running', 'interrupted', patch, { owner: this.owner, epoch: task.epoch ?? 0 });
  }

  /** Claim and start queued and interrupted tasks of this LEGATE_HOME (a worker's job). Returns the ids started. */
  async claimWaiting(limit: number): Promise<string[]> {
    await this.reaper.reap(true);
    const waiting = (await this.store.list({ status: ['queued', 'interrupted'], limit: 10_000 })).reverse();
    const started: string[] = [];
    for (const task of waiting) {
      if (started.length >= limit) break;
      if (this.live.has(task.id) || this.dispatcher.waiting(task.id)) continue;
      const claimed = await this.schedule(task.id, task.status as 'queued' | 'interrupted').catch((error: unknown) => {
        // One task's failed claim does not stop the others; it is announced, not dropped.
        this.storeFailed(task.id, 'its claim', error);
        return undefined;
      });
      if (claimed) started.push(task.id);
    }
    return started;
  }

  /** A task the caller may see, or `task_not_found` naming the id. Reports a dead owner's task as interrupted. */
  async get(caller: CallerLike, taskId: string): Promise<TaskRecord> {
    const who = asCaller(caller);
    const task = typeof taskId === 'string' ? await this.store.get(taskId) : undefined;
    if (!task || !sees(who, task)) throw taskNotFound(who, taskId);
    return this.reaper.refresh(task);
  }

  async list(caller: CallerLike, filter: Omit<TaskFilter, 'sessionId'> = {}): Promise<TaskRecord[]> {
    await this.reaper.reap();
    return this.store.list({ limit: 10_000, ...filter, ...callerScope(asCaller(caller)) });
  }

  /** How many tasks the caller sees that match `filter`. */
  async count(caller: CallerLike, filter: Omit<TaskFilter, 'sessionId' | 'limit'> = {}): Promise<number> {
    await this.reaper.reap();
    return this.store.count({ ...filter, ...callerScope(asCaller(caller)) });
  }

  /** Queue a message for the task's next model call. Refused once the task has ended. */
  async steer(caller: CallerLike, taskId: string, message: string): Promise<SteerRecord> {
    const task = await this.get(caller, taskId);
    if (isTerminal(task.status)) {
      throw new LegateError('task_not_running', `task "${taskId}" is ${task.status}; only a queued or running task can be steered`, {
        taskId,
        status: task.status,
      });
    }
    const steer = await this.store.addSteer(taskId, message);
    // The task may have ended between the check and the add, its queued steers already missed: miss this one too.
    const now = await this.store.get(taskId);
    if (now && isTerminal(now.status)) await this.store.missSteers(taskId);
    this.announce({ type: 'task.steered', taskId, sessionId: task.sessionId, message, steerId: steer.id });
    return steer;
  }

  /**
   * Stop a task now: abort its model call and tool (here, or through the store in the process
   * that owns it), keep its partial output. Refused once it has ended. `by` is recorded on the task
   * (default: `parent` for a session, `user` for the operator).
   */
  async cancel(caller: CallerLike, taskId: string, by?: CancelledBy): Promise<TaskRecord> {
    const who = asCaller(caller);
    const task = await this.get(who, taskId);
    if (isTerminal(task.status)) {
      throw new LegateError('task_finished', `task "${taskId}" already ended (${task.status}); nothing to cancel`, { taskId, status: task.status });
    }
    const cancelledBy = by ?? (who.kind === 'operator' ? 'user' : 'parent');
    this.dispatcher.withdraw(taskId);
    const cancelled = await this.store.transition(taskId, task.status, 'cancelled', {
      endedAt: Date.now(),
      exitReason: 'cancelled',
      currentTool: '', // its tool is aborted below: a cancelled task runs none
      error: cancelledError(cancelledBy),
      cancelledBy,
    });
    this.live.get(taskId)?.cancel(new LegateError('aborted', `task "${taskId}" was cancelled`, { cancelled: true }));
    await this.store.missSteers(taskId);
    this.ended(cancelled);
    return cancelled;
  }

  /**
   * A human's answer to the approval request an `input_required` task waits on, stored durably:
   * the process running the task (this one or another) reads it and resumes the child: approved,
   * the call runs once; denied, the denial (with `reason`) is its tool result. `by` names who
   * answered. Throws `unknown_task` (no such task for this caller) or `not_waiting` (the task is
   * not waiting for an answer, or was answered already), each naming the id. Humans only: no
   * model tool calls this.
   */
  async answerApproval(caller: CallerLike, taskId: string, answer: ApprovalAnswer, by?: string): Promise<TaskRecord> {
    const who = asCaller(caller);
    const task = await this.get(who, taskId).catch((error: unknown) => {
      if (!(error instanceof LegateError) || error.code !== 'task_not_found') throw error;
      const where = who.kind === 'session' ? 'in this session' : 'in this LEGATE_HOME';
      throw new LegateError('unknown_task', `no task ${quoted(String(taskId))} ${where}; nothing to approve or deny`, { taskId });
    });
    const after = await storeAnswer(this.store, task, answer, by);
    this.approvals?.bell.ring(taskId);
    return after;
  }

  /**
   * Wait until the task ends or `timeoutMs` passes (or `signal` aborts). Returns the task as it is
   * then: a timeout leaves it running. An interrupted task returns at once (nobody runs it), except
   * in shared mode, where a worker takes it over.
   */
  async waitForEnd(caller: CallerLike, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<{ task: TaskRecord; timedOut: boolean }> {
    let task = await this.get(caller, taskId);
    if (this.isSettled(task)) return { task, timedOut: false };
    await this.ends.wait(taskId, {
      check: async () => this.isSettled(await this.get(caller, taskId)),
      // A task this process runs reports its end through `ended()`: no store read needed.
      local: () => this.live.has(taskId),
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    task = await this.get(caller, taskId);
    return { task, timedOut: !this.isSettled(task) };
  }

  /**
   * Nobody will run the task further: it ended, or it is interrupted where nothing takes interrupted
   * tasks over (without shared mode's workers, waiting on it would not end).
   */
  isSettled(task: TaskRecord): boolean {
    return isTerminal(task.status) || (task.status === 'interrupted' && !this.ends.resumesInterrupted);
  }

  /** Wait for every task of a session to end (or be interrupted). */
  async waitForSession(sessionId: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const open = (await this.list(sessionId)).filter((task) => !this.isSettled(task));
      if (open.length === 0 || signal?.aborted) return;
      await Promise.all(open.map((task) => this.waitForEnd(sessionId, task.id, 60_000, signal)));
    }
  }

  /**
   * Async tasks of a session the parent has not been told about yet, oldest first: ended ones whose
   * result has not reached it, and parked ones (`input_required`) whose request it has not heard of.
   */
  async unreported(sessionId: string): Promise<TaskRecord[]> {
    const tasks = await this.list(sessionId);
    return tasks.filter((task) => task.mode === 'async' && (isTerminal(task.status) ? !task.reported : awaitsNotice(task))).reverse();
  }

  /**
   * The task's result reached its parent session (or, with `approvalRequest`, the notice of that
   * approval request did). The operator's reads never count (a no-op for it).
   */
  async markReported(caller: CallerLike, taskId: string, approvalRequest?: string): Promise<void> {
    const who = asCaller(caller);
    const task = await this.get(who, taskId);
    if (who.kind !== 'session') return;
    if (approvalRequest !== undefined) await this.store.update(taskId, { approvalNoticed: approvalRequest });
    else if (task.status !== 'input_required') await this.store.update(taskId, { reported: true });
  }

  /** A task with its output (the last `last` lines) and steers, read at once; returned only if the caller may see the task. */
  async trail(caller: CallerLike, taskId: string, last?: number): Promise<{ task: TaskRecord; output: string[]; steers: SteerRecord[] }> {
    const who = asCaller(caller);
    if (typeof taskId !== 'string') throw taskNotFound(who, taskId);
    const [record, output, steers] = await Promise.allSettled([this.store.get(taskId), this.store.readOutput(taskId, last), this.store.listSteers(taskId)]);
    if (record.status === 'rejected') throw record.reason;
    if (!record.value || !sees(who, record.value)) throw taskNotFound(who, taskId);
    if (output.status === 'rejected') throw output.reason;
    if (steers.status === 'rejected') throw steers.reason;
    return { task: await this.reaper.refresh(record.value), output: output.value, steers: steers.value };
  }

  /** The task's checkpointed conversation (`store_corrupt` naming the task when a stored step is damaged). */
  async checkpoint(caller: CallerLike, taskId: string): Promise<Checkpoint> {
    await this.get(caller, taskId);
    return this.store.loadCheckpoint(taskId);
  }

  /** Delete ended tasks (with their output, checkpoints and steers) that ended before `endedBefore` (ms). Only the operator may. Returns how many. */
  async prune(caller: CallerLike, endedBefore: number): Promise<number> {
    if (asCaller(caller).kind !== 'operator') throw new LegateError('invalid_arguments', 'only the operator (legate tasks prune) prunes tasks');
    return this.store.prune(endedBefore);
  }

  /** Running tasks whose owner is gone become `interrupted`. Returns how many. At most once per heartbeat interval unless `force`d. */
  reap(force = false): Promise<number> {
    return this.reaper.reap(force);
  }

  /**
   * Stop running tasks (process shutdown). They are handed back as `interrupted`, to be resumed by
   * `legate tasks resume` or a worker; queued tasks stay queued. Past `deadline` (the store does not
   * answer) the store is closed, failing the writes still pending, and the runs are not waited for. Resolves with the ids of the tasks
   * not handed back (a write failed or was late): their lease runs out and another process takes them over.
   */
  async shutdown(deadline?: AbortSignal): Promise<string[]> {
    const running = [...this.live.entries()];
    const finished = Promise.all(running.map(([, run]) => run.handBack())).then(() => true);
    const late = !(await (deadline === undefined ? finished : unlessAborted(finished, deadline)));
    if (late) {
      // Given up: the store is closed under them, and the runs are no longer this service's to wait for.
      await this.store.close().catch(() => {}); // closing fails the pending writes: that is the point
      for (const [id] of running) this.live.delete(id);
    }
    this.leases.stop();
    return running.filter(([, run]) => late || run.failure !== undefined).map(([id]) => id);
  }

  /** Shut down, then close the store. */
  async close(): Promise<void> {
    await this.shutdown();
    await this.store.close();
  }

  get activeCount(): number {
    return this.dispatcher.active;
  }

  /**
   * Submit a task to the dispatcher; resolves with the running record if it started now, undefined
   * if it waits (or was no longer waiting). Rejects when the store failed the claim.
   */
  private async schedule(taskId: string, from: 'queued' | 'interrupted'): Promise<TaskRecord | undefined> {
    return this.dispatcher.submit(taskId, () => {
      const claimed = this.claim(taskId, from);
      return {
        claimed: claimed.then((run) => run?.task),
        // A failed claim is the `claimed` promise's to report: the run that never was is over.
        finished: claimed.then(
          (run) => run?.start(),
          () => undefined,
        ),
      };
    });
  }

  /** Claim the task and track its run (not started yet). */
  private async claim(taskId: string, from: 'queued' | 'interrupted'): Promise<TaskRun | undefined> {
    const run = await TaskRun.claim(this.runDeps, taskId, from);
    if (run) this.live.set(taskId, run);
    return run;
  }

  /** A store failure no caller awaits: announce it, so it reaches the session's listeners. */
  private storeFailed(taskId: string, what: string, error: unknown): void {
    void this.store
      .get(taskId)
      .then(
        (task) => task?.sessionId ?? '',
        () => '',
      ) // the store failing again: announce it without the session
      .then((sessionId) => this.announce({ type: 'task.store_error', taskId, sessionId, error: `${what} failed: ${errorMessage(error)}` }));
  }

  private ended(task: TaskRecord): void {
    this.announce({ type: 'task.ended', task });
    this.ends.ended(task.id);
  }

  private announce(event: TaskEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure never reaches the task.
      }
    }
  }
}
