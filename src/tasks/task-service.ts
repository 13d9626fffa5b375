import { randomBytes } from 'node:crypto';
import { repairInterrupted } from '../agent/resume.js';
import { errorMessage, LegateError } from '../errors.js';
import { emptyUsage } from '../provider/types.js';
import type { ApprovalAnswer } from '../sandbox/approval-gate.js';
import { asCaller, type CallerLike, callerScope, sees, taskNotFound } from './caller.js';
import { type Dispatcher, LocalDispatcher } from './dispatcher.js';
import { type LeaseKeeper, StoreLeaseKeeper } from './lease-keeper.js';
import { newOwnerId } from './owner.js';
import { Reaper } from './reaper.js';
import { isTerminal } from './status.js';
import type { Checkpoint, TaskFilter, TaskStore } from './store/task-store.js';
import { AnswerBell, type ApprovalSettings, storeAnswer } from './task-approvals.js';
import { LocalTaskEnds, type TaskEnds } from './task-ends.js';
import type { TaskEvent, TaskListener } from './task-events.js';
import { executeTask, type LiveTask, stopLive, type TaskRunner } from './task-execution.js';
import type { CancelledBy, SessionRecord, SteerRecord, TaskRecord, TaskSpec } from './task-record.js';

export { type Caller, type CallerLike, operator, sessionCaller } from './caller.js';
export type { RunControl, TaskRunner } from './task-execution.js';

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
}

/**
 * Spawns, tracks and controls tasks. The store is the source of truth, shared by every process of
 * a LEGATE_HOME: this process runs what it spawned or claimed, holding a lease on each (the
 * `LeaseKeeper`), and stops a child whose lease it lost. A task whose owner is gone is reported
 * `interrupted` (the `Reaper`) and can be resumed from its last checkpoint. Every method takes the
 * caller: a session sees only its own tasks, the operator every task.
 */
export class TaskService {
  private readonly store: TaskStore;
  private readonly runner: TaskRunner;
  private readonly dispatcher: Dispatcher;
  private readonly leases: LeaseKeeper;
  private readonly ends: TaskEnds;
  private readonly reaper: Reaper;
  private readonly live = new Map<string, LiveTask>();
  private readonly listeners = new Set<TaskListener>();
  private readonly timeoutMs: number;
  private readonly maxResumes: number;
  private readonly approvals: ApprovalSettings | undefined;

  constructor(options: TaskServiceOptions) {
    this.store = options.store;
    this.runner = options.runner;
    this.dispatcher = options.dispatcher ?? new LocalDispatcher(options.maxConcurrent);
    const heartbeatMs = options.heartbeatMs ?? 500;
    this.leases = options.leaseKeeper ?? new StoreLeaseKeeper(options.store, options.owner ?? newOwnerId(), options.leaseMs ?? 10_000, heartbeatMs);
    this.ends = options.ends ?? new LocalTaskEnds(options.pollIntervalMs ?? 250);
    this.reaper = new Reaper(options.store, this.leases.owner, heartbeatMs);
    this.timeoutMs = (options.childTimeoutSeconds ?? 0) * 1000;
    this.maxResumes = options.maxResumes ?? 3;
    this.approvals =
      options.approval === 'on-request'
        ? { timeoutMs: (options.approvalTimeoutSeconds ?? 0) * 1000, pollMs: options.pollIntervalMs ?? 250, bell: new AnswerBell() }
        : undefined;
  }

  /** This process's owner id. */
  get owner(): string {
    return this.leases.owner;
  }

  subscribe(listener: TaskListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Create a task and start it now, or queue it when the concurrency cap is reached. */
  async spawn(spec: TaskSpec): Promise<TaskRecord> {
    const task: TaskRecord = {
      ...spec,
      id: newTaskId(),
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
   * Continue an interrupted task (or start an orphaned queued one) in this process, from its
   * last checkpoint. Tool calls that were in flight get a result saying their effects are unknown.
   */
  async resume(caller: CallerLike, taskId: string): Promise<TaskRecord> {
    const task = await this.get(caller, taskId);
    if (task.status !== 'interrupted' && task.status !== 'queued') {
      throw new LegateError('task_not_running', `task "${taskId}" is ${task.status}; only an interrupted or queued task can be resumed`, {
        taskId,
        status: task.status,
      });
    }
    const started = await this.schedule(task.id, task.status);
    if (!started) {
      const now = await this.store.get(taskId);
      if (now?.exitReason === 'max_resumes') throw new LegateError('resume_limit', now.error ?? `task "${taskId}" was not resumed`, { taskId });
      throw new LegateError('task_not_running', `task "${taskId}" was taken by another process`, { taskId });
    }
    return started;
  }

  /** Claim and start queued and interrupted tasks of this LEGATE_HOME (a worker's job). Returns the ids started. */
  async claimWaiting(limit: number): Promise<string[]> {
    await this.reaper.reap(true);
    const waiting = (await this.store.list({ status: ['queued', 'interrupted'], limit: 10_000 })).reverse();
    const started: string[] = [];
    for (const task of waiting) {
      if (started.length >= limit) break;
      if (this.live.has(task.id) || this.dispatcher.waiting(task.id)) continue;
      if (await this.schedule(task.id, task.status as 'queued' | 'interrupted').catch(() => undefined)) started.push(task.id);
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
    this.announce({ type: 'task.steered', taskId, sessionId: task.sessionId, message });
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
      error: `cancelled by ${cancellerName[cancelledBy]}`,
      cancelledBy,
    });
    const live = this.live.get(taskId);
    if (live) live.endAnnounced = true;
    live?.controller.abort(new LegateError('aborted', `task "${taskId}" was cancelled`));
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
      throw new LegateError('unknown_task', `no task "${String(taskId)}" ${where}; nothing to approve or deny`, { taskId });
    });
    const after = await storeAnswer(this.store, task, answer, by);
    this.approvals?.bell.ring(taskId);
    return after;
  }

  /**
   * Wait until the task ends or `timeoutMs` passes (or `signal` aborts). Returns the task as it is
   * then: a timeout leaves it running. An interrupted task returns at once (nobody runs it).
   */
  async waitForEnd(caller: CallerLike, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<{ task: TaskRecord; timedOut: boolean }> {
    let task = await this.get(caller, taskId);
    if (settled(task)) return { task, timedOut: false };
    await this.ends.wait(taskId, {
      check: async () => settled(await this.get(caller, taskId)),
      // A task this process runs reports its end through `ended()`: no store read needed.
      local: () => this.live.has(taskId),
      timeoutMs,
      ...(signal ? { signal } : {}),
    });
    task = await this.get(caller, taskId);
    return { task, timedOut: !settled(task) };
  }

  /** Wait for every task of a session to end (or be interrupted). */
  async waitForSession(sessionId: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const open = (await this.list(sessionId)).filter((task) => !settled(task));
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

  /** What a task left behind so far: its output buffer (the last `last` lines) and its steering messages. */
  async trail(caller: CallerLike, taskId: string, last?: number): Promise<{ output: string[]; steers: SteerRecord[] }> {
    await this.get(caller, taskId);
    const [output, steers] = await Promise.all([this.store.readOutput(taskId, last), this.store.listSteers(taskId)]);
    return { output, steers };
  }

  /** The task's checkpointed conversation (`store_corrupt` naming the task when a stored step is damaged). */
  async checkpoint(caller: CallerLike, taskId: string): Promise<Checkpoint> {
    await this.get(caller, taskId);
    return this.store.loadCheckpoint(taskId);
  }

  /** Store a session's conversation (create or replace). */
  async saveSession(session: SessionRecord): Promise<void> {
    await this.store.saveSession(session);
  }

  /** A stored session by id, or the most recently updated one in `cwd`. */
  async loadSession(which: { id: string } | { cwd: string }): Promise<SessionRecord | undefined> {
    if ('id' in which) return this.store.loadSession(which.id);
    const [latest] = await this.store.listSessions({ cwd: which.cwd, limit: 1 });
    return latest;
  }

  /** Stored sessions, most recently updated first (`cwd`: only that directory's). */
  async listSessions(filter: { cwd?: string; limit?: number } = {}): Promise<SessionRecord[]> {
    return this.store.listSessions(filter);
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
   * `legate tasks resume` or a worker; queued tasks stay queued.
   */
  async shutdown(): Promise<void> {
    const running = [...this.live.values()];
    for (const live of running) {
      live.handBack = true;
      live.controller.abort(new LegateError('aborted', 'legate is shutting down; the task is handed back'));
    }
    await Promise.all(running.map((live) => live.finished));
    this.leases.stop();
  }

  /** Shut down, then close the store. */
  async close(): Promise<void> {
    await this.shutdown();
    await this.store.close();
  }

  get activeCount(): number {
    return this.dispatcher.active;
  }

  /** Submit a task to the dispatcher; resolves with the running record if it started now, undefined if it waits. */
  private async schedule(taskId: string, from: 'queued' | 'interrupted'): Promise<TaskRecord | undefined> {
    let started: Promise<TaskRecord | undefined> | undefined;
    this.dispatcher.submit(taskId, () => {
      const run = this.start(taskId, from);
      started = run.then((state) => state.record);
      return run.then((state) => state.finished);
    });
    return started ? await started : undefined;
  }

  /** Claim the task, load its checkpoint when resuming, and run it under the claim's fence. */
  private async start(taskId: string, from: 'queued' | 'interrupted'): Promise<{ record: TaskRecord | undefined; finished: Promise<void> }> {
    const none = { record: undefined, finished: Promise.resolve() };
    let task: TaskRecord;
    try {
      if (from === 'interrupted' && (await this.failIfResumedTooOften(taskId))) return none;
      task = await this.store.claim(taskId, from, this.owner, Date.now() + this.leases.leaseMs, { startedAt: Date.now(), endedAt: undefined });
    } catch {
      // Cancelled while queued, or claimed by another process.
      return none;
    }
    const fence = { owner: this.owner, epoch: task.epoch ?? 0 };
    const controller = new AbortController();
    const live: LiveTask = { controller, fence, writes: Promise.resolve(), handBack: false, finished: Promise.resolve() };
    this.live.set(taskId, live);
    this.leases.hold(taskId, fence, task.leaseExpiresAt ?? 0, (reason) => stopLive(live, reason));
    this.announce({ type: 'task.started', task });
    live.finished = (async () => {
      let resume: { messages: Checkpoint['messages']; steps: number } | undefined;
      if (from === 'interrupted') {
        try {
          const checkpoint = await this.store.loadCheckpoint(taskId);
          resume = { messages: repairInterrupted(checkpoint.messages), steps: checkpoint.steps };
        } catch (error) {
          stopLive(
            live,
            error instanceof LegateError
              ? error
              : new LegateError('store_corrupt', `task "${taskId}": its checkpoint could not be read: ${errorMessage(error)}`, { taskId }),
          );
        }
      }
      const signal = this.timeoutMs > 0 ? AbortSignal.any([controller.signal, AbortSignal.timeout(this.timeoutMs)]) : controller.signal;
      const end = live.failure
        ? { status: 'failed' as const, patch: { endedAt: Date.now(), exitReason: 'error' as const, currentTool: '', error: live.failure.toString() } }
        : await executeTask(task, live, {
            store: this.store,
            runner: this.runner,
            signal,
            announce: (event) => this.announce(event),
            ...(resume ? { resume } : {}),
            ...(this.approvals ? { approvals: this.approvals } : {}),
          });
      this.live.delete(taskId);
      this.leases.release(taskId);
      if ('lost' in end) {
        // Not ours any more: write nothing; if it ended elsewhere (a cancel), tell the waiters here.
        const now = await this.store.get(taskId).catch(() => undefined);
        if (now && isTerminal(now.status) && !live.endAnnounced) this.ended(now);
        return;
      }
      try {
        // A hand-back while waiting for an approval interrupts the task as it is (resumed, it asks again).
        const from = end.status === 'interrupted' ? (['running', 'input_required'] as const) : 'running';
        const final = await this.store.transition(taskId, from, end.status, end.patch, fence);
        if (isTerminal(final.status)) {
          // A steer added after the child's last pull but before this transition would stay queued forever.
          await this.store.missSteers(taskId);
          this.ended(final);
        }
      } catch {
        // Already cancelled (or taken over): the first status stands.
      }
    })();
    return { record: task, finished: live.finished };
  }

  /** An interrupted task taken over more than `maxResumes` times is failed rather than resumed. Returns true if it was. */
  private async failIfResumedTooOften(taskId: string): Promise<boolean> {
    const task = await this.store.get(taskId);
    const takeovers = task?.takeovers ?? 0;
    if (!task || takeovers <= this.maxResumes) return false;
    const error =
      `resume_limit: task "${taskId}" lost its process ${takeovers} times (tasks.max_resumes is ${this.maxResumes})` +
      `; it is not resumed again, as it may be what stops its process`;
    const failed = await this.store.transition(taskId, 'interrupted', 'failed', { endedAt: Date.now(), exitReason: 'max_resumes', error });
    await this.store.missSteers(taskId);
    this.ended(failed);
    return true;
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

const cancellerName: Record<CancelledBy, string> = {
  parent: 'the parent',
  user: 'the user',
  timeout: 'its timeout',
  shutdown: 'shutdown',
};

/** Parked, and the parent has not been told of the request it waits on. */
function awaitsNotice(task: TaskRecord): boolean {
  return task.status === 'input_required' && task.approval !== undefined && task.approvalNoticed !== task.approval.id;
}

/** Ended, or interrupted (nobody is running it, so waiting would not end). */
function settled(task: TaskRecord): boolean {
  return isTerminal(task.status) || task.status === 'interrupted';
}

export function newTaskId(): string {
  return `t_${randomBytes(4).toString('hex')}`;
}

export function newSessionId(): string {
  return `s_${randomBytes(6).toString('hex')}`;
}
