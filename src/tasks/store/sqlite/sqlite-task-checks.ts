import { LegateError, quoted } from '../../../errors.js';
import type { TaskStatus } from '../../status.js';
import type { Fence } from '../../task-record.js';
import { fenceHolds, leaseLost } from '../fence.js';
import type { StatementCache } from './sqlite-statements.js';

/** The `task_not_found` error for a task id with no row. */
export function notFound(id: string): LegateError {
  return new LegateError('task_not_found', `no task ${quoted(id)}`, { taskId: id });
}

/** Throws `task_not_found`, or `lease_lost` when `fence` does not hold. */
export function requireTask(statements: StatementCache, id: string, fence?: Fence): void {
  const row = statements.get('SELECT status, owner, epoch FROM tasks WHERE id = ?').get(id);
  if (!row) throw notFound(id);
  const current = { status: row.status as TaskStatus, owner: (row.owner ?? undefined) as string | undefined, epoch: (row.epoch ?? 0) as number };
  if (!fenceHolds(current, fence)) throw leaseLost(id, fence!, current);
}
