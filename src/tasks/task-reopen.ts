import type { TaskStore } from './store/task-store.js';
import type { TaskRecord } from './task-record.js';

/**
 * An operator's resume of a failed task (`tasks resume`, the dashboard): back to `interrupted`, its
 * end cleared (error, exit reason, end time, summary) and its takeover count reset, so it resumes
 * from its last checkpoint like any interrupted task; unreported again, so its session is told how
 * the new run ends. The store refuses (`illegal_transition`) if it is no longer failed.
 */
export async function reopenFailed(store: TaskStore, task: TaskRecord): Promise<TaskRecord> {
  const reopened = await store.transition(task.id, 'failed', 'interrupted', {
    endedAt: undefined,
    exitReason: undefined,
    error: undefined,
    summary: undefined,
    currentTool: undefined,
    takeovers: 0,
  });
  await store.update(task.id, { reported: false });
  return { ...reopened, reported: false };
}
