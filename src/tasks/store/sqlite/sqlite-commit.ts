import type { TaskStatus } from '../../status.js';
import { fenceHolds, leaseLost } from '../fence.js';
import { storedFormat } from '../stored-shapes.js';
import { outputBufferLines, progressFields } from '../task-store.js';
import type { StatementCache } from './sqlite-statements.js';
import { notFound } from './sqlite-task-checks.js';
import { assignments } from './sqlite-task-row.js';
import type { TaskWrites } from './sqlite-write-batch.js';

/**
 * One group commit (run inside the batch's transaction): per task, its counters and progress in one
 * UPDATE, its new output lines, the trim, its checkpoints. A task that does not exist, or whose
 * fence does not hold, gets nothing written and is returned as refused (with the error to give).
 */
export function commitWrites(statements: StatementCache, batch: Map<string, TaskWrites>): Map<string, unknown> {
  const refused = new Map<string, unknown>();
  for (const [id, writes] of batch) {
    let { lines } = writes;
    if (writes.fence || writes.at !== undefined) {
      const row = statements.get('SELECT status, owner, epoch, output_lines FROM tasks WHERE id = ?').get(id);
      if (!row) {
        refused.set(id, notFound(id));
        continue;
      }
      const current = { status: row.status as TaskStatus, owner: (row.owner ?? undefined) as string | undefined, epoch: (row.epoch ?? 0) as number };
      if (!fenceHolds(current, writes.fence)) {
        refused.set(id, leaseLost(id, writes.fence!, current));
        continue;
      }
      // Lines already counted past `at` came from an earlier copy of this write.
      if (writes.at !== undefined) lines = lines.slice(Math.max(0, (row.output_lines as number) - writes.at));
    }
    const set = assignments(writes.progress, progressFields);
    let total = 0;
    if (lines.length > 0 || set.sql.length > 0) {
      const counted = statements
        .get(`UPDATE tasks SET ${['output_lines = output_lines + @count', ...set.sql].join(', ')} WHERE id = @id RETURNING output_lines`)
        .get({ ...set.params, count: lines.length, id });
      if (!counted) {
        refused.set(id, notFound(id));
        continue;
      }
      total = counted.output_lines as number;
    } else if (!statements.get('SELECT 1 FROM tasks WHERE id = ?').get(id)) {
      refused.set(id, notFound(id));
      continue;
    }
    if (lines.length > 0) {
      const insert = statements.get('INSERT INTO task_output (task_id, seq, line) VALUES (?, ?, ?)');
      // Lines that would be trimmed at once are never written.
      for (let index = Math.max(0, lines.length - outputBufferLines); index < lines.length; index++)
        insert.run(id, total - lines.length + index, lines[index]!);
      if (total > outputBufferLines) statements.get('DELETE FROM task_output WHERE task_id = ? AND seq < ?').run(id, total - outputBufferLines);
    }
    const checkpoint = statements.get(
      'INSERT INTO task_checkpoints (task_id, step, iteration, format, messages, compaction) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    for (const step of writes.checkpoints) checkpoint.run(id, step.step, step.iteration, storedFormat, step.messages, step.compaction);
  }
  return refused;
}
