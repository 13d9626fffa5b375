import type { RunResult } from '../agent/events.js';
import type { Spend } from '../budget/budget.js';
import { LegateError } from '../errors.js';
import { addUsage } from '../provider/types.js';
import type { RunControl, TaskRunner } from '../tasks/task-execution.js';
import type { TaskRecord } from '../tasks/task-record.js';
import type { TraceAttributes, Tracing } from './tracing.js';

export interface TracedRunnerOptions {
  tracing: Tracing;
  /** The wire (`gen_ai.provider.name`) a task's model calls go to. */
  providerOf(task: TaskRecord): string;
  /** What a task with a budget has spent (its tree), for `legate.budget.*`. */
  spend?(task: TaskRecord): Promise<Spend>;
}

/**
 * A runner whose every task run is an `invoke_agent` span, continuing the trace context stored with
 * the task at spawn (`TaskSpec.traceparent`): the same tree whether the task runs in the process
 * that spawned it, is resumed by `legate tasks resume`, taken over after a crash, or run by a
 * worker on another machine. The child's events feed the span; the inner runner sees no difference.
 */
export class TracedRunner implements TaskRunner {
  constructor(
    private readonly inner: TaskRunner,
    private readonly options: TracedRunnerOptions,
  ) {}

  async run(task: TaskRecord, control: RunControl): Promise<RunResult> {
    const trace = this.options.tracing.startAgent({
      name: task.route ?? 'child',
      agentId: task.id,
      conversationId: task.sessionId,
      provider: this.options.providerOf(task),
      model: task.model,
      ...(task.traceparent ? { traceparent: task.traceparent } : {}),
      attributes: {
        'legate.task.depth': task.depth,
        'legate.task.mode': task.mode,
        'legate.task.resumes': task.takeovers ?? 0,
        'legate.task.epoch': task.epoch,
        'legate.task.resumed': control.resumeFrom !== undefined,
      },
      input: task.context ? `${task.goal}\n\n${task.context}` : task.goal,
    });
    let result: RunResult | undefined;
    try {
      result = await this.inner.run(task, {
        ...control,
        emit: (event) => {
          trace.observe(event);
          control.emit(event);
        },
      });
      return result;
    } finally {
      // Its own usage as the run leaves it (the store's copy is written after the run).
      const spent = result ? { ...task, usage: addUsage(task.usage, result.usage) } : task;
      trace.end(result, { 'legate.task.status': statusOf(result, control.signal), ...(await this.budgetAttributes(spent)) });
    }
  }

  private async budgetAttributes(task: TaskRecord): Promise<TraceAttributes> {
    if (!task.budget || !this.options.spend) return {};
    const spend = await this.options.spend(task).catch(() => undefined); // unreadable: the span goes without it
    return {
      'legate.budget.tokens': task.budget.tokens,
      'legate.budget.cost_usd': task.budget.costUsd,
      'legate.budget.seconds': task.budget.seconds,
      'legate.budget.spent.tokens': spend?.tokens,
      'legate.budget.spent.cost_usd': spend?.costUsd,
      'legate.budget.spent.seconds': spend?.seconds,
    };
  }
}

/** The status the run leaves its task in: its result's, or `interrupted` when the process handed it back. */
function statusOf(result: RunResult | undefined, signal: AbortSignal): string {
  if (!result) return 'failed';
  const reason: unknown = signal.reason;
  if (result.status === 'cancelled' && reason instanceof LegateError && reason.code === 'aborted' && /handed back/.test(reason.message)) return 'interrupted';
  if (result.exitReason === 'max_tokens') return 'failed';
  return result.status;
}
