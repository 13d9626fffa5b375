import type { AgentEvent, RunResult } from '../agent/events.js';
import type { SteeringSource } from '../agent/steering.js';
import { errorMessage } from '../errors.js';
import { addUsage, type Message, type Usage } from '../provider/types.js';
import { outputLinesFor, oneLine } from './output-lines.js';
import type { TaskStore, TransitionPatch } from './store/task-store.js';
import type { TaskEvent } from './task-events.js';
import type { TaskProgress, TaskRecord } from './task-record.js';

/** What a runner needs to run one task's child agent. */
export interface RunControl {
  signal: AbortSignal;
  steering: SteeringSource;
  emit(event: AgentEvent): void;
  /** The checkpointed conversation after the brief, when resuming; undefined for a fresh start. */
  resumeFrom?: Message[];
  /** Resolves when every store write issued for the task so far has settled (the loop's `persisted`). */
  persisted(): Promise<void>;
}

/** Executes a task's child agent. Must resolve (never reject) with the run's result. */
export interface TaskRunner {
  run(task: TaskRecord, control: RunControl): Promise<RunResult>;
}

/** A task this process is running. */
export interface LiveTask {
  controller: AbortController;
  /** Settles when every store write issued for the task so far has: the final status waits for it. */
  writes: Promise<void>;
  /** Set when the process hands the task back (shutdown): it ends `interrupted`, not cancelled. */
  handBack: boolean;
  /** Resolves when the run is over and its final status written. */
  finished: Promise<void>;
}

/**
 * Run one task to its end: stream the child's events into the store (output lines, progress,
 * checkpoints), then write its terminal status. `task` carries the counters so far (non-zero when
 * resuming). Returns the final transition's patch and status, or undefined when the task was
 * already moved elsewhere (cancelled, or taken over).
 */
export async function executeTask(
  task: TaskRecord,
  live: LiveTask,
  deps: { store: TaskStore; runner: TaskRunner; signal: AbortSignal; announce: (event: TaskEvent) => void; resumeFrom?: Message[] },
): Promise<{ status: RunResult['status'] | 'interrupted'; patch: TransitionPatch }> {
  const { store } = deps;
  const base = { apiCalls: task.apiCalls, usage: task.usage };
  let apiCalls = task.apiCalls;
  // Writes are issued in event order without waiting for each other (a store applies one task's
  // calls in the order they are made); `live.writes` settles when all issued so far have.
  const write = (action: () => Promise<unknown>): void => {
    const done = Promise.resolve().then(action).then(() => undefined, () => undefined);
    live.writes = Promise.all([live.writes, done]).then(() => undefined);
  };
  // Output lines and progress of one burst of events (a reply: its text, usage; a tool: start or
  // finish) accumulate and go to the store in one write.
  let pending: { lines: string[]; progress: TaskProgress } | undefined;
  const record = (lines: string[], progress: TaskProgress = {}): void => {
    if (!pending) {
      const batch = (pending = { lines: [], progress: {} });
      write(() => {
        pending = undefined;
        return store.appendOutput(task.id, batch.lines, batch.progress);
      });
    }
    pending.lines.push(...lines);
    Object.assign(pending.progress, progress);
  };
  const steering: SteeringSource = {
    pull: async () => {
      await live.writes;
      return (await store.takeSteers(task.id)).map((steer) => steer.message);
    },
  };
  const emit = (event: AgentEvent): void => {
    const lines = outputLinesFor(event);
    if (event.type === 'tool.started') {
      record(lines, { currentTool: event.name, lastActivity: `→ ${event.name}` });
      deps.announce({ type: 'task.activity', taskId: task.id, sessionId: task.sessionId, activity: event.name });
    } else if (event.type === 'tool.finished') {
      record(lines, { currentTool: '', lastActivity: `← ${event.name}` });
    } else if (event.type === 'model.finished') {
      record(lines);
      const activity = event.text.trim() ? oneLine(event.text, 80) : `model call ${event.iteration}`;
      deps.announce({ type: 'task.activity', taskId: task.id, sessionId: task.sessionId, activity });
    } else if (event.type === 'usage') {
      record([], { apiCalls: ++apiCalls, usage: addUsage(base.usage, event.total) });
    } else if (event.type === 'step.completed') {
      write(() => store.appendCheckpoint(task.id, { iteration: event.iteration, messages: event.messages }));
    } else if (lines.length > 0) {
      record(lines);
    }
  };

  let result: RunResult;
  try {
    const persisted = (): Promise<void> => live.writes;
    result = await deps.runner.run(task, { signal: deps.signal, steering, emit, persisted, ...(deps.resumeFrom ? { resumeFrom: deps.resumeFrom } : {}) });
  } catch (error) {
    result = { status: 'failed', exitReason: 'error', error: `internal error: ${errorMessage(error)}`, final: '', messages: [], usage: { inputTokens: 0, outputTokens: 0 }, apiCalls: 0, iterations: 0 };
  }
  await live.writes;
  const totals: { apiCalls: number; usage: Usage } = { apiCalls: base.apiCalls + result.apiCalls, usage: addUsage(base.usage, result.usage) };
  if (live.handBack) {
    return { status: 'interrupted', patch: { ...totals, currentTool: '', owner: undefined, leaseExpiresAt: undefined } };
  }
  await store.missSteers(task.id);
  return {
    // A run that ran out of output tokens has no answer, whatever its runner said.
    status: result.exitReason === 'max_tokens' ? 'failed' : result.status,
    patch: {
      ...totals,
      endedAt: Date.now(),
      exitReason: result.exitReason,
      currentTool: '',
      ...(result.final ? { summary: result.final } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
    },
  };
}
