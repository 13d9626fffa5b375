import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { type RaiseFlags, raiseFromFlags } from '../budget/budget-raise.js';
import { LegateError } from '../errors.js';
import type { TaskRecord } from '../tasks/task-record.js';
import { operator, type TaskService } from '../tasks/task-service.js';

/**
 * `legate tasks approve|deny ID`: a human's answer to the request a task waiting for approval
 * (`input_required`) made, a sandbox call or a budget that ran out; and how `tasks show` states the
 * request. Only humans answer: no model tool can.
 */

interface ApprovalDesk {
  tasks: Pick<TaskService, 'answerApproval'>;
}

/** The options of both commands: `--json`, approve's raise flags, deny's `--reason`. */
type AnswerOptions = { json?: boolean; reason: string } & RaiseFlags;

export function registerTasksApprovals<Desk extends ApprovalDesk>(
  tasks: Command,
  action: (body: (desk: Desk, id: string, options: AnswerOptions) => Promise<number>) => Parameters<Command['action']>[0],
  print: (value: unknown, json: boolean | undefined, text: string) => void,
  taskIdArgument: (id: string) => string,
): void {
  tasks
    .command('approve')
    .argument('<id>', 'a task id', taskIdArgument)
    .description(
      'approve the request a task waiting for approval (input_required) made: the call runs once, outside its sandbox mode; ' +
        'for a budget that ran out, the budget is raised (by its own amount, or by --tokens/--usd/--seconds) and the task goes on',
    )
    .option('--tokens <n>', 'a budget request: raise the tokens budget by N')
    .option('--usd <x>', 'a budget request: raise the cost_usd budget by X')
    .option('--seconds <s>', 'a budget request: raise the seconds budget by S')
    .option('--json', 'print the task')
    .action(
      action(async (desk, id: string, options: AnswerOptions) => {
        const raise = raiseFromFlags(options);
        const task = await desk.tasks.answerApproval(operator, id, { approved: true, ...(raise ? { raise } : {}) }, answerer());
        print(taskAnswerView(task), options.json, `${id}: approved ${describeApproval(task)}; the task goes on`);
        return 0;
      }),
    );

  tasks
    .command('deny')
    .argument('<id>', 'a task id', taskIdArgument)
    .description('deny the request a task waiting for approval (input_required) made: the child gets the denial as its tool result')
    .option('--reason <text>', 'why (the child reads it)', 'denied by the user')
    .option('--json', 'print the task')
    .action(
      action(async (desk, id: string, options: AnswerOptions) => {
        if (options.reason.trim() === '') throw new LegateError('invalid_arguments', '--reason must not be empty: the child reads it as its tool result');
        const task = await desk.tasks.answerApproval(operator, id, { approved: false, reason: options.reason }, answerer());
        print(taskAnswerView(task), options.json, `${id}: denied ${describeApproval(task)} (${options.reason.trim()}); the task goes on`);
        return 0;
      }),
    );
}

/** What a waiting task asks, and how to answer it, for people (nothing for a task that does not wait). */
export function approvalLines(task: TaskRecord): string[] {
  const approval = task.approval;
  if (task.status !== 'input_required' || !approval) return [];
  return [
    `${task.id} waits for approval ${approval.id} (${approval.kind}): ${approval.subject}`,
    `  ${approval.reason}`,
    approval.answer
      ? `  answered: ${approval.answer.approved ? 'approved' : 'denied'}; the task goes on shortly`
      : approval.kind === 'budget'
        ? `  answer: legate tasks approve ${task.id} [--tokens N | --usd X | --seconds S]   or   legate tasks deny ${task.id} --reason "…"`
        : `  answer: legate tasks approve ${task.id}   or   legate tasks deny ${task.id} --reason "…"`,
  ];
}

/** `the write to /x`, `command "…"`: what was answered. */
function describeApproval(task: TaskRecord): string {
  const approval = task.approval;
  if (!approval) return 'its request';
  if (approval.kind === 'budget') return `request ${approval.id} (a raise of ${approval.subject}${raiseText(approval.answer)})`;
  return `request ${approval.id} (${approval.kind === 'exec' || approval.kind === 'network' ? `command ${JSON.stringify(approval.subject)}` : `${approval.kind} ${approval.subject}`})`;
}

/** ` by 5000 tokens` for an approval that said how much. */
function raiseText(answer: NonNullable<TaskRecord['approval']>['answer']): string {
  if (!answer?.approved || !answer.raise) return '';
  const { tokens, costUsd, seconds } = answer.raise;
  const parts = [tokens !== undefined ? `${tokens} tokens` : '', costUsd !== undefined ? `$${costUsd}` : '', seconds !== undefined ? `${seconds} s` : ''];
  return ` by ${parts.filter(Boolean).join(', ')}`;
}

/** `tasks approve|deny --json`: the task id, its status and the request with its answer. */
function taskAnswerView(task: TaskRecord): Record<string, unknown> {
  return { task_id: task.id, status: task.status, approval: task.approval };
}

/** Who answered, as stored with the answer: the user at this terminal. */
function answerer(): string {
  try {
    return `${userInfo().username} (legate tasks)`;
  } catch {
    // no user name (a container's uid): a generic name
    return 'the operator (legate tasks)';
  }
}
