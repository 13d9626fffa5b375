import type { CompactionRecord } from '../agent/context/prepare-context.js';
import type { AgentEvent, RunResult } from '../agent/events.js';
import type { SteeringSource } from '../agent/steering.js';
import { errorMessage, type LegateError } from '../errors.js';
import { addUsage, type Message, totalTokens, type Usage } from '../provider/types.js';
import type { ApprovalGate } from '../sandbox/approval-gate.js';
import { defaultSandboxMode } from '../sandbox/modes.js';
import { oneLine, outputLinesFor } from './output-lines.js';
import type { TaskStore, TransitionPatch } from './store/task-store.js';
import { type ApprovalSettings, type BudgetAsk, parkingGate } from './task-approvals.js';
import type { TaskEvent } from './task-events.js';
import type { Fence, TaskProgress, TaskRecord } from './task-record.js';

/** What a runner needs to run one task's child agent. */
export interface RunControl {
  signal: AbortSignal;
  steering: SteeringSource;
  emit(event: AgentEvent): void;
  /** The checkpointed conversation after the brief, when resuming; undefined for a fresh start. */
  resumeFrom?: Message[];
  /** The latest compaction in the checkpoint log, when resuming: the context continues from it (docs/compaction.md). */
  compaction?: CompactionRecord;
  /** Store a compaction as a checkpoint step of its own, in order with the run's other writes (the context step's `onRecord`). */
  recordCompaction(record: CompactionRecord): void;
  /**
   * Resolves when every store write issued for the task so far has been written (the loop's
   * `persisted`). Rejects, with `signal` aborted, once a write failed or was refused: the run must stop.
   */
  persisted(): Promise<void>;
  /**
   * Where the child's sandbox `ask` decisions go: its task parks `input_required` until a human
   * answers (`agent.approval: on-request`). Absent: they are refused at once.
   */
  approvals?: ApprovalGate;
  /**
   * Where a budget that ran out goes (`agent.approval: on-request`): the task parks with a `budget`
   * approval until a human raises it or denies. Absent: the task ends `budget_exceeded` at once.
   */
  askBudget?: BudgetAsk;
}

/** Executes a task's child agent. Must resolve (never reject) with the run's result. */
export interface TaskRunner {
  run(task: TaskRecord, control: RunControl): Promise<RunResult>;
}

/** What executing a task needs of its run (`TaskRun`): the claim's fence, its ordered writes, its failure and hand-back. */
export interface RunState {
  readonly fence: Fence;
  /** The first write that failed or was refused, or the lost lease: nothing more is written. */
  readonly failure: LegateError | undefined;
  /** The process hands the task back: it ends `interrupted`. */
  readonly handedBack: boolean;
  /** Issue a write in order after the previous ones; a failure stops the run. */
  write(what: string, action: () => Promise<unknown>): void;
  /** Record `error` from `what` as the run's failure; returns the failure that stands. */
  failed(what: string, error: unknown): LegateError;
  /** Settles when every write issued so far has (never rejects). */
  written(): Promise<void>;
  /** Resolves once every write issued so far is written; rejects with the failure once one failed. */
  persisted(): Promise<void>;
}

/** How a run ends: a final transition to make (fenced), or nothing to write (the task was lost). */
export type RunEnd = { status: RunResult['status'] | 'interrupted'; patch: TransitionPatch } | { lost: LegateError };

/**
 * Run one task to its end: stream the child's events into the store (output lines, progress,
 * checkpoints), each write fenced with the run's owner and epoch, then return how it ended.
 * `task` carries the counters so far (non-zero when resuming); `resume` where the checkpoint stands.
 * A write that fails stops the child: `lease_lost` (refused) means the task is no longer this
 * process's, and nothing more is written for it; any other failure ends the task `failed` saying so.
 */
export async function executeTask(
  task: TaskRecord,
  run: RunState,
  deps: {
    store: TaskStore;
    runner: TaskRunner;
    signal: AbortSignal;
    announce: (event: TaskEvent) => void;
    /**
     * Where the checkpoint stands: the conversation to continue (`messages`, repaired), how many
     * steps are stored, the messages the repair added (stored first, as a step of their own, so the
     * log stays the conversation the loop runs) and the latest compaction.
     */
    resume?: { messages: Message[]; steps: number; iterations?: number; repaired?: Message[]; compaction?: CompactionRecord };
    /** `agent.approval: on-request`: the child's `ask` decisions park the task; absent, they are refused. */
    approvals?: ApprovalSettings;
    /** USD of `usage` on `model` (undefined: no price): each model call's spend is charged to the store's budget counters. */
    costOf?: (usage: Usage, model: string) => number | undefined;
  },
): Promise<RunEnd> {
  const { store } = deps;
  const { fence } = run;
  const base = { apiCalls: task.apiCalls, usage: task.usage };
  /** The run's own usage so far (the loop's total): model calls, and bytes the web tools fetched. */
  let runUsage: Usage = { inputTokens: 0, outputTokens: 0 };
  let apiCalls = task.apiCalls;
  let outputLines = task.outputLines;
  let step = deps.resume?.steps ?? 0;
  let iteration = deps.resume?.iterations ?? 0;
  // Writes are issued in event order without waiting for each other (a store applies one task's
  // calls in the order they are made), through the run, which stops issuing them after a failure.
  const write = (what: string, action: () => Promise<unknown>): void => run.write(what, action);
  const settled = (): Promise<void> => run.persisted();
  // Output lines and progress of one burst of events (a reply: its text, usage; a tool: start or
  // finish) accumulate and go to the store in one write.
  let pending: { lines: string[]; progress: TaskProgress; at: number } | undefined;
  const record = (lines: string[], progress: TaskProgress = {}): void => {
    if (!pending) {
      const batch = (pending = { lines: [], progress: {}, at: outputLines });
      write('output', () => {
        pending = undefined;
        return store.appendOutput(task.id, batch, fence);
      });
    }
    pending.lines.push(...lines);
    outputLines += lines.length;
    Object.assign(pending.progress, progress);
  };
  const steering: SteeringSource = {
    pull: async () => {
      await settled();
      const steers = await store.takeSteers(task.id, fence).catch((error: unknown) => Promise.reject(run.failed('taking steers', error)));
      return steers.map((steer) => steer.message);
    },
  };
  const checkpoint = (at: number, messages: Message[], compaction?: CompactionRecord): void => {
    const stored = { step: step++, iteration: at, messages, ...(compaction ? { compaction } : {}) };
    write(compaction ? `compaction step ${stored.step}` : `checkpoint step ${stored.step}`, () => store.appendCheckpoint(task.id, stored, fence));
  };
  // The results a resume gave the calls in flight at the crash: stored before anything else.
  if (deps.resume?.repaired?.length) checkpoint(iteration, deps.resume.repaired);
  const emit = (event: AgentEvent): void => {
    const lines = outputLinesFor(event);
    if (event.type === 'model.started') iteration = event.iteration;
    if (event.type === 'tool.started') {
      record(lines, { currentTool: event.name, lastActivity: `→ ${event.name}` });
      deps.announce({ type: 'task.activity', taskId: task.id, sessionId: task.sessionId, activity: event.name });
    } else if (event.type === 'tool.finished') {
      // The loop counts a web tool's bytes in its usage total at once; so does the stored usage.
      if (event.fetchedBytes) runUsage = addUsage(runUsage, { inputTokens: 0, outputTokens: 0, fetchedBytes: event.fetchedBytes });
      record(lines, { currentTool: '', lastActivity: `← ${event.name}`, ...(event.fetchedBytes ? { usage: addUsage(base.usage, runUsage) } : {}) });
    } else if (event.type === 'model.finished') {
      record(lines);
      const activity = event.text.trim() ? oneLine(event.text, 80) : `model call ${event.iteration}`;
      deps.announce({ type: 'task.activity', taskId: task.id, sessionId: task.sessionId, activity });
    } else if (event.type === 'usage') {
      runUsage = event.total;
      const usage = addUsage(base.usage, event.total);
      record([], { apiCalls: ++apiCalls, usage });
      // The budget counters of the task and its ancestors, in one atomic write of its own.
      const { costOf } = deps;
      if (costOf) {
        const cost = costOf(usage, task.model);
        const own = { tokens: totalTokens(usage), costUsd: cost ?? 0, ...(cost === undefined ? { unpriced: true as const } : {}) };
        write('budget spend', () => store.chargeSpend(task.id, own, fence));
      }
    } else if (event.type === 'context.used') {
      const compactions = (task.contextUse?.compactions ?? 0) + event.compactions;
      record([], { contextUse: { tokens: event.tokens, ...(event.window !== undefined ? { window: event.window } : {}), compactions } });
    } else if (event.type === 'step.completed') {
      iteration = event.iteration;
      checkpoint(event.iteration, event.messages);
    } else if (lines.length > 0) {
      record(lines);
    }
  };

  const approvals =
    deps.approvals &&
    parkingGate({
      ...deps.approvals,
      store,
      taskId: task.id,
      fence,
      signal: deps.signal,
      handingBack: () => run.handedBack,
      announce: deps.announce,
      note: (line) => record([line]),
      mode: task.sandbox ?? defaultSandboxMode,
    });
  let result: RunResult;
  try {
    result = await deps.runner.run(task, {
      signal: deps.signal,
      steering,
      emit,
      persisted: settled,
      recordCompaction: (record) => checkpoint(iteration, [], record),
      ...(deps.resume ? { resumeFrom: deps.resume.messages } : {}),
      ...(deps.resume?.compaction ? { compaction: deps.resume.compaction } : {}),
      ...(approvals ? { approvals: approvals.sandbox, askBudget: approvals.budget } : {}),
    });
  } catch (error) {
    result = {
      status: 'failed',
      exitReason: 'error',
      error: `internal error: ${errorMessage(error)}`,
      final: '',
      messages: [],
      usage: { inputTokens: 0, outputTokens: 0 },
      apiCalls: 0,
    };
  }
  await run.written();
  const failure = run.failure;
  if (failure?.code === 'lease_lost') return { lost: failure };
  const totals: { apiCalls: number; usage: Usage } = { apiCalls: base.apiCalls + result.apiCalls, usage: addUsage(base.usage, result.usage) };
  if (failure) {
    return { status: 'failed', patch: { ...totals, endedAt: Date.now(), exitReason: 'error', currentTool: '', error: failure.toString() } };
  }
  if (run.handedBack) {
    // endedAt: when it stopped running, so its elapsed time stops growing (cleared when it runs again).
    return { status: 'interrupted', patch: { ...totals, currentTool: '', owner: undefined, leaseExpiresAt: undefined, endedAt: Date.now() } };
  }
  return {
    // A run that ran out of output tokens has no answer, whatever its runner said.
    status: result.exitReason === 'max_tokens' ? 'failed' : result.status,
    patch: {
      ...totals,
      endedAt: Date.now(),
      exitReason: result.exitReason,
      currentTool: '',
      ...(result.exitReason === 'timeout' ? { cancelledBy: 'timeout' as const } : {}),
      ...(result.final ? { summary: result.final } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
    },
  };
}
