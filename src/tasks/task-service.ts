import { randomBytes } from 'node:crypto';
import type { AgentEvent, RunResult } from '../agent/events.js';
import type { SteeringSource } from '../agent/steering.js';
import { errorMessage, LegateError } from '../errors.js';
import type { Message } from '../provider/types.js';
import { emptyUsage } from '../provider/types.js';
import { outputLinesFor, oneLine } from './output-lines.js';
import { Scheduler } from './scheduler.js';
import { isTerminal, type TaskStatus } from './status.js';
import type { TaskStore } from './store/task-store.js';
import type { TaskEvent, TaskListener } from './task-events.js';
import type { SteerRecord, TaskRecord, TaskSpec } from './task-record.js';

/** What a runner needs to run one task's child agent. */
export interface RunControl {
  signal: AbortSignal;
  steering: SteeringSource;
  emit(event: AgentEvent): void;
  /** The checkpointed conversation when resuming; undefined for a fresh start. */
  resumeFrom?: Message[];
}

/** Executes a task's child agent. Must resolve (never reject) with the run's result. */
export interface TaskRunner {
  run(task: TaskRecord, control: RunControl): Promise<RunResult>;
}

export interface TaskServiceOptions {
  store: TaskStore;
  runner: TaskRunner;
  /** Children running at once; the rest wait in FIFO order with status `queued`. */
  maxConcurrent: number;
  /** Per-task wall-clock limit in seconds; 0 = none. */
  childTimeoutSeconds?: number;
  /** How often a waiting `collect` re-reads the store (for tasks run elsewhere), ms. */
  pollIntervalMs?: number;
}

interface LiveTask {
  controller: AbortController;
  /** Serialises the task's store writes so output lands before the final status. */
  writes: Promise<void>;
}

/**
 * Spawns, tracks and controls tasks. The store is the source of truth; this process runs the
 * tasks it spawned through the runner, at most `maxConcurrent` at a time. Every method that takes
 * a session id refuses tasks of other sessions as if they did not exist.
 */
export class TaskService {
  readonly store: TaskStore;
  private readonly runner: TaskRunner;
  private readonly scheduler: Scheduler;
  private readonly live = new Map<string, LiveTask>();
  private readonly listeners = new Set<TaskListener>();
  private readonly enders = new Map<string, Set<() => void>>();
  private readonly timeoutMs: number;
  private readonly pollIntervalMs: number;

  constructor(options: TaskServiceOptions) {
    this.store = options.store;
    this.runner = options.runner;
    this.scheduler = new Scheduler(options.maxConcurrent);
    this.timeoutMs = (options.childTimeoutSeconds ?? 0) * 1000;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
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
    let started: Promise<TaskRecord> | undefined;
    this.scheduler.submit(task.id, () => {
      const run = this.start(task.id);
      started = run.then((runStarted) => runStarted.record);
      return run.then((runStarted) => runStarted.finished);
    });
    return started ? await started : task;
  }

  /** A task of this session, or `task_not_found` naming the id. */
  async get(sessionId: string, taskId: string): Promise<TaskRecord> {
    const task = typeof taskId === 'string' ? await this.store.get(taskId) : undefined;
    if (!task || task.sessionId !== sessionId) {
      throw new LegateError('task_not_found', `no task "${String(taskId)}" in this session`, { taskId });
    }
    return task;
  }

  async list(sessionId: string, status?: TaskStatus): Promise<TaskRecord[]> {
    return this.store.list({ sessionId, ...(status ? { status: [status] } : {}), limit: 10_000 });
  }

  /** Queue a message for the task's next model call. Refused once the task has ended. */
  async steer(sessionId: string, taskId: string, message: string): Promise<SteerRecord> {
    const task = await this.get(sessionId, taskId);
    if (isTerminal(task.status)) {
      throw new LegateError('task_not_running', `task "${taskId}" is ${task.status}; only a queued or running task can be steered`, { taskId, status: task.status });
    }
    const steer = await this.store.addSteer(taskId, message);
    this.announce({ type: 'task.steered', taskId, sessionId, message });
    return steer;
  }

  /** Stop a task now: abort its model call and tool, keep its partial output. Refused once it has ended. */
  async cancel(sessionId: string, taskId: string): Promise<TaskRecord> {
    const task = await this.get(sessionId, taskId);
    if (isTerminal(task.status)) {
      throw new LegateError('task_finished', `task "${taskId}" already ended (${task.status}); nothing to cancel`, { taskId, status: task.status });
    }
    this.scheduler.remove(taskId);
    const cancelled = await this.store.transition(taskId, task.status, 'cancelled', {
      endedAt: Date.now(),
      exitReason: 'cancelled',
      error: 'cancelled by the parent',
    });
    this.live.get(taskId)?.controller.abort(new LegateError('aborted', `task "${taskId}" was cancelled`));
    await this.store.missSteers(taskId);
    this.ended(cancelled);
    return cancelled;
  }

  /**
   * Wait until the task ends or `timeoutMs` passes (or `signal` aborts). Returns the task as it is
   * then, ended or not: a timeout leaves the task running.
   */
  async waitForEnd(sessionId: string, taskId: string, timeoutMs: number, signal?: AbortSignal): Promise<{ task: TaskRecord; timedOut: boolean }> {
    let task = await this.get(sessionId, taskId);
    if (isTerminal(task.status)) return { task, timedOut: false };
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
        void this.store.get(taskId).then((current) => current && isTerminal(current.status) && done(), () => {});
      }, this.pollIntervalMs);
      poll.unref?.();
      signal?.addEventListener('abort', done, { once: true });
    });
    task = await this.get(sessionId, taskId);
    return { task, timedOut: !isTerminal(task.status) };
  }

  /** Wait for every task of a session to end. */
  async waitForSession(sessionId: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const open = (await this.list(sessionId)).filter((task) => !isTerminal(task.status) && task.status !== 'interrupted');
      if (open.length === 0 || signal?.aborted) return;
      await Promise.all(open.map((task) => this.waitForEnd(sessionId, task.id, 60_000, signal)));
    }
  }

  /** Ended async tasks of a session whose result has not reached the parent yet. */
  async unreported(sessionId: string): Promise<TaskRecord[]> {
    const tasks = await this.list(sessionId);
    return tasks.filter((task) => isTerminal(task.status) && !task.reported && task.mode === 'async').reverse();
  }

  /** What a task left behind so far: its output buffer and its steering messages with their states. */
  async trail(taskId: string): Promise<{ output: string[]; steers: SteerRecord[] }> {
    const [output, steers] = await Promise.all([this.store.readOutput(taskId), this.store.listSteers(taskId)]);
    return { output, steers };
  }

  async markReported(taskId: string): Promise<void> {
    await this.store.update(taskId, { reported: true });
  }

  /** Abort every task this process runs (process shutdown). */
  async shutdown(): Promise<void> {
    const ids = [...this.live.keys()];
    for (const id of ids) this.live.get(id)?.controller.abort(new LegateError('aborted', 'legate is shutting down'));
    await Promise.all(ids.map((id) => this.live.get(id)?.writes));
  }

  get activeCount(): number {
    return this.scheduler.active;
  }

  private async start(taskId: string): Promise<{ record: TaskRecord; finished: Promise<void> }> {
    let task: TaskRecord;
    try {
      task = await this.store.transition(taskId, 'queued', 'running', { startedAt: Date.now() });
    } catch {
      // Cancelled while queued.
      const current = await this.store.get(taskId);
      return { record: current!, finished: Promise.resolve() };
    }
    const controller = new AbortController();
    const live: LiveTask = { controller, writes: Promise.resolve() };
    this.live.set(taskId, live);
    this.announce({ type: 'task.started', task });
    return { record: task, finished: this.execute(task, live) };
  }

  private async execute(task: TaskRecord, live: LiveTask): Promise<void> {
    const signal = this.timeoutMs > 0 ? AbortSignal.any([live.controller.signal, AbortSignal.timeout(this.timeoutMs)]) : live.controller.signal;
    const write = (action: () => Promise<unknown>): void => {
      live.writes = live.writes.then(action).then(() => undefined, () => undefined);
    };
    const steering: SteeringSource = {
      pull: async () => {
        await live.writes;
        return (await this.store.takeSteers(task.id)).map((steer) => steer.message);
      },
    };
    const emit = (event: AgentEvent): void => {
      const lines = outputLinesFor(event);
      if (lines.length > 0) write(() => this.store.appendOutput(task.id, lines));
      if (event.type === 'tool.started') {
        write(() => this.store.update(task.id, { currentTool: event.name, lastActivity: `→ ${event.name}` }));
        this.announce({ type: 'task.activity', taskId: task.id, sessionId: task.sessionId, activity: `${event.name}` });
      } else if (event.type === 'tool.finished') {
        write(() => this.store.update(task.id, { currentTool: '', lastActivity: `← ${event.name}` }));
      } else if (event.type === 'model.finished') {
        const activity = event.text.trim() ? oneLine(event.text, 80) : `model call ${event.iteration}`;
        this.announce({ type: 'task.activity', taskId: task.id, sessionId: task.sessionId, activity });
      } else if (event.type === 'usage') {
        const apiCalls = ++task.apiCalls;
        task.usage = event.total;
        write(() => this.store.update(task.id, { apiCalls, usage: event.total }));
      } else if (event.type === 'step.completed') {
        write(() => this.store.appendCheckpoint(task.id, { iteration: event.iteration, messages: event.messages }));
      }
    };
    let result: RunResult;
    try {
      result = await this.runner.run(task, { signal, steering, emit });
    } catch (error) {
      result = { status: 'failed', exitReason: 'error', error: `internal error: ${errorMessage(error)}`, final: '', messages: [], usage: task.usage, apiCalls: task.apiCalls, iterations: 0 };
    }
    await live.writes;
    this.live.delete(task.id);
    await this.store.missSteers(task.id);
    const patch = {
      endedAt: Date.now(),
      exitReason: result.exitReason,
      apiCalls: result.apiCalls,
      usage: result.usage,
      currentTool: '',
      ...(result.final ? { summary: result.final } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
    };
    const status: TaskStatus = result.status;
    try {
      this.ended(await this.store.transition(task.id, 'running', status, patch));
    } catch {
      // Already cancelled (or taken over): the first terminal status stands.
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

export function newTaskId(): string {
  return `t_${randomBytes(4).toString('hex')}`;
}

export function newSessionId(): string {
  return `s_${randomBytes(6).toString('hex')}`;
}
