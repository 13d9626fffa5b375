import type { TaskEvent } from '../tasks/task-events.js';
import type { Tracing } from './tracing.js';

/** Approvals are events on the span of the task they stop, where it runs in this process. */
export function traceTaskEvent(tracing: Tracing, event: TaskEvent): void {
  if (event.type === 'task.input_required' && event.task.approval) {
    const { id, kind, mode } = event.task.approval;
    tracing.noteOn(event.task.id, 'legate.approval.requested', { 'legate.approval.id': id, 'legate.approval.kind': kind, 'legate.sandbox.mode': mode });
  } else if (event.type === 'task.approval_answered') {
    tracing.noteOn(event.taskId, 'legate.approval.answered', { 'legate.approval.id': event.approvalId, 'legate.approval.approved': event.approved });
  }
}
