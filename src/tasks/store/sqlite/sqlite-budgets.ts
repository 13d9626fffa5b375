import type { Budget, SpendCounter } from '../../../budget/budget.js';
import type { Fence, TaskRecord } from '../../task-record.js';
import { addCharge, chargeDelta, latestCharge, maxChargeDepth, withRaise } from '../budget-charges.js';
import { fenceHolds, leaseLost } from '../fence.js';
import type { StatementCache } from './sqlite-statements.js';
import { notFound } from './sqlite-task-checks.js';
import { type TaskRow, taskFromRow } from './sqlite-task-row.js';

/**
 * The budget counters of the SQLite store (`TaskStore.chargeSpend`, `raiseBudget`). They have no
 * column: they live in `extra` (the JSON object of record fields without one), each read and set
 * (`json_set`, one field) in one immediate transaction over the task and its ancestors, so two
 * processes charging siblings at once both count.
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
      setField(statements, id, 'ownSpend', latestCharge(task.record.ownSpend, own));
      const seen = new Set<string>();
      for (let at: Read | undefined = task; at && !seen.has(at.record.id) && seen.size < maxChargeDepth; at = read(statements, at.record.sessionId)) {
        seen.add(at.record.id);
        setField(statements, at.record.id, 'spend', addCharge(at.record.spend, delta));
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
      const budgetRaises = withRaise(task.record.budgetRaises, key, by);
      setField(statements, id, 'budgetRaises', budgetRaises);
      return { ...task.record, budgetRaises };
    })
    .immediate();
}

interface Read {
  record: TaskRecord;
}

function read(statements: StatementCache, id: string): Read | undefined {
  const row = statements.get('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
  return row ? { record: taskFromRow(row) } : undefined;
}

/** Set one field of `extra` (the JSON of record fields without a column), leaving the others as they are. */
function setField(statements: StatementCache, id: string, field: 'spend' | 'ownSpend' | 'budgetRaises', value: unknown): void {
  statements.get(`UPDATE tasks SET extra = json_set(COALESCE(extra, '{}'), '$.${field}', json(?)) WHERE id = ?`).run(JSON.stringify(value), id);
}
