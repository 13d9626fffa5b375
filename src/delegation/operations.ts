import { type BudgetInput, budgetFrom } from '../budget/budget.js';
import { recordBudgetStatus, recordedSpend } from '../budget/budget-view.js';
import { LegateError } from '../errors.js';
import { childSandboxMode, type SandboxMode } from '../sandbox/modes.js';
import { newTaskId } from '../tasks/task-ids.js';
import type { TaskRecord, TaskSpec } from '../tasks/task-record.js';
import { collectTask } from './collect-task.js';
import { define, type Operation, type OperationContext } from './operation.js';
import { fitResult } from './result-fit.js';
import {
  cancelTaskParameters,
  checkTaskParameters,
  delegateTaskAsyncParameters,
  delegateTaskParameters,
  listTasksParameters,
  steerTaskParameters,
} from './schemas.js';
import type { DelegationSession } from './session.js';
import { defaultMaxSummaryChars } from './summary-cap.js';
import { batchResultView, checkView, listView, listViewLimit, spawnView, summaryPage } from './views.js';
import { worktreeViews } from './worktree-view.js';

export { collectTask } from './collect-task.js';
export type { Operation, OperationContext } from './operation.js';

function childSpec(
  session: DelegationSession,
  goal: string,
  context: string | undefined,
  route: string | undefined,
  mode: TaskSpec['mode'],
  toolsets?: string[],
  sandbox?: SandboxMode,
): TaskSpec {
  if (session.sessionId.kind !== 'session') throw new LegateError('invalid_arguments', 'tasks are spawned by an agent session, not by the operator');
  if (session.depth >= session.maxSpawnDepth) {
    throw new LegateError(
      'depth_limit',
      `delegation depth limit reached: this agent is at depth ${session.depth} and delegation.max_spawn_depth is ${session.maxSpawnDepth}`,
    );
  }
  if (toolsets) {
    const unknown = toolsets.filter((name) => !session.toolsets.includes(name));
    if (unknown.length > 0) {
      throw new LegateError(
        'invalid_arguments',
        `toolsets ${unknown.map((name) => `"${name}"`).join(', ')} not available to this agent; available: ${session.toolsets.join(', ')}`,
      );
    }
  }
  // The `sandbox` argument may only narrow; a route's `sandbox` caps its children's mode.
  const childSandbox =
    session.sandbox === undefined ? undefined : childSandboxMode(session.sandbox, sandbox, route === undefined ? undefined : session.routeSandbox?.(route));
  return {
    goal,
    ...(context ? { context } : {}),
    ...(childSandbox ? { sandbox: childSandbox } : {}),
    ...(route ? { route } : {}),
    toolsets: toolsets ?? session.toolsets,
    model: session.childModel(route),
    depth: session.depth + 1,
    sessionId: session.sessionId.sessionId,
    mode,
    cwd: session.cwd,
  };
}

/** `spec` with the budget it gets: asked (or the default), capped by its ancestors; throws when none is left. */
async function withBudget(session: DelegationSession, spec: TaskSpec, asked: BudgetInput | undefined): Promise<TaskSpec> {
  if (!session.budgets) return spec;
  const budget = await session.budgets.forChild(spec.sessionId, spec.model, budgetFrom(asked), session.childBudget);
  return budget ? { ...spec, budget } : spec;
}

/** `spec` with the trace context of the delegation call spawning it, when tracing is on. */
function withTrace(session: DelegationSession, spec: TaskSpec, context: OperationContext): TaskSpec {
  const traceparent = context.toolCallId === undefined ? undefined : session.traceparent?.(context.toolCallId);
  return traceparent ? { ...spec, traceparent } : spec;
}

/** `tree_tokens`: what the task and everything it spawned spent (the store's budget counters), once charged. */
function treeTokens(task: TaskRecord | undefined): { tree_tokens?: number } {
  return task?.spend ? { tree_tokens: task.spend.tokens } : {};
}

/** The budget status of `task` (its tree's spend against its budget), when it has a budget. */
async function budgetOf(session: DelegationSession, task: TaskRecord): Promise<object | undefined> {
  if (!task.budget || !session.budgets) return undefined;
  // Seconds as the views count them: an ended task's stop at its end.
  return recordBudgetStatus(task, { ...(await session.budgets.treeSpend(task)), seconds: recordedSpend(task).seconds });
}

type Isolation = 'none' | 'worktree';

/** Where a child works: the call's `isolation`, else its route's, else `delegation.isolation`, else `none`. */
function isolationOf(session: DelegationSession, asked: Isolation | undefined, route: string | undefined): Isolation {
  return asked ?? (route === undefined ? undefined : session.routeIsolation?.(route)) ?? session.isolation ?? 'none';
}

/**
 * Spawn `spec`; with isolation `worktree` (`isolationOf`), first a git worktree of the repository
 * holding the parent's cwd, on `legate/<task_id>`, where the child works. A parent that is
 * not in a git repository gets `not_a_repository` and nothing is spawned. A child without one of its
 * own works in its parent's cwd: a child in a worktree shares it with its children that ask for none.
 */
async function spawnChild(session: DelegationSession, spec: TaskSpec, asked: Isolation | undefined): Promise<TaskRecord> {
  if (isolationOf(session, asked, spec.route) === 'none') return session.service.spawn(spec);
  if (!session.worktrees) throw new LegateError('invalid_arguments', 'isolation "worktree" is not available to this agent');
  const id = newTaskId();
  const worktree = await session.worktrees.create(session.cwd, id);
  return session.service.spawn({ ...spec, worktree }, id);
}

export const delegateTask = define({
  name: 'delegate_task',
  description:
    'Delegate work to child agents and WAIT for them. Give one goal (+context), or tasks: [{goal, context}] to run several side by side. ' +
    'Each child starts with a fresh conversation: it sees only its goal and context, never this conversation. ' +
    "Returns only each child's final summary. Use delegate_task_async instead for long work you do not want to wait on.",
  parameters: delegateTaskParameters,
  async run(args, session, context) {
    const started = Date.now();
    const entries = args.tasks ?? [
      { goal: args.goal!, context: args.context, route: args.route, sandbox: args.sandbox, budget: args.budget, isolation: args.isolation },
    ];
    // Every child's spec and budget first: a refusal spawns none of the batch.
    const specs: TaskSpec[] = [];
    for (const entry of entries) {
      const spec = childSpec(session, entry.goal, entry.context, entry.route, 'sync', undefined, entry.sandbox);
      specs.push(withTrace(session, await withBudget(session, spec, entry.budget), context));
    }
    if (session.worktrees && entries.some((entry) => isolationOf(session, entry.isolation ?? args.isolation, entry.route) === 'worktree')) {
      await session.worktrees.repositoryOf(session.cwd); // not a repository: refused before any child starts
    }
    const tasks: TaskRecord[] = [];
    for (const [index, spec] of specs.entries()) tasks.push(await spawnChild(session, spec, entries[index]!.isolation ?? args.isolation));
    const cancelAll = (): void => {
      for (const task of tasks) void session.service.cancel(session.sessionId, task.id).catch(() => {}); // a task that ended meanwhile has nothing to cancel
    };
    context.signal.addEventListener('abort', cancelAll, { once: true });
    let done = 0;
    try {
      const ended = await Promise.all(
        tasks.map(async (task) => {
          const { task: final } = await session.service.waitForEnd(session.sessionId, task.id, 2 ** 31 - 1, context.signal);
          context.progress?.(++done, tasks.length, `task ${final.id} ${final.status}`);
          await session.service.markReported(session.sessionId, task.id);
          return final;
        }),
      );
      const views = await worktreeViews(ended, session);
      // The batch's summaries share one cap and the tool output cap: a long one is cut to its share, head and tail.
      const total_duration_seconds = Math.round((Date.now() - started) / 100) / 10;
      return fitResult(
        ended.map((task) => ({ summaryLength: task.summary?.length ?? 0, output: [] })),
        session.maxSummaryChars ?? defaultMaxSummaryChars,
        (shares) => ({
          results: ended.map((task, index) => ({ ...batchResultView(task, index, session, shares[index]), ...views.get(task.id) })),
          total_duration_seconds,
        }),
      );
    } finally {
      context.signal.removeEventListener('abort', cancelAll);
    }
  },
});

export const delegateTaskAsync = define({
  name: 'delegate_task_async',
  description:
    'Start a child agent in the BACKGROUND and return its task_id at once; keep working meanwhile. ' +
    'The child sees only goal and context (not this conversation). Then: check_task to see progress, steer_task to redirect it, ' +
    'collect_task to get its summary, cancel_task to stop it. When it ends you also get a notice.',
  parameters: delegateTaskAsyncParameters,
  async run(args, session, context) {
    const spec = childSpec(session, args.goal, args.context, args.route, 'async', args.toolsets, args.sandbox);
    const task = await spawnChild(session, withTrace(session, await withBudget(session, spec, args.budget), context), args.isolation);
    return { ...spawnView(task), ...(task.worktree ? { worktree: { branch: task.worktree.branch, path: task.worktree.path } } : {}) };
  },
});

export const checkTask = define({
  name: 'check_task',
  description: "Non-blocking: a background task's status, elapsed time, API calls, current tool and the last 10 lines of its output.",
  parameters: checkTaskParameters,
  async run(args, session) {
    const { task, output, steers } = await session.service.trail(session.sessionId, args.task_id, 10);
    const siblings = task.worktree ? await session.service.list(session.sessionId, { limit: listViewLimit }) : [];
    const views = await worktreeViews([task, ...siblings.filter((sibling) => sibling.id !== task.id)], session);
    const page = args.offset !== undefined ? summaryPage(task, args.offset, session.maxSummaryChars ?? defaultMaxSummaryChars) : {};
    return { ...checkView(task, output, steers, session, await budgetOf(session, task)), ...treeTokens(task), ...views.get(task.id), ...page };
  },
});

export const steerTask = define({
  name: 'steer_task',
  description:
    "Send guidance to a running background task. It is delivered at the child's next model call; " +
    'check_task/collect_task later show whether it was delivered or missed.',
  parameters: steerTaskParameters,
  async run(args, session) {
    const steer = await session.service.steer(session.sessionId, args.task_id, args.message);
    return { ok: true, task_id: args.task_id, delivery: 'queued', steer_id: steer.id, note: "delivered at the child's next model call" };
  },
});

export const cancelTask = define({
  name: 'cancel_task',
  description: 'Stop a background task now: aborts its in-flight model call and tool. Its partial output is kept.',
  parameters: cancelTaskParameters,
  async run(args, session) {
    const task = await session.service.cancel(session.sessionId, args.task_id);
    const { output } = await session.service.trail(session.sessionId, task.id);
    await session.service.markReported(session.sessionId, task.id);
    return { ok: true, task_id: task.id, status: task.status, output_preview: output.slice(-10), api_calls: task.apiCalls };
  },
});

export const listTasks = define({
  name: 'list_tasks',
  description: "List this session's background tasks (optionally only one status).",
  parameters: listTasksParameters,
  async run(args, session) {
    const filter = args.status ? { status: [args.status as TaskRecord['status']] } : {};
    // Read only the rows shown; count the rest in the store.
    const tasks = await session.service.list(session.sessionId, { ...filter, limit: listViewLimit });
    const budgets = new Map<string, object>();
    for (const task of tasks) {
      const budget = await budgetOf(session, task);
      if (budget) budgets.set(task.id, budget);
    }
    const view = listView(tasks, tasks.length < listViewLimit ? tasks.length : await session.service.count(session.sessionId, filter), budgets);
    const views = await worktreeViews(tasks, session);
    const byId = new Map(tasks.map((task) => [task.id, task]));
    return {
      ...view,
      tasks: (view.tasks as { task_id: string }[]).map((row) => ({ ...row, ...treeTokens(byId.get(row.task_id)), ...views.get(row.task_id) })),
    };
  },
});

/** The `delegation` toolset. */
export const delegationOperations: Operation[] = [delegateTask];
/** The `async_delegation` toolset. */
export const asyncDelegationOperations: Operation[] = [delegateTaskAsync, checkTask, steerTask, collectTask, cancelTask, listTasks];
