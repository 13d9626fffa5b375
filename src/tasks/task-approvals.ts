import { errorMessage, LegateError } from '../errors.js';
import type { ApprovalAnswer, ApprovalGate, ApprovalRequest } from '../sandbox/approval-gate.js';
import type { SandboxRequest } from '../sandbox/policy.js';
import { notWaiting } from './store/approval-rules.js';
import type { TaskStore } from './store/task-store.js';
import type { TaskEvent } from './task-events.js';
import type { Fence, PendingApproval, StoredApprovalAnswer, TaskRecord } from './task-record.js';

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
}

/**
 * The `ApprovalGate` of a background child's run: a call the policy answered `ask` parks the task
 * (`running → input_required`, fenced, the request in `TaskRecord.approval`; its lease keeps being
 * renewed), announces `task.input_required`, waits for the answer stored by a human from any
 * process (or for the timeout, stored as a denial), then resumes it (`input_required → running`).
 * Requests of one run are asked one at a time. Never throws: a failure to park, a cancel or a
 * hand-back while waiting is a refusal.
 */
export function parkingGate(options: ParkingOptions): ApprovalGate {
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

  const ask = async (request: ApprovalRequest, callSignal: AbortSignal | undefined): Promise<ApprovalAnswer> => {
    const signal = callSignal ? AbortSignal.any([options.signal, callSignal]) : options.signal;
    const what = describeRequest(request.request);
    if (signal.aborted) return { approved: false, reason: `${what} was not asked for: the task was stopping` };
    const approval: PendingApproval = {
      id: `${fence.epoch}.${++asked}`,
      kind: request.request.kind,
      subject: subjectOf(request.request),
      mode: request.mode,
      reason: request.reason,
      requestedAt: Date.now(),
    };
    let parked: TaskRecord;
    try {
      parked = await store.transition(taskId, 'running', 'input_required', { approval }, fence);
    } catch (error) {
      return { approved: false, reason: `${request.reason} (no approval could be asked for: ${errorMessage(error)})` };
    }
    options.note(`⏸ waiting for approval ${approval.id}: ${request.reason}`);
    options.announce({ type: 'task.input_required', task: parked });
    const answer = await waitForAnswer(approval, signal);
    if (!answer) {
      // A hand-back leaves it input_required, to be interrupted as it is; otherwise (a child
      // timeout) it runs again, so that its end is written from running.
      if (!options.handingBack()) await store.transition(taskId, 'input_required', 'running', {}, fence).catch(() => undefined);
      return { approved: false, reason: `${what} was not approved: the task stopped while waiting for the answer` };
    }
    try {
      await store.transition(taskId, 'input_required', 'running', {}, fence);
    } catch (error) {
      return { approved: false, reason: `${what} was not run: the task no longer waits for it (${errorMessage(error)})` };
    }
    options.announce({ type: 'task.approval_answered', taskId, sessionId: parked.sessionId, approvalId: approval.id, approved: answer.approved });
    const by = answer.by ? ` by ${answer.by}` : '';
    if (answer.approved) {
      options.note(`▶ approved${by}: ${what} runs once`);
      return { approved: true };
    }
    options.note(`▶ denied${by}: ${answer.reason}`);
    return { approved: false, reason: `${what} was denied${by}: ${answer.reason}` };
  };

  return {
    request(request, signal) {
      const turn = queue.then(() => ask(request, signal));
      queue = turn.catch(() => undefined); // the next request waits for this one's turn, not for its outcome
      return turn;
    },
  };
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
  const stored: StoredApprovalAnswer = {
    ...(answer.approved ? { approved: true as const } : { approved: false as const, reason }),
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
