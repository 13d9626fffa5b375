import { LegateError } from '../../../errors.js';
import { assertTransition, canTransition, type TaskStatus } from '../../status.js';
import type { Fence, TaskRecord } from '../../task-record.js';
import { fenceHolds, leaseLost } from '../fence.js';
import { patchFields, type TransitionPatch } from '../task-store.js';
import type { StatementCache } from './sqlite-statements.js';
import { notFound } from './sqlite-task-checks.js';
import { assignments, type TaskRow, taskFromRow } from './sqlite-task-row.js';

/**
 * The conditional UPDATE behind `transition` and `claim`: status in `from` (those from which `to`
 * is legal), owner and epoch when fenced; `extra` are further SET clauses. When nothing changed,
 * throws saying why, from the row as it is now (`task_not_found`, `illegal_transition`, `lease_lost`).
 * Pending batched writes of the task must be committed first (the caller's job).
 */
export function moveTask(
  statements: StatementCache,
  id: string,
  from: TaskStatus | readonly TaskStatus[],
  to: TaskStatus,
  patch: TransitionPatch,
  extra: string[],
  fence?: Fence,
): TaskRecord {
  const expected: readonly TaskStatus[] = typeof from === 'string' ? [from] : from;
  // Only states from which `to` is a legal move go into the condition.
  const legalFrom = expected.filter((status) => canTransition(status, to));
  if (legalFrom.length > 0) {
    const set = assignments(patch, patchFields);
    const params: TaskRow = { ...set.params, id, to };
    legalFrom.forEach((status, index) => (params[`from${index}`] = status));
    const conditions = [`id = @id`, `status IN (${legalFrom.map((_, index) => `@from${index}`).join(', ')})`];
    if (fence) {
      conditions.push('owner = @fenceOwner', 'coalesce(epoch, 0) = @fenceEpoch');
      Object.assign(params, { fenceOwner: fence.owner, fenceEpoch: fence.epoch });
    }
    const row = statements
      .get(`UPDATE tasks SET ${['status = @to', ...set.sql, ...extra].join(', ')} WHERE ${conditions.join(' AND ')} RETURNING *`)
      .get(params);
    if (row) return taskFromRow(row);
  }
  // Nothing changed: say why, from the row as it is now.
  const current = statements.get('SELECT * FROM tasks WHERE id = ?').get(id);
  if (!current) throw notFound(id);
  const status = current.status as TaskStatus;
  if (!expected.includes(status)) {
    throw new LegateError('illegal_transition', `task "${id}" is ${status}, not ${expected.join(' or ')}`, { taskId: id, from: status, to });
  }
  assertTransition(id, status, to);
  const held = { status, owner: (current.owner ?? undefined) as string | undefined, epoch: (current.epoch ?? 0) as number };
  if (!fenceHolds(held, fence)) throw leaseLost(id, fence!, held);
  // Another process moved it into `expected` between the update and this read.
  throw new LegateError('illegal_transition', `task "${id}" was not ${expected.join(' or ')} when asked to become ${to} (it is ${status} now)`, {
    taskId: id,
    from: status,
    to,
  });
}
