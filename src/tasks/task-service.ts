import { randomBytes } from 'node:crypto';
import { repairInterrupted } from '../agent/resume.js';
import { LegateError } from '../errors.js';
import { emptyUsage } from '../provider/types.js';
import { newOwnerId, ownerIsGone } from './owner.js';
import { Scheduler } from './scheduler.js';
import { isTerminal } from './status.js';
import type { TaskFilter, TaskStore } from './store/task-store.js';
import type { TaskEvent, TaskListener } from './task-events.js';
import { executeTask, type LiveTask, type TaskRunner } from './task-execution.js';
import type { SteerRecord, TaskRecord, TaskSpec } from './task-record.js';

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
  /** This process's owner id (default `host:pid:nonce`). */
  owner?: string;
}

/**
 * Who is asking: a session id (an agent's tools: only that session's tasks exist for it), or
 * `operator` (the user at the CLI: every task of this LEGATE_HOME).
 */
export type Caller = string | { operator: true };
export const operator: Caller = { operator: true };

/**
 * Spawns, tracks and controls tasks. The store is the source of truth, shared by every process of
 * a LEGATE_HOME: this process runs what it spawned or claimed, holding a renewed lease on each,
 * and notices through the store when another process cancelled one. A task whose owner is gone
 * is reported `interrupted` and can be resumed from its last checkpoint.
 */
export class TaskService {
  readonly store: TaskStore;
  readonly owner: string;
  private readonly runner: TaskRunner;
  private readonly scheduler: Scheduler;
  private readonly live = new Map<string, LiveTask>();
  private readonly listeners = new Set<TaskListener>();
  private readonly enders = new Map<string, Set<() => void>>();
  private readonly timeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private reapedAt = 0;

  constructor(options: TaskServiceOptions) {
    this.store = options.store;
    this.runner = options.runner;
    this.scheduler = new Scheduler(options.maxConcurrent);
    this.timeoutMs = (options.childTimeoutSeconds ?? 0) * 1000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.heartbeatMs = options.heartbeatMs ?? 500;
    this.owner = options.owner ?? newOwnerId();
  }

  subscribe(listener: TaskListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Create a task and start it now, or queue it when the concurrency cap is reached. */
  async spawn(spec: TaskSpec): Promise<TaskRecord> {
    const task: TaskRecord = { ...spec, id: newTaskId(), status: 'queued', createdAt: Date.now(), apiCalls: 0, usage: emptyUsage(), outputLines: 0, reported: false };
    await this.store.create(task);
    this.announce({ type: 'task.spawned', task });
    return (await this.schedule(task.id, 'queued')) ?? task;
  }

  /**
   * Continue an interrupted task (or start an orphaned queued one) in this process, from its
   * last checkpoint. Tool calls that were in flight get a result saying their effects are unknown.
   */
  async resume(caller: Caller, taskId: string): Promise<TaskRecord> {
    const task = await this.get(caller, taskId);
    if (task.status !== 'interrupted' && task.status !== 'queued') {
      throw new LegateError('task_not_running', `task "${taskId}" is ${task.status}; only an interrupted or queued task can be resumed`, { taskId, status: task.status });
    }
    const started = await this.schedule(task.id, task.status);
    if (!started) throw new LegateError('task_not_running', `task "${taskId}" was taken by another process`, { taskId });
    return started;
  }

  /** Claim and start queued and interrupted tasks of this LEGATE_HOME (a worker's job). Returns the ids started. */
  async claimWaiting(limit: number): Promise<string[]> {
    await this.reap(true);
    const waiting = (await this.store.list({ status: ['queued', 'interrupted'], limit: 10_000 })).reverse();
    const started: string[] = [];
    for (const task of waiting) {
      if (started.length >= limit) break;
      if (this.live.has(task.id) || this.scheduler.has(task.id)) continue;
      if (await this.schedule(task.id, task.status as 'queued' | 'interrupted').catch(() => undefined)) started.push(task.id);
    }
    return started;
  }

  /** A task the caller may see, or `task_not_found` naming the id. Reports a dead owner's task as interrupted. */
  async get(caller: Caller, taskId: string): Promise<TaskRecord> {
    const task = typeof taskId === 'string' ? await this.store.get(taskId) : undefined;
    if (!task || (typeof caller === 'string' && task.sessionId !== caller)) {
      const where = typeof caller === 'string' ? 'in this session' : 'in this LEGATE_HOME';
      throw new LegateError('task_not_found', `no task "${String(taskId)}" ${where}`, { taskId });
    }
    return this.refresh(task);
  }

  async list(caller: Caller, filter: Omit<TaskFilter, 'sessionId'> = {}): Promise<TaskRecord[]> {
    await this.reap();
    return this.store.list({ limit: 10_000, ...filter, ...(typeof caller === 'string' ? { sessionId: caller } : {}) });
  }

  /** How many tasks the caller sees that match `filter`. */
  async count(caller: Caller, filter: Omit<TaskFilter, 'sessionId' | 'limit'> = {}): Promise<number> {
    await this.reap();
    return this.store.count({ ...filter, ...(typeof caller === 'string' ? { sessionId: caller } : {}) });
  }

  /** Queue a message for the task's next model call. Refused once the task has ended. */
  async steer(caller: Caller, taskId: string, message: string): Promise<SteerRecord> {
    const task = await this.get(caller, taskId);
    if (isTerminal(task.status)) {
      throw new LegateError('task_not_running', `task "${taskId}" is ${task.status}; only a queued or running task can be steered`, { taskId, status: task.status });
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
   * that owns it), keep its partial output. Refused once it has ended.
   */
  async cancel(caller: Caller, taskId: string): Promise<TaskRecord> {
    const task = await this.get(caller, taskId);
    if (isTerminal(task.status)) {
      throw new LegateError('task_finished', `task "${taskId}" already ended (${task.status}); nothing to cancel`, { taskId, status: task.status });
    }
    this.scheduler.remove(taskId);
    const cancelled = await this.store.transition(taskId, task.status, 'cancelled', { endedAt: Date.now(), exitReason: 'cancelled', error: 'cancelled by the parent' });
    this.live.get(taskId)?.controller.abort(new LegateError('aborted', `task "${taskId}" was cancelled`));
    await this.store.missSteers(taskId);
    this.ended(cancelled);
    return cancelled;
  }

  /**
   * Wait until the task ends or `timeoutMs` passes (or `signal` aborts). Returns the task as it is
   * then: a timeout leaves it running. An interrupted task returns at once (nobody runs it).
   */
  async waitForEnd(caller: Caller, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<{ task: TaskRecord; timedOut: boolean }> {
    let task = await this.get(caller, taskId);
    if (settled(task)) return { task, timedOut: false };
    await new Promise<void>((resolve) => {
      const waiters = this.enders.get(taskId) ?? new Set<() => void>();
      this.enders.set(taskId, waiters);
      const done = (): void => {
        waiters.delete(done);
        clearTimeout(timer);
        clearInterval(poll);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      waiters.add(done);
      const timer = setTimeout(done, Math.min(timeoutMs, 2 ** 31 - 1));
      // Tasks run by another process end without telling this one: re-read the store.
      const poll = setInterval(() => {
        // A task this process runs reports its end through `ended()`: no store read needed.
        if (this.live.has(taskId)) return;
        void this.get(caller, taskId).then((current) => settled(current) && done(), () => {});
      }, this.pollIntervalMs);
      poll.unref?.();
      signal?.addEventListener('abort', done, { once: true });
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

  /** Ended async tasks of a session whose result has not reached the parent yet, oldest first. */
  async unreported(sessionId: string): Promise<TaskRecord[]> {
    const tasks = await this.list(sessionId);
    return tasks.filter((task) => isTerminal(task.status) && !task.reported && task.mode === 'async').reverse();
  }

  async markReported(taskId: string): Promise<void> {
    await this.store.update(taskId, { reported: true });
  }

  /** What a task left behind so far: its output buffer (the last `last` lines) and its steering messages. */
  async trail(taskId: string, last?: number): Promise<{ output: string[]; steers: SteerRecord[] }> {
    const [output, steers] = await Promise.all([this.store.readOutput(taskId, last), this.store.listSteers(taskId)]);
    return { output, steers };
  }

  /**
   * Running tasks whose owner is gone become `interrupted`. Returns how many. At most once per
   * heartbeat interval unless `force`d: every `list` calls it.
   */
  async reap(force = false): Promise<number> {
    const now = Date.now();
    if (!force && now - this.reapedAt < this.heartbeatMs) return 0;
    this.reapedAt = now;
    let reaped = 0;
    for (const task of await this.store.list({ status: ['running'], limit: 100_000 })) {
      if ((await this.refresh(task)).status === 'interrupted') reaped++;
    }
    return reaped;
  }

  /**
   * Stop running tasks (process shutdown). By default they are handed back as `interrupted`, to be
   * resumed by `legate tasks resume` or a worker; queued tasks stay queued.
   */
  async shutdown(): Promise<void> {
    const running = [...this.live.values()];
    for (const live of running) {
      live.handBack = true;
      live.controller.abort(new LegateError('aborted', 'legate is shutting down; the task is handed back'));
    }
    await Promise.all(running.map((live) => live.finished));
    this.stopHeartbeat();
  }

  get activeCount(): number {
    return this.scheduler.active;
  }

  /** Submit a task to the scheduler; resolves with the running record if it started now, undefined if it waits. */
  private async schedule(taskId: string, from: 'queued' | 'interrupted'): Promise<TaskRecord | undefined> {
    let started: Promise<TaskRecord | undefined> | undefined;
    this.scheduler.submit(taskId, () => {
      const run = this.start(taskId, from);
      started = run.then((state) => state.record);
      return run.then((state) => state.finished);
    });
    return started ? await started : undefined;
  }

  private async start(taskId: string, from: 'queued' | 'interrupted'): Promise<{ record: TaskRecord | undefined; finished: Promise<void> }> {
    let task: TaskRecord;
    try {
      task = await this.store.transition(taskId, from, 'running', { startedAt: Date.now(), owner: this.owner, leaseExpiresAt: Date.now() + this.leaseMs });
    } catch {
      // Cancelled while queued, or claimed by another process.
      return { record: undefined, finished: Promise.resolve() };
    }
    const resumeFrom = from === 'interrupted' ? repairInterrupted((await this.store.loadCheckpoint(taskId)).messages) : undefined;
    const controller = new AbortController();
    const live: LiveTask = { controller, writes: Promise.resolve(), handBack: false, finished: Promise.resolve() };
    this.live.set(taskId, live);
    this.startHeartbeat();
    this.announce({ type: 'task.started', task });
    const signal = this.timeoutMs > 0 ? AbortSignal.any([controller.signal, AbortSignal.timeout(this.timeoutMs)]) : controller.signal;
    live.finished = executeTask(task, live, { store: this.store, runner: this.runner, signal, announce: (event) => this.announce(event), ...(resumeFrom ? { resumeFrom } : {}) })
      .then(async ({ status, patch }) => {
        this.live.delete(taskId);
        try {
          const final = await this.store.transition(taskId, 'running', status, patch);
          if (isTerminal(final.status)) {
            // A steer added after executeTask missed the queue but before this transition would stay queued forever.
            await this.store.missSteers(taskId);
            this.ended(final);
          }
        } catch {
          // Already cancelled (or taken over): the first status stands.
        }
        if (this.live.size === 0) this.stopHeartbeat();
      });
    return { record: task, finished: live.finished };
  }

  /** If a running task's owner is gone, move it to interrupted (conditionally: a live owner wins). */
  private async refresh(task: TaskRecord): Promise<TaskRecord> {
    if (task.status !== 'running' || task.owner === this.owner || !ownerIsGone(task.owner, task.leaseExpiresAt)) return task;
    try {
      return await this.store.transition(task.id, 'running', 'interrupted', { owner: undefined, leaseExpiresAt: undefined, currentTool: '' });
    } catch {
      return (await this.store.get(task.id)) ?? task;
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  /** Renew leases; a task no longer running under this owner was cancelled elsewhere: stop it. */
  private async heartbeat(): Promise<void> {
    const owned = new Set(await this.store.heartbeat(this.owner, Date.now() + this.leaseMs).catch(() => [...this.live.keys()]));
    for (const [taskId, live] of this.live) {
      if (owned.has(taskId) || live.controller.signal.aborted) continue;
      live.controller.abort(new LegateError('aborted', `task "${taskId}" was cancelled by another process`));
      const task = await this.store.get(taskId);
      if (task && isTerminal(task.status)) this.ended(task);
    }
  }

  private ended(task: TaskRecord): void {
    this.announce({ type: 'task.ended', task });
    for (const done of [...(this.enders.get(task.id) ?? [])]) done();
    this.enders.delete(task.id);
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
