import type { Budget, SpendCounter } from '../../../budget/budget.js';
import type { Fence, TaskRecord } from '../../task-record.js';
import { addCharge, chargeDelta, latestCharge, maxChargeDepth, withRaise } from '../budget-charges.js';
import { fenceHolds, leaseLost } from '../fence.js';
import type { StatementCache } from './sqlite-statements.js';
import { notFound } from './sqlite-task-checks.js';
import { type TaskRow, taskFromRow } from './sqlite-task-row.js';

/**
 * The budget counters of the SQLite store (`TaskStore.chargeSpend`, `raiseBudget`). They have no
 * column: they live in `extra` (the JSON object of record fields without one), read and written
 * back in one immediate transaction, so two processes charging siblings at once both count.
 */

/** Charge `own` to task `id` and every ancestor, in one transaction (see `TaskStore.chargeSpend`). */
export function chargeSpend(statements: StatementCache, id: string, own: SpendCounter, fence?: Fence): void {
  statements.db
    .transaction(() => {
      const task = read(statements, id);
      if (!task) throw notFound(id);
      if (!fenceHolds(task.record, fence)) throw leaseLost(id, fence!, task.record);
      const delta = chargeDelta(task.record.ownSpend, own);
      if (!delta) return;
      task.extra.ownSpend = latestCharge(task.record.ownSpend, own);
      const seen = new Set<string>();
      for (let at: Read | undefined = task; at && !seen.has(at.record.id) && seen.size < maxChargeDepth; at = read(statements, at.record.sessionId)) {
        seen.add(at.record.id);
        at.extra.spend = addCharge(at.record.spend, delta);
        write(statements, at);
      }
    })
    .immediate();
}

/** Add `by` to task `id`'s budget once per `key`, in one transaction; the record as it is then. */
export function raiseBudget(statements: StatementCache, id: string, key: string, by: Budget): TaskRecord {
  return statements.db
    .transaction(() => {
      const task = read(statements, id);
      if (!task) throw notFound(id);
      task.extra.budgetRaises = withRaise(task.record.budgetRaises, key, by);
      write(statements, task);
      return { ...task.record, budgetRaises: task.extra.budgetRaises as Record<string, Budget> };
    })
    .immediate();
}

interface Read {
  record: TaskRecord;
  /** The row's `extra` object, to be changed and written back. */
  extra: Record<string, unknown>;
}

function read(statements: StatementCache, id: string): Read | undefined {
  const row = statements.get('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
  if (!row) return undefined;
  const record = taskFromRow(row);
  return { record, extra: typeof row.extra === 'string' ? (JSON.parse(row.extra) as Record<string, unknown>) : {} };
}

function write(statements: StatementCache, task: Read): void {
  statements.get('UPDATE tasks SET extra = ? WHERE id = ?').run(JSON.stringify(task.extra), task.record.id);
}
