import { compactingContext } from '../agent/context/prepare-context.js';
import type { RunResult } from '../agent/events.js';
import { runAgentLoop } from '../agent/loop.js';
import { withDeadline } from '../budget/deadline-signal.js';
import { requestOptionsFor } from '../config/endpoints.js';
import { LegateError } from '../errors.js';
import { refuseApprovals } from '../sandbox/approval-gate.js';
import type { TaskRecord } from '../tasks/task-record.js';
import type { RunControl, TaskRunner } from '../tasks/task-service.js';
import type { ChildEnvironment } from './child-environment.js';
import { childBrief, childSystemPrompt } from './child-prompt.js';

/** The last turn of a child out of model calls: its summary reaches the parent instead of nothing. */
export const limitSummaryTurn =
  '[You have used all the model calls this task allows (max_iterations); no more tool calls can run.] ' +
  'Reply now, without tools, with a summary for the agent that delegated this task: what you did, what you found, ' +
  'which files you changed, and what is left to do.';

/**
 * Runs a task's child in this process: the same agent loop with a fresh conversation (only the
 * goal and context), the parent's provider settings and credential pool (or the route's), and the
 * parent's toolsets minus what children may not have.
 */
export class ChildRunner implements TaskRunner {
  constructor(private readonly environment: ChildEnvironment) {}

  async run(task: TaskRecord, control: RunControl): Promise<RunResult> {
    const environment = this.environment;
    const worktree = task.worktree;
    // A resumed task continues in its worktree; one that is gone (a worker without the repository
    // at that path) fails now, saying so.
    if (worktree) {
      const missing = await environment.worktrees.requirePresent(worktree.path).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
      if (missing) return failedRun(missing.toString());
    }
    // A route may name something other than a model (an ACP agent): the runtime supplies its runner.
    const other = task.route === undefined ? undefined : environment.runnerFor(task.route);
    const result = other ? await runGuarded(other, task, control, environment.budgets) : await this.runModel(task, control);
    // Its changes are committed on its branch (none: the worktree and branch are removed, unless it
    // failed: it may be resumed there), also when it was cancelled (its partial result is kept).
    // Not when it was handed back or stopped by shutdown: a resumed run continues in the worktree.
    const reason: unknown = control.signal.reason;
    const cancelled = reason instanceof LegateError && reason.details?.cancelled === true;
    if (worktree && (!control.signal.aborted || cancelled)) {
      try {
        await environment.worktrees.finish(worktree, task.goal, result.status !== 'completed');
      } catch (error) {
        return { ...result, status: 'failed', exitReason: 'error', error: `committing the worktree failed: ${(error as Error).message}` };
      }
    }
    return result;
  }

  /** The agent loop on the task's endpoint, in its worktree (its own, or its parent's it inherits) if it has one. */
  private async runModel(task: TaskRecord, control: RunControl): Promise<RunResult> {
    const environment = this.environment;
    const endpoint = environment.childEndpoint(task.route);
    const root = task.worktree?.path ?? environment.worktrees.worktreeContaining(task.cwd);
    const tools = environment.liveToolsFor({
      sessionId: task.id,
      depth: task.depth,
      toolsets: task.toolsets ?? environment.agentToolsets,
      ...(task.sandbox ? { sandbox: task.sandbox } : {}),
      ...(root ? { cwd: root } : {}),
    });
    const brief = { role: 'user' as const, content: childBrief(task) };
    const provider = environment.provider(endpoint);
    const settings = environment.compaction;
    // The window: configured, learned by this process, or the built-in table's; unknown: reactive
    // only (the provider's context-length error teaches it, and the process remembers).
    const windows = environment.contextWindows;
    const at = { baseUrl: endpoint.baseUrl, model: task.model, contextWindow: endpoint.contextWindow };
    const known = windows ? windows.windowFor(at) : endpoint.contextWindow !== undefined ? { window: endpoint.contextWindow } : undefined;
    const contextWindow = (): number | undefined => (windows ? windows.windowFor(at)?.window : known?.window);
    const prepareContext = settings
      ? compactingContext({
          provider,
          model: settings.model ?? task.model,
          contextWindow: known?.window ?? Number.MAX_SAFE_INTEGER,
          reserveTokens: settings.reserve_tokens,
          threshold: settings.threshold,
          keepToolTokens: settings.keep_tool_tokens,
          keepRecentTokens: settings.keep_recent_tokens,
          ...(windows ? { onLearned: (window: number) => windows.learn(at.baseUrl, at.model, window) } : {}),
          // Durable: a resumed task continues from its latest compaction; each new one is a checkpoint step.
          ...(control.compaction ? { latest: control.compaction } : {}),
          onRecord: control.recordCompaction,
        })
      : undefined;
    // Budgets: checked before each model and tool call; a `seconds` one also aborts the call in
    // flight, unless a human may raise it (on-request): the task then parks at its next call.
    const ask = control.askBudget;
    const guard = environment.budgets?.guardFor(task, { settled: control.persisted, ...(ask ? { ask } : {}) });
    const deadline = ask ? undefined : await environment.budgets?.deadline(task);
    const bounded = deadline ? withDeadline(control.signal, deadline) : undefined;
    let result: Awaited<ReturnType<typeof runAgentLoop>>;
    try {
      result = await runAgentLoop({
        provider,
        model: task.model,
        system: childSystemPrompt(task),
        messages: [brief, ...(control.resumeFrom ?? [])],
        tools,
        cwd: root ?? task.cwd,
        // A child never reaches the parent's own approval prompt: its task parks (on-request) or the call is refused.
        io: environment.ioFor(task.sandbox, control.approvals ?? refuseApprovals, root),
        // A resumed task has already used some of its model calls.
        maxIterations: Math.max(1, environment.childMaxIterations - task.apiCalls),
        ...(endpoint.maxTokens ? { maxTokens: endpoint.maxTokens } : {}),
        requestOptions: requestOptionsFor(endpoint, task.sessionId),
        signal: bounded?.signal ?? control.signal,
        ...(guard ? { guard } : {}),
        steering: control.steering,
        emit: control.emit,
        persisted: control.persisted,
        summaryAtLimit: limitSummaryTurn,
        ...(prepareContext ? { prepareContext } : {}),
        contextWindow,
      });
    } finally {
      bounded?.dispose();
    }
    return result;
  }
}

/**
 * Run `task` on another runner (an ACP agent) within its budgets: refused at once when its tree
 * has nothing left (or, on-request, once a human raised it), and a `seconds` budget aborts it when
 * it runs out, ending it `budget_exceeded`. An ACP agent reports no usage: its tokens and cost
 * count nothing, so only `seconds` stops it once it runs.
 */
async function runGuarded(runner: TaskRunner, task: TaskRecord, control: RunControl, budgets: ChildEnvironment['budgets']): Promise<RunResult> {
  if (!budgets) return runner.run(task, control);
  const stop = await budgets.guardFor(task, control.askBudget ? { ask: control.askBudget } : {}).check();
  if (stop) return { ...failedRun(stop.message), exitReason: stop.exitReason };
  const deadline = await budgets.deadline(task);
  if (!deadline) return runner.run(task, control);
  const bounded = withDeadline(control.signal, deadline);
  try {
    const result = await runner.run(task, { ...control, signal: bounded.signal });
    const ranOut = bounded.signal.aborted && !control.signal.aborted && bounded.signal.reason === deadline.reason;
    return ranOut ? { ...result, status: 'failed', exitReason: 'budget_exceeded', error: deadline.reason.toString() } : result;
  } finally {
    bounded.dispose();
  }
}

function failedRun(error: string): RunResult {
  return { status: 'failed', exitReason: 'error', error, final: '', messages: [], usage: { inputTokens: 0, outputTokens: 0 }, apiCalls: 0 };
}
