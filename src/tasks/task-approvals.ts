import type { Budget } from '../budget/budget.js';
import { errorMessage, LegateError } from '../errors.js';
import type { ApprovalAnswer, ApprovalGate } from '../sandbox/approval-gate.js';
import type { SandboxMode } from '../sandbox/modes.js';
import type { SandboxRequest } from '../sandbox/policy.js';
import { notWaiting } from './store/approval-rules.js';
import type { TaskStore } from './store/task-store.js';
import type { TaskEvent } from './task-events.js';
import type { BudgetRequest, Fence, PendingApproval, StoredApprovalAnswer, TaskRecord } from './task-record.js';

/**
 * Wakes this process's waiters on a task when an answer was stored here (`TaskService.answerApproval`);
 * answers stored by other processes are found by reading the store every poll interval.
 */
export class AnswerBell {
  private readonly waiters = new Map<string, Set<() => void>>();

  ring(taskId: string): void {
    for (const wake of [...(this.waiters.get(taskId) ?? [])]) wake();
  }

  /** Resolves when `ring(taskId)` is called, after `ms`, or when `signal` aborts. */
  wait(taskId: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiters = this.waiters.get(taskId) ?? new Set<() => void>();
      this.waiters.set(taskId, waiters);
      const wake = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', wake);
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiters.get(taskId) === waiters) this.waiters.delete(taskId);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      waiters.add(wake);
      if (signal.aborted) wake();
      else signal.addEventListener('abort', wake, { once: true });
    });
  }
}

/** How a background child's `ask` decisions are answered: `agent.approval: on-request`. */
export interface ApprovalSettings {
  /** `agent.approval_timeout_seconds` in ms; 0 = wait as long as it takes. */
  timeoutMs: number;
  /** How often a parked task reads the store for an answer given in another process, ms. */
  pollMs: number;
  bell: AnswerBell;
}

export interface ParkingOptions extends ApprovalSettings {
  store: TaskStore;
  taskId: string;
  /** The run's claim: parking and resuming are fenced on it. */
  fence: Fence;
  /** The run's signal (cancel, hand-back, lost lease, child timeout). */
  signal: AbortSignal;
  /** True when the run is being handed back: the task then goes `input_required → interrupted` as it is. */
  handingBack(): boolean;
  announce(event: TaskEvent): void;
  /** Adds a line to the task's output. */
  note(line: string): void;
  /** The task's sandbox mode, stored with a budget request (a sandbox request carries its own). */
  mode: SandboxMode;
}

/** A raise a human approved: by how much (absent: the budget's amount at spawn) and the approval's id (the raise's key). */
export type BudgetAnswer = { approved: true; raise?: Budget; approvalId: string } | { approved: false; reason: string };

/**
 * Ask a human to raise a budget that ran out: the task parks `input_required` with a `budget`
 * approval until answered (`legate tasks approve ID [--tokens N]`, `/approve`, the dashboard, the
 * editor). Never throws: a failure to park, a cancel or a hand-back while waiting is a refusal.
 * Only humans answer; no model tool can.
 */
export type BudgetAsk = (request: BudgetRequest, reason: string, signal?: AbortSignal) => Promise<BudgetAnswer>;

/** The two ways a background child's run asks a human: a sandbox `ask` decision, and a budget that ran out. */
export interface ParkingGates {
  sandbox: ApprovalGate;
  budget: BudgetAsk;
}

/** What parking a task for one request needs: the request as stored (without id and time) and how the child's note names it. */
interface Parked {
  approval: Omit<PendingApproval, 'id' | 'requestedAt'>;
  /** `running command "…" outside the sandbox`, `raising the tokens budget of task "t_1"`. */
  what: string;
  /** The line the task's output gets while it waits. */
  waiting: string;
}

/**
 * The gates of a background child's run: a sandbox call the policy answered `ask`, or a budget
 * that ran out, parks the task (`running → input_required`, fenced, the request in
 * `TaskRecord.approval`; its lease keeps being renewed), announces `task.input_required`, waits for
 * the answer stored by a human from any process (or for the timeout, stored as a denial), then
 * resumes it (`input_required → running`). Requests of one run are asked one at a time. Never
 * throws: a failure to park, a cancel or a hand-back while waiting is a refusal.
 */
export function parkingGate(options: ParkingOptions): ParkingGates {
  const { store, taskId, fence } = options;
  let asked = 0;
  let queue: Promise<unknown> = Promise.resolve();

  const waitForAnswer = async (approval: PendingApproval, signal: AbortSignal): Promise<StoredApprovalAnswer | undefined> => {
    const deadline = options.timeoutMs > 0 ? approval.requestedAt + options.timeoutMs : Number.POSITIVE_INFINITY;
    for (;;) {
      if (signal.aborted) return undefined;
      const now = await store.get(taskId).then(
        (task) => task ?? null,
        () => undefined, // a failed read: try again at the next poll
      );
      if (now === null) return undefined;
      if (now) {
        // Cancelled or taken over while waiting: the lease keeper stops the run.
        if (now.status !== 'input_required' || now.approval?.id !== approval.id) return undefined;
        if (now.approval.answer) return now.approval.answer;
      }
      if (Date.now() >= deadline) {
        const seconds = options.timeoutMs / 1000;
        const timedOut: StoredApprovalAnswer = {
          approved: false,
          reason: `no answer within ${seconds} s (agent.approval_timeout_seconds)`,
          by: 'timeout',
          answeredAt: Date.now(),
        };
        // The first answer stands: a human's that just arrived wins over the timeout's.
        await store.answerApproval(taskId, approval.id, timedOut).catch(() => undefined);
        continue;
      }
      await options.bell.wait(taskId, Math.min(options.pollMs, deadline - Date.now()), signal);
    }
  };

  /** Park for `parked`, wait, resume: the stored answer, or why there is none (`refused`). */
  const park = async (parked: Parked, signal: AbortSignal): Promise<{ answer: StoredApprovalAnswer; id: string } | { refused: string }> => {
    const { what } = parked;
    if (signal.aborted) return { refused: `${what} was not asked for: the task was stopping` };
    const approval: PendingApproval = { ...parked.approval, id: `${fence.epoch}.${++asked}`, requestedAt: Date.now() };
    let task: TaskRecord;
    try {
      task = await store.transition(taskId, 'running', 'input_required', { approval }, fence);
    } catch (error) {
      return { refused: `${parked.approval.reason} (no approval could be asked for: ${errorMessage(error)})` };
    }
    options.note(`⏸ waiting for approval ${approval.id}: ${parked.waiting}`);
    options.announce({ type: 'task.input_required', task });
    const answer = await waitForAnswer(approval, signal);
    if (!answer) {
      // A hand-back leaves it input_required, to be interrupted as it is; otherwise (a child
      // timeout) it runs again, so that its end is written from running.
      if (!options.handingBack()) await store.transition(taskId, 'input_required', 'running', {}, fence).catch(() => undefined);
      return { refused: `${what} was not approved: the task stopped while waiting for the answer` };
    }
    try {
      await store.transition(taskId, 'input_required', 'running', {}, fence);
    } catch (error) {
      return { refused: `${what} was not run: the task no longer waits for it (${errorMessage(error)})` };
    }
    options.announce({ type: 'task.approval_answered', taskId, sessionId: task.sessionId, approvalId: approval.id, approved: answer.approved });
    return { answer, id: approval.id };
  };

  /** One request at a time: the next waits for this one's turn, not for its outcome. */
  const inTurn = <T>(ask: () => Promise<T>): Promise<T> => {
    const turn = queue.then(ask);
    queue = turn.catch(() => undefined);
    return turn;
  };
  const signalFor = (callSignal: AbortSignal | undefined): AbortSignal => (callSignal ? AbortSignal.any([options.signal, callSignal]) : options.signal);

  const sandbox: ApprovalGate = {
    request: (request, callSignal) =>
      inTurn(async (): Promise<ApprovalAnswer> => {
        const what = describeRequest(request.request);
        const approval = { kind: request.request.kind, subject: subjectOf(request.request), mode: request.mode, reason: request.reason };
        const outcome = await park({ approval, what, waiting: request.reason }, signalFor(callSignal));
        if ('refused' in outcome) return { approved: false, reason: outcome.refused };
        const { answer } = outcome;
        const by = answer.by ? ` by ${answer.by}` : '';
        if (answer.approved) {
          options.note(`▶ approved${by}: ${what} runs once`);
          return { approved: true };
        }
        options.note(`▶ denied${by}: ${answer.reason}`);
        return { approved: false, reason: `${what} was denied${by}: ${answer.reason}` };
      }),
  };

  const budget: BudgetAsk = (request, reason, callSignal) =>
    inTurn(async (): Promise<BudgetAnswer> => {
      const field = request.field === 'costUsd' ? 'cost_usd' : request.field;
      const whose = request.holder === taskId ? 'its' : `${holderLabel(request.holder)}'s`;
      const what = `raising ${whose} ${field} budget`;
      const approval = {
        kind: 'budget' as const,
        subject: `${whose} ${field} budget: spent ${request.spent} of ${request.limit}`,
        mode: options.mode,
        reason,
        budget: request,
      };
      const answerHint = `legate tasks approve ${taskId} [--tokens N | --usd X | --seconds S]  or  legate tasks deny ${taskId}`;
      const outcome = await park({ approval, what, waiting: `${approval.reason}; raise it? (${answerHint})` }, signalFor(callSignal));
      if ('refused' in outcome) return { approved: false, reason: outcome.refused };
      const { answer } = outcome;
      const by = answer.by ? ` by ${answer.by}` : '';
      if (answer.approved) {
        options.note(`▶ approved${by}: ${what}; the task goes on`);
        return { approved: true, approvalId: outcome.id, ...(answer.raise ? { raise: answer.raise } : {}) };
      }
      options.note(`▶ denied${by}: ${answer.reason}`);
      return { approved: false, reason: `${what} was denied${by}: ${answer.reason}` };
    });

  return { sandbox, budget };
}

/** `task "t_1"` for a task id, `session "…"` for a top-level session. */
function holderLabel(id: string): string {
  return id.startsWith('t_') ? `task "${id}"` : `session "${id}"`;
}

/**
 * Store a human's `answer` to the request `task` waits on (`TaskService.answerApproval`). Throws
 * `not_waiting` naming the id and its status when the task is not `input_required`, or its request
 * was answered first by someone else; `invalid_arguments` for a denial without a reason.
 */
export async function storeAnswer(store: TaskStore, task: TaskRecord, answer: ApprovalAnswer, by: string | undefined): Promise<TaskRecord> {
  if (task.status !== 'input_required' || !task.approval) throw notWaiting(task.id, task.status);
  const reason = answer.approved ? '' : typeof answer.reason === 'string' ? answer.reason.trim() : '';
  if (!answer.approved && !reason) {
    throw new LegateError('invalid_arguments', `a denial of task "${task.id}" needs a reason (the child gets it as its tool result)`, { taskId: task.id });
  }
  const raise = answer.approved ? answer.raise : undefined;
  if (raise && task.approval.kind !== 'budget') {
    throw new LegateError(
      'invalid_arguments',
      `task "${task.id}" waits on a ${task.approval.kind} request (${task.approval.subject}), not a budget: --tokens, --usd and --seconds only raise a budget`,
      { taskId: task.id },
    );
  }
  if (raise) checkRaise(task.id, raise);
  const stored: StoredApprovalAnswer = {
    ...(answer.approved ? { approved: true as const, ...(raise ? { raise } : {}) } : { approved: false as const, reason }),
    ...(by !== undefined ? { by } : {}),
    answeredAt: Date.now(),
  };
  const after = await store.answerApproval(task.id, task.approval.id, stored);
  const first = after.approval?.answer;
  if (first && (first.answeredAt !== stored.answeredAt || first.by !== stored.by || first.approved !== stored.approved)) {
    const was = `request ${after.approval!.id} was already ${first.approved ? 'approved' : 'denied'}${first.by ? ` by ${first.by}` : ''}`;
    throw notWaiting(task.id, after.status, was);
  }
  return after;
}

/** A raise sets at least one field, each a positive number (`invalid_arguments` naming the field otherwise). */
function checkRaise(taskId: string, raise: Budget): void {
  const fields = Object.entries(raise).filter(([, value]) => value !== undefined);
  if (fields.length === 0)
    throw new LegateError('invalid_arguments', `a raise of task "${taskId}"'s budget needs an amount (tokens, usd or seconds)`, { taskId });
  for (const [field, value] of fields) {
    const name = field === 'costUsd' ? 'usd' : field;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (field === 'tokens' && !Number.isInteger(value))) {
      throw new LegateError('invalid_arguments', `--${name} must be a positive ${field === 'tokens' ? 'whole ' : ''}number (got ${JSON.stringify(value)})`, {
        taskId,
        field: name,
      });
    }
  }
}

/** The exact command, or the real path. */
function subjectOf(request: SandboxRequest): string {
  return request.kind === 'exec' || request.kind === 'network' ? request.command : request.path;
}

/** `command "…"`, `write to /path`, … for the child's tool result. */
function describeRequest(request: SandboxRequest): string {
  switch (request.kind) {
    case 'exec':
      return `running command ${JSON.stringify(request.command)} outside the sandbox`;
    case 'network':
      return `network for command ${JSON.stringify(request.command)}`;
    case 'write':
      return `the write to ${request.path}`;
    case 'read':
      return `the read of ${request.path}`;
  }
}

/** Parked, and the parent has not been told of the request it waits on. */
export function awaitsNotice(task: TaskRecord): boolean {
  return task.status === 'input_required' && task.approval !== undefined && task.approvalNoticed !== task.approval.id;
}
