import { recordBudgetStatus } from '../../budget/budget-view.js';
import { contextLine } from '../../delegation/context-view.js';
import { oneLine } from '../../tasks/output-lines.js';
import type { PendingApproval, TaskRecord } from '../../tasks/task-record.js';
import { noColors, type Palette } from '../colors.js';

interface DockEntry {
  id: string;
  goal: string;
  status: string;
  since: number;
  activity: string;
  /** What an `input_required` task waits on: its request, and whether it was answered. */
  approval?: PendingApproval;
  /** `tokens 450/650 left`: what is left of its budget, as its record last said (its tree's spend included). */
  budget?: string;
  /** "context 61% of 200k, compacted 2×", once it made a model call. */
  context?: string;
}

/**
 * The dock of a session's open top-level tasks, shown in the chat's live area: one line per task
 * (id, status, elapsed, last activity, goal), and for a task waiting for approval
 * (`input_required`) two more: how to answer, and its pending request (the exact command or path,
 * on a row of its own). It only keeps state and makes lines; the terminal draws them in place. Fed by
 * this process's task events and by `sync` with the store (tasks run by another process).
 */
export class TaskDock {
  private readonly entries = new Map<string, DockEntry>();

  constructor(
    private readonly sessionId: string,
    private readonly palette: Palette = noColors,
  ) {}

  update(task: TaskRecord): void {
    if (task.depth !== 1 || task.sessionId !== this.sessionId) return;
    if (task.status === 'queued' || task.status === 'running' || task.status === 'input_required') {
      const previous = this.entries.get(task.id);
      this.entries.set(task.id, {
        id: task.id,
        goal: task.goal,
        status: task.status === 'input_required' ? 'waiting' : task.status,
        since: task.startedAt ?? task.createdAt,
        activity: previous?.activity ?? '',
        ...(contextLine(task.contextUse) ? { context: contextLine(task.contextUse)! } : {}),
        ...(task.status === 'input_required' && task.approval ? { approval: task.approval } : {}),
        ...(budgetText(task) ? { budget: budgetText(task) } : {}),
      });
    } else {
      this.entries.delete(task.id);
    }
  }

  activity(taskId: string, activity: string): void {
    const entry = this.entries.get(taskId);
    if (entry) entry.activity = activity;
  }

  /** Make the dock match the store's view of the session's tasks (`list` holds all of them). */
  sync(tasks: TaskRecord[]): void {
    const present = new Set<string>();
    for (const task of tasks) {
      present.add(task.id);
      this.update(task);
    }
    for (const id of this.entries.keys()) if (!present.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  lines(now = Date.now()): string[] {
    const { yellow, dim, cyan, bold } = this.palette;
    return [...this.entries.values()].flatMap((entry) => {
      const elapsed = `${Math.max(0, Math.round((now - entry.since) / 1000))}s`;
      const line =
        `  ${yellow('◆')} ${cyan(entry.id)} ${entry.status.padEnd(7)} ${elapsed.padStart(5)}` +
        `  ${dim(oneLine(entry.activity || '…', 30).padEnd(30))}  ${oneLine(entry.goal, 50)}${entry.context ? `  ${dim(`(${entry.context})`)}` : ''}${entry.budget ? dim(`  · ${entry.budget}`) : ''}`;
      const { approval } = entry;
      if (!approval) return [line];
      const request = `        ${approvalVerb[approval.kind]} ${oneLine(approval.subject, 300)}`;
      if (approval.answer) return [line, dim(`      ${approval.answer.approved ? 'approved' : 'denied'}, resuming:`), dim(request)];
      return [line, `      ${bold(yellow('? waits for approval'))} ${dim(`(${approval.mode}) · /approve ${entry.id} · /deny ${entry.id} [reason]`)}`, request];
    });
  }
}

/** How a request reads in the dock: `run echo hi > /x`, `write /srv/out/a.txt`. */
const approvalVerb: Record<PendingApproval['kind'], string> = { exec: 'run', write: 'write', read: 'read', network: 'network for', budget: 'raise' };

/** `budget: tokens 450/650 left, $0.2/$1 left` from the record's counters; undefined without a budget. */
function budgetText(task: TaskRecord): string | undefined {
  const status = recordBudgetStatus(task);
  if (!status) return undefined;
  const unit = (field: string, value: number): string => (field === 'cost_usd' ? `$${value}` : field === 'seconds' ? `${value}s` : `${value}`);
  const fields = Object.entries(status.limit).map(
    ([field, limit]) => `${field === 'cost_usd' ? '' : `${field} `}${unit(field, status.remaining[field] ?? 0)}/${unit(field, limit)}`,
  );
  return `budget ${fields.join(', ')} left`;
}
