import type { Command } from 'commander';
import type { DelegationSession } from '../delegation/session.js';
import { cancelTask, checkTask, collectTask, steerTask, type Operation } from '../delegation/operations.js';
import { elapsedSeconds } from '../delegation/views.js';
import { formatIssues } from '../config/format-issues.js';
import { errorMessage, LegateError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { isTaskStatus, taskStatuses } from '../tasks/status.js';
import { operator } from '../tasks/task-service.js';
import { openRuntime, type GlobalOptions, type Streams } from './context.js';

interface JsonOption {
  json?: boolean;
}

/**
 * `legate tasks list|show|collect|steer|cancel|resume`: the operator's view of every task of this
 * LEGATE_HOME, from any process. Results are the same objects the agent tools return.
 */
export function registerTasks(program: Command, streams: Streams, setExit: (code: number) => void): void {
  const tasks = program.command('tasks').description('list, inspect, collect, steer, cancel and resume tasks of this LEGATE_HOME (any process)');
  const action =
    <Args extends unknown[]>(body: (runtime: Runtime, ...args: Args) => Promise<number>, runsTasks = false) =>
    async (...args: [...Args, Record<string, unknown>, Command]): Promise<void> => {
      const command = args.at(-1) as Command;
      // Only a command that runs a child here needs the MCP servers' tools.
      const runtime = await openRuntime(command.optsWithGlobals() as GlobalOptions, streams, { mcp: runsTasks });
      try {
        setExit(await body(runtime, ...(args.slice(0, -1) as Args)));
      } catch (error) {
        streams.stderr.write(`legate: ${errorMessage(error)}\n`);
        setExit(1);
      } finally {
        await runtime.close();
      }
    };
  const print = (value: unknown, json: boolean | undefined, text: string): void => {
    streams.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith('\n') ? text : `${text}\n`);
  };
  const run = (operation: Operation, runtime: Runtime, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const parsed = operation.parameters.safeParse(args);
    if (!parsed.success) throw new LegateError('invalid_arguments', formatIssues(parsed.error, args).join('; '));
    return operation.run(parsed.data, operatorSession(runtime), { signal: new AbortController().signal });
  };

  tasks
    .command('list')
    .description("this directory's recent tasks")
    .option('--all', 'tasks of every directory and session')
    .option('--status <status>', `only this status (${taskStatuses.join(', ')})`)
    .option('--json', 'print JSON')
    .action(
      action(async (runtime, options: { all?: boolean; status?: string } & JsonOption) => {
        if (options.status !== undefined && !isTaskStatus(options.status)) {
          throw new LegateError('invalid_arguments', `unknown status "${options.status}"; expected one of ${taskStatuses.join(', ')}`);
        }
        const list = await runtime.tasks.list(operator, { ...(options.all ? {} : { cwd: runtime.cwd }), ...(options.status ? { status: [options.status] } : {}), limit: 200 });
        const rows = list.map((task) => ({ task_id: task.id, status: task.status, goal: task.goal.slice(0, 80), session_id: task.sessionId, cwd: task.cwd, elapsed_seconds: elapsedSeconds(task), api_calls: task.apiCalls }));
        const text = rows.length === 0 ? `no tasks${options.all ? '' : ` in ${runtime.cwd} (--all for every directory)`}` : rows.map((row) => `${row.task_id}  ${row.status.padEnd(11)} ${String(row.elapsed_seconds).padStart(7)}s  ${row.goal}`).join('\n');
        print({ tasks: rows }, options.json, text);
        return 0;
      }),
    );

  tasks
    .command('show')
    .argument('<id>')
    .description('status, progress and the full output buffer of a task')
    .option('--json', 'print JSON')
    .action(
      action(async (runtime, id: string, options: JsonOption) => {
        const view = await run(checkTask, runtime, { task_id: id });
        const { output } = await runtime.tasks.trail(operator, id);
        const text = [`${id}  ${String(view.status)}  ${String(view.elapsed_seconds)}s  ${String(view.api_calls)} model calls`, `goal: ${(await runtime.tasks.get(operator, id)).goal}`, ...(view.error ? [`error: ${String(view.error)}`] : []), ...(view.cancelled_by ? [`cancelled by: ${String(view.cancelled_by)}`] : []), '', ...output].join('\n');
        print({ ...view, output }, options.json, text);
        return 0;
      }),
    );

  tasks
    .command('collect')
    .argument('<id>')
    .description('wait for a task to end and print its summary')
    .option('--timeout <seconds>', 'give up waiting after this long (the task keeps running)', '300')
    .option('--json', 'print the collect_task object')
    .action(
      action(async (runtime, id: string, options: { timeout: string } & JsonOption) => {
        const timeout = Number(options.timeout);
        if (options.timeout.trim() === '' || !Number.isFinite(timeout)) throw new LegateError('invalid_arguments', `--timeout must be a number of seconds (got "${options.timeout}")`);
        const view = await run(collectTask, runtime, { task_id: id, timeout });
        const status = String(view.status);
        const text = view.timed_out
          ? `${id} is still ${status} after ${options.timeout}s`
          : status === 'interrupted'
            ? `${id} is interrupted (its process stopped); continue it with: legate tasks resume ${id}`
            : status === 'completed'
              ? String(view.summary)
              : `${id} ${status}: ${String(view.error ?? '')}`;
        print(view, options.json, text);
        return status === 'completed' ? 0 : 1;
      }),
    );

  tasks
    .command('steer')
    .argument('<id>')
    .argument('<message>')
    .description("queue a message for the task's next model call (the owning process picks it up)")
    .option('--json', 'print JSON')
    .action(
      action(async (runtime, id: string, message: string, options: JsonOption) => {
        print(await run(steerTask, runtime, { task_id: id, message }), options.json, `steer queued for ${id}: delivered at its next model call`);
        return 0;
      }),
    );

  tasks
    .command('cancel')
    .argument('<id>')
    .description('stop a task now (the owning process aborts it within a second)')
    .option('--json', 'print JSON')
    .action(
      action(async (runtime, id: string, options: JsonOption) => {
        print(await run(cancelTask, runtime, { task_id: id }), options.json, `${id} cancelled`);
        return 0;
      }),
    );

  tasks
    .command('resume')
    .argument('<id>')
    .description('continue an interrupted task in this process from its last checkpoint, and print its result')
    .option('--json', 'print the collect_task object')
    .action(
      action(async (runtime, id: string, options: JsonOption) => {
        await runtime.tasks.resume(operator, id);
        streams.stderr.write(`  resumed ${id} from its last checkpoint\n`);
        const view = await run(collectTask, runtime, { task_id: id, timeout: 365 * 86_400 });
        const status = String(view.status);
        print(view, options.json, status === 'completed' ? String(view.summary) : `${id} ${status}: ${String(view.error ?? '')}`);
        return status === 'completed' ? 0 : 1;
      }, true),
    );
}

/** The operator's DelegationSession: every task of the LEGATE_HOME, no spawning. */
function operatorSession(runtime: Runtime): DelegationSession {
  return {
    sessionId: operator,
    depth: 0,
    toolsets: [],
    maxSpawnDepth: 0,
    cwd: runtime.cwd,
    service: runtime.tasks,
    childModel: (route) => runtime.childEndpoint(route).model,
    prices: runtime.config.prices,
  };
}
