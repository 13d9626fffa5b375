import type { Command } from 'commander';
import { reportsUsage } from '../acp/acp-routes.js';
import { recordBudgetStatus, recordedSpend } from '../budget/budget-view.js';
import { formatIssues } from '../config/format-issues.js';
import { childBrief } from '../delegation/child-prompt.js';
import { contextLine } from '../delegation/context-view.js';
import { cancelTask, checkTask, collectTask, type Operation, steerTask } from '../delegation/operations.js';
import { operatorSession } from '../delegation/session.js';
import { cacheHitShare } from '../delegation/usage-view.js';
import { approvalView, elapsedSeconds } from '../delegation/views.js';
import { errorMessage, LegateError, quoted } from '../errors.js';
import type { Usage } from '../provider/types.js';
import type { Runtime } from '../runtime.js';
import { isTaskStatus, taskStatuses } from '../tasks/status.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator } from '../tasks/task-service.js';
import type { ToolCallTrace } from '../telemetry/tracing.js';
import { type GlobalOptions, openRuntime, openTaskDesk, type Streams, type TaskDesk } from './context.js';
import { approvalLines, registerTasksApprovals } from './tasks-approvals.js';
import { type BudgetStatus, budgetLines, registerTasksUsage } from './tasks-usage.js';
import { prunedBranchesText, pruneWorktreesOf, registerTasksWorktree, worktreeLines } from './tasks-worktree.js';
import { transcriptLines } from './transcript-view.js';
import { exitCodeFor } from './usage.js';

interface JsonOption {
  json?: boolean;
}

/**
 * `legate tasks list|show|collect|steer|cancel|approve|deny|resume|prune`: the operator's view of every task of this
 * LEGATE_HOME, from any process. Results are the same objects the agent tools return.
 */
export function registerTasks(program: Command, streams: Streams, setExit: (code: number) => void): void {
  const tasks = program
    .command('tasks')
    .description('list, inspect, collect, steer, cancel, approve or deny, resume and prune tasks of this LEGATE_HOME (any process)');
  const action =
    <Args extends unknown[]>(body: (desk: TaskDesk, ...args: Args) => Promise<number>, runsTasks = false) =>
    async (...args: [...Args, Record<string, unknown>, Command]): Promise<void> => {
      const command = args.at(-1) as Command;
      const options = command.optsWithGlobals() as GlobalOptions;
      // Only a command that runs a child here needs a runtime (a model, so a key) and the MCP servers' tools.
      const desk = runsTasks ? deskOf(await openRuntime(options, streams, { mcp: true })) : await openTaskDesk(options, streams);
      try {
        setExit(await body(desk, ...(args.slice(0, -1) as Args)));
      } catch (error) {
        streams.stderr.write(`legate: ${errorMessage(error)}\n`);
        // Bad arguments are usage errors, like the ones commander reports.
        setExit(exitCodeFor(error));
      } finally {
        await desk.close();
      }
    };
  const print = (value: unknown, json: boolean | undefined, text: string): void => {
    streams.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith('\n') ? text : `${text}\n`);
  };
  const run = async (operation: Operation, desk: TaskDesk, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const parsed = operation.parameters.safeParse(args);
    if (!parsed.success) throw new LegateError('invalid_arguments', formatIssues(parsed.error, args).join('; '));
    const session = {
      ...operatorSession(desk.tasks, desk.cwd, { prices: desk.config.prices, reportsUsage }),
      budgets: desk.budgets,
      maxSummaryChars: desk.config.delegation.max_summary_chars,
    };
    const trace = await operatorTrace(desk, operation.name, args);
    try {
      const result = await operation.run(parsed.data, session, { signal: new AbortController().signal });
      trace.end({ content: '', isError: false });
      return result;
    } catch (error) {
      trace.end({ content: error instanceof LegateError ? `${error.code}: ` : '', isError: true });
      throw error;
    }
  };

  tasks
    .command('list')
    .description("this directory's recent tasks")
    .option('--all', 'tasks of every directory and session')
    .option('--status <status>', `only this status (${taskStatuses.join(', ')})`)
    .option('--json', 'print JSON')
    .action(
      action(async (desk, options: { all?: boolean; status?: string } & JsonOption) => {
        if (options.status !== undefined && !isTaskStatus(options.status)) {
          throw new LegateError('invalid_arguments', `unknown status "${options.status}"; expected one of ${taskStatuses.join(', ')}`);
        }
        const list = await desk.tasks.list(operator, {
          ...(options.all ? {} : { cwd: desk.cwd }),
          ...(options.status ? { status: [options.status] } : {}),
          limit: 200,
        });
        const rows = list.map((task) => ({
          task_id: task.id,
          status: task.status,
          goal: task.goal.slice(0, 80),
          session_id: task.sessionId,
          cwd: task.cwd,
          elapsed_seconds: elapsedSeconds(task),
          api_calls: task.apiCalls,
          // What it and its descendants spent (the store's budget counters), and its budget with what is left.
          tree_tokens: recordedSpend(task).tokens,
          ...(recordBudgetStatus(task) ? { budget: recordBudgetStatus(task) } : {}),
          // The process that runs (or last ran) it: `host:pid:nonce:machine`, as `legate worker` prints it.
          ...(task.owner !== undefined && { worker: task.owner }),
          ...(approvalView(task) ? { approval: approvalView(task) } : {}),
        }));
        const waiting = list.filter((task) => task.status === 'input_required' && task.approval);
        const text =
          rows.length === 0
            ? `no tasks${options.all ? '' : ` in ${desk.cwd} (--all for every directory)`}`
            : [taskTable(rows, Boolean(options.all)), ...(waiting.length > 0 ? ['', ...waiting.flatMap(approvalLines)] : [])].join('\n');
        print({ tasks: rows }, options.json, text);
        return 0;
      }),
    );

  registerTasksUsage(tasks, action, print);
  registerTasksWorktree(tasks, action, print, taskIdArgument);

  tasks
    .command('prune')
    .description(
      'delete ended tasks (completed, failed, cancelled) of this LEGATE_HOME with their output, worktrees and branches; running and interrupted ones stay',
    )
    .option('--older-than <age>', 'only tasks that ended longer ago than this: 30m, 12h, 7d (a bare number is days)', '0')
    .option('--json', 'print JSON')
    .action(
      action(async (desk, options: { olderThan: string } & JsonOption) => {
        const ageMs = parseAge(options.olderThan);
        const cutoff = Date.now() - ageMs;
        const branches = await pruneWorktreesOf(desk, cutoff);
        const pruned = await desk.tasks.prune(operator, cutoff);
        const age = ageMs > 0 ? ` that ended more than ${options.olderThan.trim()}${/^[\d.]+$/.test(options.olderThan.trim()) ? ' days' : ''} ago` : '';
        print(
          { pruned, ...(branches.length > 0 ? { branches } : {}) },
          options.json,
          `pruned ${pruned} ended ${pruned === 1 ? 'task' : 'tasks'}${age}${prunedBranchesText(branches)}`,
        );
        return 0;
      }),
    );

  tasks
    .command('show')
    .argument('<id>', 'a task id', taskIdArgument)
    .description('status, progress and the full output buffer of a task (--transcript: its whole conversation, compactions marked)')
    .option('--transcript', 'the full conversation from the checkpoint log, with where each compaction happened and its hand-off')
    .option('--json', 'print JSON')
    .action(
      action(async (desk, id: string, options: JsonOption & { transcript?: boolean }) => {
        const view = await run(checkTask, desk, { task_id: id });
        const { task, output } = await desk.tasks.trail(operator, id);
        const checkpoint = options.transcript ? await desk.tasks.checkpoint(operator, id) : undefined;
        const text = [
          `${id}  ${String(view.status)}  ${String(view.elapsed_seconds)}s  ${modelCalls(Number(view.api_calls))}`,
          `goal: ${task.goal}`,
          ...(view.error ? [`error: ${String(view.error)}`] : []),
          ...(view.cancelled_by ? [`cancelled by: ${String(view.cancelled_by)}`] : []),
          usageLine(task.usage),
          ...(contextLine(task.contextUse) ? [contextLine(task.contextUse)!] : []),
          ...budgetLines(view.budget as BudgetStatus | undefined),
          ...(task.usage.fetchedBytes ? [`web: ${task.usage.fetchedBytes} bytes fetched`] : []),
          ...approvalLines(task),
          ...resumeLines(task),
          ...worktreeLines(task),
          '',
          ...(checkpoint ? transcriptLines(childBrief(task), checkpoint) : output),
          // The summary whole, however long (the parent got it capped at delegation.max_summary_chars).
          ...(task.summary ? ['', 'summary:', task.summary] : []),
        ].join('\n');
        const transcript = checkpoint && {
          transcript: { brief: childBrief(task), messages: checkpoint.messages, compactions: checkpoint.compactions ?? [] },
        };
        print(
          { ...view, can_resume: canResume(task), output, ...(task.summary !== undefined ? { summary: task.summary } : {}), ...transcript },
          options.json,
          text,
        );
        return 0;
      }),
    );

  tasks
    .command('collect')
    .argument('<ids...>', 'one task id, or several', (id: string, earlier: string[] = []) => [...earlier, taskIdArgument(id)])
    .description('wait for tasks to end and print their summaries (several ids: all of them, or the first with --any)')
    .option('--timeout <seconds>', 'give up waiting after this long (the tasks keep running)', '300')
    .option('--any', 'with several ids: return as soon as one has ended')
    .option('--json', 'print the collect_task object')
    .action(
      action(async (desk, ids: string[], options: { timeout: string; any?: boolean } & JsonOption) => {
        const timeout = Number(options.timeout);
        if (options.timeout.trim() === '' || !Number.isFinite(timeout))
          throw new LegateError('invalid_arguments', `--timeout must be a number of seconds (got "${options.timeout}")`);
        if (ids.length === 1 && !options.any) {
          const view = await run(collectTask, desk, { task_id: ids[0], timeout });
          print(view, options.json, collectText(view, options.timeout));
          return view.status === 'completed' ? 0 : 1;
        }
        const view = await run(collectTask, desk, { task_ids: ids, wait: options.any ? 'any' : 'all', timeout });
        const results = view.results as Record<string, unknown>[];
        // A summary gets its task id in front; the other lines already name it.
        const text = results
          .map((entry) => `${entry.status === 'completed' ? `${String(entry.task_id)}: ` : ''}${collectText(entry, options.timeout, Boolean(options.any))}`)
          .join('\n');
        print(view, options.json, text);
        // Success: nothing timed out, and every task that ended completed (with --any, the others may still run).
        const endedOk = results
          .filter((entry) => entry.status !== 'running' && entry.status !== 'queued' && entry.status !== 'input_required')
          .every((entry) => entry.status === 'completed');
        return !view.timed_out && endedOk ? 0 : 1;
      }),
    );

  tasks
    .command('steer')
    .argument('<id>', 'a task id', taskIdArgument)
    .argument('<message>')
    .description("queue a message for the task's next model call (the owning process picks it up)")
    .option('--json', 'print JSON')
    .action(
      action(async (desk, id: string, message: string, options: JsonOption) => {
        print(await run(steerTask, desk, { task_id: id, message }), options.json, `steer queued for ${id}: delivered at its next model call`);
        return 0;
      }),
    );

  tasks
    .command('cancel')
    .argument('<id>', 'a task id', taskIdArgument)
    .description('stop a task now (the owning process aborts it within a second)')
    .option('--json', 'print JSON')
    .action(
      action(async (desk, id: string, options: JsonOption) => {
        print(await run(cancelTask, desk, { task_id: id }), options.json, `${id} cancelled`);
        return 0;
      }),
    );

  registerTasksApprovals(tasks, action, print, taskIdArgument);

  tasks
    .command('resume')
    .argument('<id>', 'a task id', taskIdArgument)
    .description('continue an interrupted or failed task in this process from its last checkpoint, and print its result')
    .option('--json', 'print the collect_task object')
    .action(
      action(async (desk, id: string, options: JsonOption) => {
        await desk.tasks.resume(operator, id);
        streams.stderr.write(`  resumed ${id} from its last checkpoint\n`);
        const view = await run(collectTask, desk, { task_id: id, timeout: 365 * 86_400 });
        const status = String(view.status);
        print(view, options.json, status === 'completed' ? String(view.summary) : `${id} ${status}: ${String(view.error ?? '')}`);
        return status === 'completed' ? 0 : 1;
      }, true),
    );
}

interface ListRow {
  task_id: string;
  status: string;
  goal: string;
  cwd: string;
  elapsed_seconds: number;
  worker?: string;
  tree_tokens: number;
  budget?: BudgetStatus;
}

/**
 * `tasks list` for people: a header, then one row per task; with `--all`, the worker (`host:pid`
 * of the process that runs or last ran it, `-` for none) and the directory of each.
 */
function taskTable(rows: ListRow[], all: boolean): string {
  const columns: { title: string; cell(row: ListRow): string; right?: boolean }[] = [
    { title: 'ID', cell: (row) => row.task_id },
    { title: 'STATUS', cell: (row) => row.status },
    { title: 'ELAPSED', cell: (row) => `${row.elapsed_seconds}s`, right: true },
    { title: 'TOKENS', cell: (row) => String(row.tree_tokens), right: true },
    ...(rows.some((row) => row.budget) ? [{ title: 'BUDGET LEFT', cell: (row: ListRow) => budgetLeft(row.budget) }] : []),
    ...(all
      ? [
          { title: 'WORKER', cell: (row: ListRow) => row.worker?.split(':').slice(0, 2).join(':') ?? '-' },
          { title: 'DIRECTORY', cell: (row: ListRow) => row.cwd },
        ]
      : []),
    { title: 'GOAL', cell: (row) => row.goal },
  ];
  const cells = [columns.map((column) => column.title), ...rows.map((row) => columns.map((column) => column.cell(row)))];
  const widths = columns.map((_, index) => Math.max(...cells.map((line) => line[index]!.length)));
  return cells
    .map((line) =>
      line
        .map((cell, index) => (index === line.length - 1 ? cell : columns[index]!.right ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!)))
        .join('  '),
    )
    .join('\n');
}

/** `450/650 tokens, $0.2/$1`: what is left of each budget field, `-` without a budget. */
function budgetLeft(status: BudgetStatus | undefined): string {
  if (!status) return '-';
  const unit = (field: string, value: number): string => (field === 'cost_usd' ? `$${value}` : field === 'seconds' ? `${value}s` : `${value}`);
  return Object.entries(status.limit)
    .map(([field, limit]) => `${unit(field, status.remaining[field] ?? 0)}/${unit(field, limit)}${field === 'tokens' ? ' tokens' : ''}`)
    .join(', ');
}

/** A task id argument; an empty one is a usage error (commander would pass `""` on). */
function taskIdArgument(id: string): string {
  if (id.trim() === '') throw new LegateError('invalid_arguments', `a task id must not be empty (got ${quoted(id)})`);
  return id;
}

/** `--older-than`: `30m`, `12h`, `7d`, `90s`, or a bare number of days. Throws `invalid_arguments` naming the value. */
function parseAge(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new LegateError('invalid_arguments', `--older-than must be an age such as 30m, 12h or 7d (got "${text}")`);
  const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, '': 86_400_000 }[match[2] as 's' | 'm' | 'h' | 'd' | ''];
  return Number(match[1]) * unitMs;
}

/** One collect_task object as a line for people: the summary, or why there is none. */
function collectText(view: Record<string, unknown>, timeout: string, others = false): string {
  const id = String(view.task_id);
  const status = String(view.status);
  if (view.timed_out) return `${id} is still ${status} after ${timeout}s`;
  if (others && (status === 'running' || status === 'queued' || status === 'input_required')) return `${id} is still ${status}`;
  if (status === 'interrupted') return `${id} is interrupted (its process stopped); continue it with: legate tasks resume ${id}`;
  return status === 'completed' ? String(view.summary) : `${id} ${status}: ${String(view.error ?? '')}`;
}

/** Whether `tasks resume` restarts this task from its last checkpoint (a queued one just waits for a slot). */
function canResume(task: TaskRecord): boolean {
  return task.status === 'interrupted' || task.status === 'failed';
}

/** How to continue an interrupted or failed task, for people. */
function resumeLines(task: TaskRecord): string[] {
  if (!canResume(task)) return [];
  return [`can be resumed from its last checkpoint: legate tasks resume ${task.id}`];
}

/**
 * The operator's call as an `execute_tool {tool}` span in the trace of the task it names (under the
 * call that spawned it, from the task's stored `traceparent`), when tracing is on: a collect or
 * cancel from this process cannot be an event on the task's span where it runs, so it is an event
 * on this span (`legate.task.collected`, `legate.task.cancelled`). A steer needs none: the run notes
 * it when it takes it from the store.
 */
async function operatorTrace(desk: TaskDesk, name: string, args: Record<string, unknown>): Promise<ToolCallTrace> {
  const none: ToolCallTrace = { end: () => {} };
  if (!desk.tracing.enabled || (name !== 'collect_task' && name !== 'cancel_task')) return none;
  const taskId =
    typeof args.task_id === 'string' ? args.task_id : Array.isArray(args.task_ids) ? args.task_ids.find((id) => typeof id === 'string') : undefined;
  const task = typeof taskId === 'string' ? await desk.tasks.get(operator, taskId).catch(() => undefined) : undefined;
  return desk.tracing.startToolCall({
    agentId: 'operator',
    callId: `${name}-${Date.now()}`,
    name,
    arguments: JSON.stringify(args),
    conversationId: task?.sessionId ?? 'operator',
    ...(task?.traceparent ? { traceparent: task.traceparent } : {}),
  });
}

/** A runtime as a task desk (for the commands that run tasks here). */
function deskOf(runtime: Runtime): TaskDesk {
  return {
    tasks: runtime.tasks,
    sessions: runtime.sessions,
    budgets: runtime.budgets,
    cwd: runtime.cwd,
    config: runtime.config,
    tracing: runtime.tracing,
    worktrees: runtime.worktrees,
    close: () => runtime.close(),
  };
}

/** `1 model call`, `3 model calls`. */
function modelCalls(count: number): string {
  return `${count} model call${count === 1 ? '' : 's'}`;
}

/** `tokens: input 1200, cache read 9800 (89% cache hit), cache write 0, output 340 (of which reasoning 120)` */
function usageLine(usage: Usage): string {
  const hit = usage.cacheReadTokens ? ` (${Math.round(cacheHitShare(usage) * 100)}% cache hit)` : '';
  const reasoning = usage.reasoningTokens ? ` (of which reasoning ${usage.reasoningTokens})` : '';
  return `tokens: input ${usage.inputTokens}, cache read ${usage.cacheReadTokens ?? 0}${hit}, cache write ${usage.cacheWriteTokens ?? 0}, output ${usage.outputTokens}${reasoning}`;
}
