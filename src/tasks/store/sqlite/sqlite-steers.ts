import type { Fence, SteerRecord } from '../../task-record.js';
import type { StatementCache } from './sqlite-statements.js';
import { requireTask } from './sqlite-task-checks.js';
import { steerFromRow } from './sqlite-task-row.js';

/** Marks every queued steer of the task settled (`delivered` or `missed`), atomically; returns them in order. */
export function settleSteers(statements: StatementCache, taskId: string, state: 'delivered' | 'missed', fence?: Fence): SteerRecord[] {
  // Called before every model call and almost always empty: look before taking the write lock.
  if (!statements.get(`SELECT 1 FROM task_steers WHERE task_id = ? AND state = 'queued' LIMIT 1`).get(taskId)) {
    requireTask(statements, taskId, fence);
    return [];
  }
  return statements.db
    .transaction(() => {
      requireTask(statements, taskId, fence);
      const rows = statements
        .get(`UPDATE task_steers SET state = ?, settled_at = ? WHERE task_id = ? AND state = 'queued' RETURNING *`)
        .all(state, Date.now(), taskId);
      return rows.map(steerFromRow).sort((a, b) => a.id - b.id);
    })
    .immediate();
}
