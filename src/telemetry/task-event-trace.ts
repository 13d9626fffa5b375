import type { TaskEvent } from '../tasks/task-events.js';
import type { Tracing } from './tracing.js';

/**
 * Steers and approvals are events on the span of the task they reach, where it runs in this
 * process, whichever process made them: a steer when it is queued here (`task.steered`) and, for
 * one queued elsewhere (`legate tasks steer` in another process), when the run takes it from the
 * store (`task.steers_taken`, at the time the record says it was made); noted once per steer.
 * An approval answered elsewhere is read from the store by the waiting run (`task.approval_answered`).
 */
export function traceTaskEvent(tracing: Tracing, event: TaskEvent): void {
  if (event.type === 'task.steered') {
    tracing.noteOn(event.taskId, 'legate.task.steered', { 'legate.steer.id': event.steerId }, { once: `steer:${event.steerId}` });
  } else if (event.type === 'task.steers_taken') {
    for (const steer of event.steers) {
      tracing.noteOn(event.taskId, 'legate.task.steered', { 'legate.steer.id': steer.id }, { once: `steer:${steer.id}`, time: steer.createdAt });
    }
  } else if (event.type === 'task.input_required' && event.task.approval) {
    const { id, kind, mode } = event.task.approval;
    tracing.noteOn(event.task.id, 'legate.approval.requested', { 'legate.approval.id': id, 'legate.approval.kind': kind, 'legate.sandbox.mode': mode });
  } else if (event.type === 'task.approval_answered') {
    tracing.noteOn(event.taskId, 'legate.approval.answered', { 'legate.approval.id': event.approvalId, 'legate.approval.approved': event.approved });
  }
}
