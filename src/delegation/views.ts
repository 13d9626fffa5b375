import { budgetView } from '../budget/budget.js';
import { currentToolOf, type SteerRecord, type TaskRecord } from '../tasks/task-record.js';
import { contextLine } from './context-view.js';
import { capSummary, defaultMaxSummaryChars, summaryFields } from './summary-cap.js';
import { type UsageTerms, usageView } from './usage-view.js';

/**
 * The JSON shapes the delegation tools (and `legate tasks`, and MCP) return. snake_case on the wire.
 * Token counts appear once, as `usage` (with `cost_usd` when `prices` has the task's model).
 */

export function elapsedSeconds(task: TaskRecord, now = Date.now()): number {
  const from = task.startedAt ?? task.createdAt;
  return round((task.endedAt ?? now) - from);
}

function round(ms: number): number {
  return Math.max(0, Math.round(ms / 100) / 10);
}

function steeringView(steers: SteerRecord[]): { message: string; state: string }[] | undefined {
  if (steers.length === 0) return undefined;
  return steers.map((steer) => ({ message: steer.message.length > 120 ? `${steer.message.slice(0, 119)}…` : steer.message, state: steer.state }));
}

/**
 * The request a parked (`input_required`) task waits on, as the delegation tools and `legate
 * tasks` show it. Only a human answers it: the note says how.
 */
export function approvalView(task: TaskRecord): Record<string, unknown> | undefined {
  const approval = task.approval;
  if (task.status !== 'input_required' || !approval) return undefined;
  return {
    request_id: approval.id,
    kind: approval.kind,
    subject: approval.subject,
    mode: approval.mode,
    reason: approval.reason,
    waiting_seconds: round(Date.now() - approval.requestedAt),
    ...(approval.answer ? { answered: approval.answer.approved ? 'approved' : 'denied' } : {}),
    note: `waiting for a human: legate tasks approve ${task.id} (or deny), or /approve ${task.id} in chat; no tool can answer it`,
  };
}

export function spawnView(task: TaskRecord): Record<string, unknown> {
  return {
    task_id: task.id,
    status: task.status,
    goal: task.goal.slice(0, 80),
    model: task.model,
    ...(task.route ? { route: task.route } : {}),
    depth: task.depth,
    ...(task.budget ? { budget: budgetView(task.budget) } : {}),
    note:
      task.status === 'queued'
        ? 'queued: the concurrency cap is reached; it starts when a running task ends'
        : 'running in the background; use check_task, steer_task, collect_task or cancel_task with this task_id',
  };
}

/**
 * `check_task` with `offset`: the summary from that character on, at most `maxChars` of it (the
 * rest of a summary that reached the parent cut), and where the next page starts.
 */
export function summaryPage(task: TaskRecord, offset: number, maxChars: number): Record<string, unknown> {
  const summary = task.summary ?? '';
  const page = summary.slice(offset, offset + maxChars);
  const end = offset + page.length;
  return {
    summary: page,
    summary_offset: offset,
    summary_chars: summary.length,
    ...(end < summary.length ? { next_offset: end } : {}),
    ...(task.summary === undefined
      ? { note: 'the task has no summary yet' }
      : offset > summary.length
        ? { note: `offset ${offset} is past the end of the summary (${summary.length} characters)` }
        : {}),
  };
}

/** `budget`: the task's `budgetStatusView`, when it has a budget. */
export function checkView(task: TaskRecord, output: string[], steers: SteerRecord[], terms: UsageTerms = {}, budget?: object): Record<string, unknown> {
  return {
    task_id: task.id,
    status: task.status,
    goal: task.goal.slice(0, 80),
    elapsed_seconds: elapsedSeconds(task),
    api_calls: task.apiCalls,
    ...(currentToolOf(task) ? { current_tool: currentToolOf(task) } : {}),
    ...(approvalView(task) ? { approval: approvalView(task) } : {}),
    output_preview: output.slice(-10),
    output_lines: task.outputLines,
    usage: usageView(task.usage, task.model, terms),
    ...(contextLine(task.contextUse) ? { context_use: contextLine(task.contextUse) } : {}),
    ...(budget ? { budget } : {}),
    ...(task.exitReason ? { exit_reason: task.exitReason } : {}),
    ...(task.error ? { error: task.error } : {}),
    ...(task.cancelledBy ? { cancelled_by: task.cancelledBy } : {}),
    ...(steeringView(steers) ? { steering: steeringView(steers) } : {}),
  };
}

/** `maxSummaryChars`: the summary's cap (`delegation.max_summary_chars`, or a batch's share of it). */
export function collectView(
  task: TaskRecord,
  output: string[],
  steers: SteerRecord[],
  timedOut: boolean,
  terms: UsageTerms = {},
  maxSummaryChars = defaultMaxSummaryChars,
): Record<string, unknown> {
  const completed = task.status === 'completed';
  return {
    task_id: task.id,
    status: task.status,
    timed_out: timedOut,
    ...summaryFields(task.id, task.summary, maxSummaryChars),
    output: output.join('\n'),
    ...(task.error && !completed ? { error: task.error } : {}),
    ...(task.exitReason ? { exit_reason: task.exitReason } : {}),
    ...(task.cancelledBy ? { cancelled_by: task.cancelledBy } : {}),
    ...(approvalView(task) ? { approval: approvalView(task) } : {}),
    api_calls: task.apiCalls,
    duration_seconds: elapsedSeconds(task),
    model: task.model,
    usage: usageView(task.usage, task.model, terms),
    ...(steeringView(steers) ? { steering: steeringView(steers) } : {}),
    ...(timedOut
      ? {
          note:
            task.status === 'input_required'
              ? 'timed out waiting; the task waits for a human to approve or deny its request (see approval). Tell the user, collect again later, or cancel it.'
              : 'timed out waiting; the task is still running. Collect again later, check it, or cancel it.',
        }
      : {}),
  };
}

/** `list_tasks` shows the newest this many, so its JSON stays whole under the tool output cap. */
export const listViewLimit = 100;

/** The newest `listViewLimit` of `tasks` (newest first); `total` is how many there are in all; `budgets`: by task id, for those with one. */
export function listView(tasks: TaskRecord[], total = tasks.length, budgets: ReadonlyMap<string, object> = new Map()): Record<string, unknown> {
  const shown = tasks.slice(0, listViewLimit);
  return {
    ...(total > shown.length ? { total, truncated: true, note: `showing the newest ${shown.length} of ${total}; filter by status to see others` } : {}),
    tasks: shown.map((task) => ({
      task_id: task.id,
      goal: task.goal.slice(0, 80),
      status: task.status,
      elapsed_seconds: elapsedSeconds(task),
      api_calls: task.apiCalls,
      ...(budgets.has(task.id) ? { budget: budgets.get(task.id) } : {}),
      ...(approvalView(task) ? { approval: approvalView(task) } : {}),
    })),
  };
}

/** One `delegate_task` result entry; `maxSummaryChars`: its share of the batch's summary cap. */
export function batchResultView(task: TaskRecord, index: number, terms: UsageTerms = {}, maxSummaryChars = defaultMaxSummaryChars): Record<string, unknown> {
  return {
    task_index: index,
    task_id: task.id,
    status: task.status,
    ...summaryFields(task.id, task.summary, maxSummaryChars),
    ...(task.error && task.status !== 'completed' ? { error: task.error } : {}),
    api_calls: task.apiCalls,
    duration_seconds: elapsedSeconds(task),
    model: task.model,
    exit_reason: task.exitReason ?? 'error',
    usage: usageView(task.usage, task.model, terms),
  };
}

/** The self-contained block that enters the parent's conversation when a background task ends. */
export function completionNotice(task: TaskRecord, maxSummaryChars = defaultMaxSummaryChars): string {
  const lines = [
    `[Background task ${task.id} ended: ${task.status}]`,
    `Goal: ${task.goal}`,
    `Status: ${task.status}${task.exitReason && task.exitReason !== 'completed' ? ` (${task.exitReason})` : ''}`,
  ];
  if (task.error && task.status !== 'completed') lines.push(`Error: ${task.error}`);
  lines.push(`Summary:\n${task.summary ? capSummary(task.id, task.summary, maxSummaryChars).summary : '(no summary)'}`);
  return lines.join('\n');
}

/** The block that enters the parent's conversation when a background task parks, waiting for a human's approval. */
export function approvalNotice(task: TaskRecord): string {
  const approval = task.approval;
  return [
    `[Background task ${task.id} is waiting for approval${approval ? ` (request ${approval.id})` : ''}]`,
    `Goal: ${task.goal}`,
    `Request: ${approval ? `${approval.kind} ${approval.subject}` : '(none)'}`,
    `Why it needs approval: ${approval?.reason ?? ''}`,
    `Only the user can answer: /approve ${task.id} or /deny ${task.id} [reason] in chat, or legate tasks approve|deny ${task.id}. ` +
      'You cannot approve it; tell the user what it asks if it matters. The task goes on when answered.',
  ].join('\n');
}
