import type { TaskFilter } from '../task-store.js';
import type { TaskRow } from './sqlite-task-row.js';

/** `WHERE …` and its parameters for a task filter (its limit aside). */
export function whereClause(filter: Omit<TaskFilter, 'limit'>): { where: string; params: TaskRow } {
  const conditions: string[] = [];
  const params: TaskRow = {};
  if (filter.sessionId !== undefined) {
    conditions.push('session_id = @sessionId');
    params.sessionId = filter.sessionId;
  }
  if (filter.status) {
    conditions.push(`status IN (${filter.status.map((_, index) => `@status${index}`).join(', ') || 'NULL'})`);
    filter.status.forEach((status, index) => (params[`status${index}`] = status));
  }
  if (filter.cwd !== undefined) {
    conditions.push('cwd = @cwd');
    params.cwd = filter.cwd;
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params };
}
